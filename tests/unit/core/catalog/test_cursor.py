"""Listing cursors: round trips, and refusal of anything else."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from gamekeeper.core.catalog.cursor import decode_cursor, encode_cursor
from gamekeeper.core.catalog.errors import InvalidCursor
from gamekeeper.core.catalog.types import Position, SortKey

GAME = "550e8400-e29b-41d4-a716-446655440000"


@pytest.mark.parametrize(
    ("sort", "value"),
    [
        (SortKey.TOTAL_REWARDS_POOL_VALUE_USD, Decimal("123456789012.654321")),
        (SortKey.MARKET_CAP, Decimal("0.000001")),
        (SortKey.PLAYER_COUNT, 42),
        (SortKey.NAME, "space race — 2"),
        (SortKey.CREATED_AT, datetime(2026, 1, 1, 12, 30, 1, 5, tzinfo=UTC)),
    ],
)
@pytest.mark.parametrize("descending", [True, False])
def test_cursors_round_trip(sort, value, descending):
    cursor = encode_cursor(sort, descending, Position(value, GAME))
    assert cursor.isascii() and "=" not in cursor
    assert decode_cursor(cursor, sort, descending) == Position(value, GAME)


def _forged(*parts) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(parts)).encode()).decode()


@pytest.mark.parametrize(
    "cursor",
    [
        "",
        "!!!",
        "bm90IGpzb24",  # base64 of "not json"
        _forged("market_cap", "desc", "12"),
        _forged("market_cap", "desc", "twelve", GAME),
        _forged("market_cap", "desc", "NaN", GAME),
        _forged("market_cap", "desc", "1e400", GAME),
        _forged("market_cap", "desc", "12", "not-a-game-id"),
        _forged("market_cap", "desc", 12, GAME),
    ],
)
def test_malformed_cursors_are_refused(cursor):
    with pytest.raises(InvalidCursor):
        decode_cursor(cursor, SortKey.MARKET_CAP, True)


def test_a_cursor_is_bound_to_its_sort_and_direction():
    cursor = encode_cursor(SortKey.MARKET_CAP, True, Position(Decimal(1), GAME))
    for sort, descending in ((SortKey.MARKET_CAP, False), (SortKey.PLAYER_COUNT, True)):
        with pytest.raises(InvalidCursor, match="another sort order"):
            decode_cursor(cursor, sort, descending)


def test_created_at_cursors_need_a_time_zone():
    with pytest.raises(InvalidCursor):
        decode_cursor(
            _forged("created_at", "asc", "2026-01-01T00:00:00", GAME), SortKey.CREATED_AT, False
        )
