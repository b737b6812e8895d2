"""Listing cursors: the sort and the position of a page's last game, opaque to clients.

A cursor is URL-safe base64 of ``[sort, direction, value, game id]``. Decoding checks every
part, so an edited or truncated cursor is refused rather than read as some other position,
and a cursor taken under one sort cannot be replayed under another.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from gamekeeper.core.catalog.errors import InvalidCursor
from gamekeeper.core.catalog.types import Position, SortKey

MAX_LENGTH = 1024
_LARGEST = 10**12  # beyond any stored amount or count, and within every column's range
_GAME_ID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_MONEY = frozenset(
    {
        SortKey.TOTAL_REWARDS_POOL_VALUE_USD,
        SortKey.TOTAL_REWARDS_ALLOCATED_USD,
        SortKey.ESTIMATED_DAILY_REWARDS_USD,
        SortKey.MARKET_CAP,
    }
)


def encode_cursor(sort: SortKey, descending: bool, position: Position) -> str:
    value = position.value
    text = value.isoformat() if isinstance(value, datetime) else str(value)
    raw = json.dumps([sort.value, "desc" if descending else "asc", text, position.game_id])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, sort: SortKey, descending: bool) -> Position:
    """The position a cursor names; InvalidCursor if it is malformed or from another sort."""
    try:
        if len(cursor) > MAX_LENGTH:
            raise ValueError("too long")
        padded = cursor + "=" * (-len(cursor) % 4)
        parts = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
        name, direction, text, game_id = parts
        if not (isinstance(text, str) and isinstance(game_id, str) and _GAME_ID.match(game_id)):
            raise ValueError("bad parts")
        value = _value(sort, text)
    except (ValueError, TypeError, binascii.Error, UnicodeError, InvalidOperation) as exc:
        raise InvalidCursor() from exc
    if name != sort.value or direction != ("desc" if descending else "asc"):
        raise InvalidCursor(
            "The cursor belongs to another sort order: "
            "keep sortBy and sort as they were for the first page"
        )
    return Position(value, game_id)


def _value(sort: SortKey, text: str) -> Any:
    if sort in _MONEY:
        amount = Decimal(text)
        if not amount.is_finite() or abs(amount) >= _LARGEST:
            raise ValueError("not an amount")
        return amount
    if sort == SortKey.PLAYER_COUNT:
        count = int(text)
        if abs(count) >= _LARGEST:
            raise ValueError("not a count")
        return count
    if sort == SortKey.CREATED_AT:
        moment = datetime.fromisoformat(text)
        if moment.tzinfo is None:
            raise ValueError("naive time")
        return moment
    return text
