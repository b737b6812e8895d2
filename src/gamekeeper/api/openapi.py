"""The OpenAPI document, told from the routes themselves, and the offline docs page.

Litestar documents what it sees: a ``data`` parameter, path and query parameters, the declared
``security``. It does not see what a dialect reads by hand, nor how a dialect's errors look.
``document`` adds both, from the route's own metadata, so each fact has one source:

- a body read by a ``body_first`` reader is the Struct that reader returns; a route that reads
  its body inside the handler names its Struct in ``opt["body"]`` (``opt["form"]`` if it also
  takes multipart);
- a route that names no ``security`` gets the scheme of its authenticating guard;
- errors are the envelope Struct of the route's dialect, named once on its router as
  ``opt["envelope"]`` beside the renderer that builds it (``ErrorOut`` elsewhere); the
  statuses follow from the route: 400 and 404 with input (path, query or body), 401/403 with
  a credential, 409 on writes, 413/415 with a JSON body, 429 where rate limits apply, plus
  those a guard answers and any in ``opt["errors"]``.

The Swagger UI's scripts and stylesheet are served from the package (``swagger-ui-bundle-v2``),
so ``/docs`` works without internet access.
"""

from __future__ import annotations

import copy
import typing
from http import HTTPStatus
from typing import Any

import msgspec
from litestar import Litestar, Request, Router
from litestar.datastructures import CacheControlHeader
from litestar.handlers import HTTPRouteHandler
from litestar.openapi.plugins import JsonRenderPlugin, SwaggerRenderPlugin
from litestar.openapi.spec import Reference, SecurityScheme
from litestar.routes import HTTPRoute
from litestar.serialization import encode_json
from litestar.static_files import create_static_files_router
from swagger_ui_bundle import swagger_ui_path

from gamekeeper.api.guards import (
    refuse_browsers,
    refuse_locked_out,
    require_admin,
    require_hmac,
    require_player,
)
from gamekeeper.core.identity import hmac_auth

ASSETS_PATH = "/static/swagger-ui"
_REF = "#/components/schemas/{name}"
# The credential a guard checks, for routes that do not name their ``security``; a dialect adds
# its own guards in its router's ``opt["guard_schemes"]``.
_GUARD_SCHEMES: dict[Any, str] = {
    require_admin: "adminToken",
    require_hmac: "developerHmac",
    require_player: "playerSession",
}
# What a guard itself may answer, beside the errors of its scheme.
_GUARD_ERRORS: dict[Any, set[int]] = {refuse_browsers: {403}, refuse_locked_out: {401}}
_WRITES = frozenset({"post", "put", "patch", "delete"})
_DESCRIPTIONS = {
    400: "The input is not valid: the message names the field and the problem",
    401: "The credential is missing, wrong or expired",
    403: "The credential may not do this",
    404: "Not found (or not yours: another owner's objects are not found)",
    409: "Conflicts with the current state",
    413: "The body is larger than this route accepts",
    415: "The body must be JSON (Content-Type: application/json)",
    429: "Too many requests, or too many failed authentications from this address; "
    "Retry-After says when to try again",
}


class ErrorDetail(msgspec.Struct):
    code: str  # stable, e.g. invalid_body, missing_auth, not_found
    message: str
    status: int


class ErrorOut(msgspec.Struct):
    """The default envelope (admin API, OGS, media): ``api.errors.default_envelope``."""

    error: ErrorDetail


