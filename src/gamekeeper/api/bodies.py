"""JSON request bodies decoded strictly: ``"30"`` is not a number, ``10.0`` not an integer.

Litestar's own decoding converts leniently; the dialects that must refuse such values read the
body through ``read_json`` and answer a ``field: problem`` message in their own envelope.
``data_refused`` tells, before a transaction begins, whether Litestar will refuse ``data``;
``reads_json`` whether a handler takes its ``data`` as JSON, which ``require_json`` then asks
of the request (``api/edge.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar
from weakref import WeakKeyDictionary

import msgspec
from litestar import Request
from litestar.enums import RequestEncodingType
from litestar.exceptions import HTTPException
from litestar.handlers import BaseRouteHandler
from litestar.params import BodyKwarg

from gamekeeper.core.errors import InvalidInput

T = TypeVar("T")


class UnsupportedMediaType(HTTPException):
    status_code = 415


def is_json(media_type: str | bytes) -> bool:
    """``application/json`` or an ``application/…+json`` type; parameters (a charset) aside."""
    value = media_type.decode("latin-1") if isinstance(media_type, bytes) else media_type
    value = value.split(";", 1)[0].strip().lower()
    return value == "application/json" or (
        value.startswith("application/") and value.endswith("+json")
    )


def require_json(request: Request[Any, Any, Any]) -> None:
    """UnsupportedMediaType unless the request says its body is JSON."""
    if not is_json(request.headers.get("content-type", "")):
        raise UnsupportedMediaType(
            "This route reads JSON: send the body with Content-Type: application/json"
        )


def field_message(exc: msgspec.ValidationError) -> str:
    """``Expected `int`, got `str` - at `$.points[0].points``` -> ``points[0].points: Expected…``"""
    message, _, where = str(exc).partition(" - at `$.")
    return f"{where.rstrip('`')}: {message}" if where else message


async def read_json(request: Request[Any, Any, Any], into: type[T], *, code: str) -> T:
    """The body as ``into``; InvalidInput with ``code`` if it is not JSON or not that shape.

    UnsupportedMediaType unless it is sent as JSON; its depth, text and numbers were checked by
    the edge hook, which checks every JSON body.
    """
    require_json(request)
    try:
        return msgspec.json.decode(await request.body(), type=into)
    except msgspec.ValidationError as exc:
        raise InvalidInput(field_message(exc), code=code) from None
    except msgspec.DecodeError:
        raise InvalidInput("The request body is not valid JSON", code=code) from None


@dataclass(frozen=True, slots=True)
class _DataField:
    type: Any
    required: bool
    dec_hook: Callable[[Any, Any], Any]  # Litestar's, for types msgspec does not know


# What Litestar validates a handler's ``data`` against, per handler (None: it takes none, or
# not as JSON). See ``data_refused``.
_data_types: WeakKeyDictionary[BaseRouteHandler, _DataField | None] = WeakKeyDictionary()


def reads_json(handler: BaseRouteHandler) -> bool:
    """Whether Litestar decodes the handler's ``data`` from JSON."""
    return _field_of(handler) is not None


def _field_of(handler: BaseRouteHandler) -> _DataField | None:
    try:
        return _data_types[handler]
    except KeyError:
        field = _data_types[handler] = _data_field(handler)
        return field


async def data_refused(request: Request[Any, Any, Any]) -> bool:
    """Whether Litestar will refuse the handler's JSON ``data`` once dependencies are resolved.

    Litestar reads and decodes ``data`` before it resolves dependencies, and validates it only
    after them. A dependency that would take a lock asks this first, with the type and the
    conversion Litestar then applies. Bodies of other media types answer False.
    """
    field = _field_of(request.route_handler)
    if field is None:
        return False
    if not await request.body():
        return field.required
    try:
        msgspec.convert(
            await request.json(),  # decoded already, while Litestar extracted ``data``
            field.type,
            strict=False,
            dec_hook=field.dec_hook,
            str_keys=True,
        )
    except msgspec.ValidationError:
        return True
    return False


def _data_field(handler: BaseRouteHandler) -> _DataField | None:
    parameter = handler.parsed_fn_signature.parameters.get("data")
    if parameter is None:
        return None
    kwarg = parameter.kwarg_definition
    if isinstance(kwarg, BodyKwarg) and kwarg.media_type not in (None, RequestEncodingType.JSON):
        return None
    for field in msgspec.structs.fields(handler.signature_model):
        if field.name == "data":
            return _DataField(field.type, field.required, handler.default_deserializer)
    return None
