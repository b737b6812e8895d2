"""JSON request bodies decoded strictly: ``"30"`` is not a number, ``10.0`` not an integer.

Litestar's own decoding converts leniently; the dialects that must refuse such values read the
body through ``read_json`` and answer a ``field: problem`` message in their own envelope.
"""

from __future__ import annotations

from typing import Any, TypeVar

import msgspec
from litestar import Request

from gamekeeper.core.errors import InvalidInput

T = TypeVar("T")


def field_message(exc: msgspec.ValidationError) -> str:
    """``Expected `int`, got `str` - at `$.points[0].points``` -> ``points[0].points: Expected…``"""
    message, _, where = str(exc).partition(" - at `$.")
    return f"{where.rstrip('`')}: {message}" if where else message


async def read_json(request: Request[Any, Any, Any], into: type[T], *, code: str) -> T:
    """The body as ``into``; InvalidInput with ``code`` if it is not JSON or not that shape."""
    try:
        return msgspec.json.decode(await request.body(), type=into)
    except msgspec.ValidationError as exc:
        raise InvalidInput(field_message(exc), code=code) from None
    except msgspec.DecodeError:
        raise InvalidInput("The request body is not valid JSON", code=code) from None