def security_schemes() -> dict[str, SecurityScheme | Reference]:
    """The credentials routes name in ``security``."""
    example = hmac_auth.string_to_sign("GET", "/user/me", "1735689600")
    return {
        "adminToken": SecurityScheme(
            type="http", scheme="bearer", description="The admin token printed at first start."
        ),
        "gameKey": SecurityScheme(
            type="http",
            scheme="bearer",
            description="A game's API key (created with the admin API or `gamekeeper admin`).",
        ),
        "playerSession": SecurityScheme(
            type="http",
            scheme="bearer",
            bearer_format="JWT",
            description="A player's access token from sign-in or refresh.",
        ),
        "clientToken": SecurityScheme(
            type="http",
            scheme="bearer",
            description="A BattlePlace client token from `POST /v1a/client/auth`.",
        ),
        "developerHmac": SecurityScheme(
            type="apiKey",
            name="Authorization",
            security_scheme_in="header",
            description=(
                f"`{hmac_auth.SCHEME} apiKey=<developer id>, signature=<hex>, "
                "timestamp=<unix time in seconds or milliseconds>`.\n\n"
                "The signature is the lower-case hex HMAC-SHA256, keyed with the developer's "
                "secret, of the string `<method>\\n<path>\\n<timestamp>`: method and path in "
                "lower case, the path without its query string, `\\n` a line feed. Signing "
                f"`GET /user/me` at 1735689600 signs `{example!r}`. The timestamp must be "
                f"within {hmac_auth.WINDOW_SECONDS} seconds of the server's clock."
            ),
        ),
    }


def document(app: Litestar) -> dict[str, Any]:
    """The application's OpenAPI document, built once."""
    cached: dict[str, Any] | None = getattr(app.state, "openapi_document", None)
    if cached is None:
        cached = _build(app)
        app.state.openapi_document = cached
    return cached


def _build(app: Litestar) -> dict[str, Any]:
    doc: dict[str, Any] = copy.deepcopy(app.openapi_schema.to_schema())
    components: dict[str, Any] = doc.setdefault("components", {}).setdefault("schemas", {})
    routes = [r for r in app.routes if isinstance(r, HTTPRoute)]
    handlers = [
        (route.path_format or "/", method.lower(), handler)
        for route in routes
        for method, (handler, _) in route.route_handler_map.items()
        if handler.resolve_include_in_schema() and method != "OPTIONS"
    ]
    types: list[Any] = [ErrorOut]
    for _, _, handler in handlers:
        types.extend(t for t in (_envelope(handler), _body(handler)) if t is not None)
    refs = _add_components(components, types)
    for path, method, handler in handlers:
        operation = doc["paths"].get(path, {}).get(method)
        if operation is None:
            continue
        body = _body(handler)
        if body is not None and "requestBody" not in operation:
            operation["requestBody"] = _request_body(refs[body], handler.opt.get("form", False))
        if not operation.get("security") and (schemes := _schemes(handler)):
            operation["security"] = [{scheme: []} for scheme in schemes]
        envelope = refs[_envelope(handler) or ErrorOut]
        responses = operation.setdefault("responses", {})
        for status in sorted(_error_statuses(path, method, operation, handler)):
            responses[str(status)] = _error_response(status, envelope)
    return doc


def _envelope(handler: HTTPRouteHandler) -> type[msgspec.Struct] | None:
    envelope: type[msgspec.Struct] | None = handler.opt.get("envelope")
    return envelope


def _schemes(handler: HTTPRouteHandler) -> list[str]:
    known = {**_GUARD_SCHEMES, **handler.opt.get("guard_schemes", {})}
    return [known[guard] for guard in handler.resolve_guards() if guard in known]


def _body(handler: HTTPRouteHandler) -> Any:
    """The Struct a route reads its body into, when Litestar cannot see it."""
    if "body" in handler.opt:
        return handler.opt["body"]
    payload = handler.resolve_dependencies().get("payload")
    if payload is None:
        return None
    returned = typing.get_type_hints(payload.dependency).get("return")
    is_struct = isinstance(returned, type) and issubclass(returned, msgspec.Struct)
    return returned if is_struct else None


def _add_components(components: dict[str, Any], types: list[Any]) -> dict[Any, dict[str, str]]:
    """msgspec's schemas of ``types`` as components; each type's reference.

    A name Litestar already gave another schema is kept for Litestar's: ours is renamed.
    """
    unique = list(dict.fromkeys(types))
    refs, schemas = msgspec.json.schema_components(unique, ref_template=_REF)
    taken = {n for n, s in schemas.items() if components.get(n, s) != s}
    renamed = {n: _free_name(n, components, schemas) for n in taken}
    for name, schema in schemas.items():
        components[renamed.get(name, name)] = _renamed_refs(schema, renamed)
    return {t: _renamed_refs(r, renamed) for t, r in zip(unique, refs, strict=True)}


