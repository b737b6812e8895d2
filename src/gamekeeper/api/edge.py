"""What every request is checked for before a handler sees it.

- No control character in the path or the query string, and none but a tab in a header: no
  identifier, cursor or search term holds one, and PostgreSQL refuses NUL in text.
- No NUL in a JSON string (``\\u0000``) or key, nor in a form field or file name.
- JSON nested at most ``MAX_DEPTH`` levels: decoders recurse once per level, and a body nested
  a thousand deep is a ``RecursionError``.
- No JSON integer outside the signed 64-bit range, the widest column SQLite and PostgreSQL hold.
- A route that reads JSON gets it from a body that says so (``application/json`` or
  ``…+json``): a cross-site ``text/plain`` or form POST needs no CORS preflight, a JSON one does.

``check_connection`` is an app guard, after the per-address rate limit and before any guard
that authenticates. ``check_body`` is the app's
``before_request`` hook (no router or handler may set its own: Litestar runs only the
innermost): it runs after the guards, so a body is read only once its sender is authenticated,
and before Litestar parses it. Both raise inside Litestar, so a refusal is rendered in the
route's dialect. An ordinary JSON body is passed by a few byte scans in C (``check_json``);
only one holding many brackets, a ``\\u0000`` or a 19-digit run is decoded and walked. Routes
that read the body themselves (``bodies.read_json``, OGP's form reader) call
``bodies.require_json``; the cast WebSocket gateway checks each frame with ``check_json``.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl

import msgspec
from litestar import Request
from litestar.connection import ASGIConnection
from litestar.datastructures import FormMultiDict, UploadFile
from litestar.enums import ScopeType
from litestar.handlers import BaseRouteHandler

from gamekeeper.api.bodies import is_json, reads_json, require_json
from gamekeeper.core.errors import InvalidInput

__all__ = [
    "INT64_MAX",
    "INT64_MIN",
    "MAX_DEPTH",
    "check_body",
    "check_connection",
    "check_json",
    "decode_json",
]

MAX_DEPTH = 32
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1

AnyRequest = Request[Any, Any, Any]
Connection = ASGIConnection[Any, Any, Any, Any]

_PATH_CONTROL = re.compile(r"[\x00-\x1f\x7f]").search
_QUERY_CONTROL = re.compile(rb"%(?:[01][0-9a-f]|7f)|[\x00-\x1f\x7f]", re.IGNORECASE).search
_HEADER_CONTROL = re.compile(rb"[\x00-\x08\x0a-\x1f\x7f]").search
# Digits made zeros, so that a run of 19 (a number beyond 64 bits) is a substring search in C.
_ZEROS = bytes.maketrans(b"123456789", b"000000000")
_LONG_RUN = b"0" * 19
_CONTAINERS = (dict, list)
_FORM = b"application/x-www-form-urlencoded"
_MULTIPART = b"multipart/form-data"
_NUL = "may not contain NUL (U+0000) characters"
_TOO_DEEP = f"The JSON is nested more than {MAX_DEPTH} levels deep"
_TOO_BIG = "Integers must fit in 64 bits (-2^63 to 2^63 - 1)"


async def check_connection(connection: Connection, _: BaseRouteHandler) -> None:
    """An app guard, ahead of those that authenticate: no control character in the path, the
    query string or a header value (a tab aside) reaches a guard, a handler or the database.

    HTTP only: the cast gateway reads nothing from its handshake but frames, each checked.
    """
    scope = connection.scope
    if scope["type"] != ScopeType.HTTP:
        return
    if _PATH_CONTROL(scope["path"]):
        raise InvalidInput("The path may not contain control characters", code="invalid_characters")
    query: bytes = scope.get("query_string", b"")
    if query and _QUERY_CONTROL(query):
        raise InvalidInput(_query_problem(query), code="invalid_characters")
    for name, value in scope["headers"]:
        if _HEADER_CONTROL(value):
            header = name.decode("latin-1")
            raise InvalidInput(
                f"The {header} header may not contain control characters",
                code="invalid_characters",
            )


async def check_body(request: AnyRequest) -> None:
    """The app's ``before_request`` hook: the media type a route reads, and the body's text,
    depth and numbers; InvalidInput or UnsupportedMediaType, or nothing."""
    content_type: bytes | None = None
    has_body = False
    for name, value in request.scope["headers"]:
        if name == b"content-type":
            content_type = value
        elif name == b"content-length":
            has_body = has_body or value.strip() not in (b"", b"0")
        elif name == b"transfer-encoding":
            has_body = True
    media = (content_type or b"").split(b";", 1)[0].strip().lower()
    if reads_json(request.route_handler) and (content_type or has_body) and not is_json(media):
        require_json(request)
    if not has_body:
        return
    if is_json(media):
        check_json(await request.body())
    elif media == _FORM:
        _check_urlencoded(await request.body())
    elif media == _MULTIPART:
        _check_form(await request.form())


def check_json(body: bytes) -> None:
    """InvalidInput if ``body`` is JSON nested too deep, holding a NUL or a too large integer.

    A body that is not JSON passes: its reader refuses it in its own words.
    """
    many_brackets = body.count(b"[") + body.count(b"{") > MAX_DEPTH
    nul = b"\\u0000" in body  # or an escaped backslash before "u0000": the walk tells
    long_number = _LONG_RUN in body.translate(_ZEROS)
    if not (many_brackets or nul or long_number):
        return  # the common case, decided in C
    try:
        value = msgspec.json.decode(body)
    except RecursionError:
        raise InvalidInput(_TOO_DEEP, code="invalid_body") from None
    except msgspec.DecodeError:
        return
    if not (nul or long_number):
        if not _shallow(value):  # only containers are visited: a wide body costs little
            raise InvalidInput(_TOO_DEEP, code="invalid_body")
        return
    try:
        _walk(value, 1)
    except _Refused as refused:
        raise InvalidInput(refused.message(), code="invalid_body") from None


def decode_json(data: str | bytes) -> Any:
    """JSON found inside another body (a form field), with the same checks as a JSON body.

    msgspec.DecodeError (a ValueError) if it is not JSON.
    """
    raw = data.encode() if isinstance(data, str) else data
    check_json(raw)
    return msgspec.json.decode(raw)


class _Refused(Exception):
    def __init__(self, problem: str) -> None:
        self.problem = problem
        self.path: list[str | int] = []  # innermost first

    def message(self) -> str:
        where = "".join(
            f"[{part}]" if isinstance(part, int) else f".{part}" for part in reversed(self.path)
        ).removeprefix(".")
        return f"{where}: {self.problem}" if where else self.problem


def _shallow(value: Any) -> bool:
    """Whether ``value`` is nested at most MAX_DEPTH levels, looked at one level at a time."""
    level = [value] if isinstance(value, _CONTAINERS) else []
    for _ in range(MAX_DEPTH):
        if not level:
            return True
        level = [
            child
            for node in level
            for child in (node.values() if isinstance(node, dict) else node)
            if isinstance(child, _CONTAINERS)
        ]
    return not level


def _walk(value: Any, level: int) -> None:
    """Recursion bounded by MAX_DEPTH: deeper is refused before it is entered."""
    if isinstance(value, str):
        if "\x00" in value:
            raise _Refused("Text " + _NUL)
    elif isinstance(value, int):
        if not INT64_MIN <= value <= INT64_MAX:
            raise _Refused(_TOO_BIG)
    elif isinstance(value, _CONTAINERS):
        if level > MAX_DEPTH:
            raise InvalidInput(_TOO_DEEP, code="invalid_body")
        items = value.items() if isinstance(value, dict) else enumerate(value)
        for key, item in items:
            try:
                if isinstance(key, str) and "\x00" in key:
                    raise _Refused("Names " + _NUL)
                _walk(item, level + 1)
            except _Refused as refused:
                refused.path.append(key)
                raise


def _query_problem(query: bytes) -> str:
    for name, value in parse_qsl(query.decode("latin-1"), keep_blank_values=True):
        if _PATH_CONTROL(value) and not _PATH_CONTROL(name):
            return f"The query parameter {name} may not contain control characters"
    return "The query string may not contain control characters"


def _check_urlencoded(body: bytes) -> None:
    if b"%00" not in body and b"\x00" not in body:
        return
    for name, value in parse_qsl(body.decode("latin-1"), keep_blank_values=True):
        if "\x00" in name or "\x00" in value:
            raise InvalidInput(f"{name.replace(chr(0), '')}: Text {_NUL}", code="invalid_body")


def _check_form(form: FormMultiDict) -> None:
    for name, value in form.multi_items():
        text = value.filename if isinstance(value, UploadFile) else value
        if "\x00" in name or (isinstance(text, str) and "\x00" in text):
            field = name.replace("\x00", "")
            raise InvalidInput(f"{field}: Text {_NUL}", code="invalid_body")