def _free_name(name: str, *namespaces: dict[str, Any]) -> str:
    number = 2
    while any(f"{name}{number}" in names for names in namespaces):
        number += 1
    return f"{name}{number}"


def _renamed_refs(value: Any, renamed: dict[str, str]) -> Any:
    if isinstance(value, dict):
        ref = value.get("$ref")
        if isinstance(ref, str) and ref.rpartition("/")[2] in renamed:
            return {**value, "$ref": _REF.format(name=renamed[ref.rpartition("/")[2]])}
        return {k: _renamed_refs(v, renamed) for k, v in value.items()}
    if isinstance(value, list):
        return [_renamed_refs(v, renamed) for v in value]
    return value


def _request_body(ref: dict[str, str], form: bool) -> dict[str, Any]:
    content: dict[str, Any] = {"application/json": {"schema": ref}}
    if form:
        # Every field as text (the OGP Node client's FormData), images as files.
        content["multipart/form-data"] = {
            "schema": {
                "type": "object",
                "additionalProperties": {"type": "string"},
                "properties": {
                    "image": {"type": "string", "contentMediaType": "application/octet-stream"},
                    "coverImage": {
                        "type": "string",
                        "contentMediaType": "application/octet-stream",
                    },
                },
            }
        }
    return {"required": True, "content": content}


def _error_statuses(
    path: str, method: str, operation: dict[str, Any], handler: HTTPRouteHandler
) -> set[int]:
    statuses = {int(s) for s in operation.get("responses", {}) if s.startswith("4")}
    body = operation.get("requestBody")
    if body is not None or operation.get("parameters"):
        statuses.add(400)
    if body is not None:
        statuses.add(413)
        if "application/json" in body.get("content", {}):
            statuses.add(415)
    if operation.get("security"):
        statuses |= {401, 403}
    if "{" in path or 400 in statuses:
        statuses.add(404)  # what the path or the input names may not exist
    if method in _WRITES:
        statuses.add(409)
    if handler.opt.get("rate_limit", True):
        statuses.add(429)
    for guard in handler.resolve_guards():
        statuses |= _GUARD_ERRORS.get(guard, set())
    statuses.update(handler.opt.get("errors", ()))
    return statuses


def _error_response(status: int, envelope: dict[str, str]) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": _DESCRIPTIONS.get(status, HTTPStatus(status).description),
        "content": {"application/json": {"schema": envelope}},
    }
    if status == 429:
        response["headers"] = {
            "Retry-After": {
                "description": "Seconds until a request may succeed",
                "schema": {"type": "integer"},
            }
        }
    return response


class DocumentJson(JsonRenderPlugin):
    """``/docs/openapi.json``: the same document as ``/openapi.json``."""

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        return encode_json(document(request.app))


class OfflineSwagger(SwaggerRenderPlugin):
    """The Swagger UI on the full document, its assets served by this server."""

    def __init__(self) -> None:
        super().__init__(
            js_url=f"{ASSETS_PATH}/swagger-ui-bundle.js",
            css_url=f"{ASSETS_PATH}/swagger-ui.css",
            standalone_preset_js_url=f"{ASSETS_PATH}/swagger-ui-standalone-preset.js",
            favicon=f"<link rel='icon' type='image/png' href='{ASSETS_PATH}/favicon-32x32.png'>",
            path="/",
        )

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        return super().render(request, document(request.app))


def swagger_assets() -> Router:
    """The Swagger UI's files, from the ``swagger-ui-bundle`` package (no CDN)."""
    return create_static_files_router(
        path=ASSETS_PATH,
        directories=[swagger_ui_path],
        name="swagger_ui",
        cache_control=CacheControlHeader(max_age=86400, public=True),
        include_in_schema=False,
        opt={"rate_limit": False},
    )
