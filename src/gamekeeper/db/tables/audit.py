"""The audit log's table: append-only."""

from __future__ import annotations

from sqlalchemy import (
    Column,
    String,
    Table,
)

from gamekeeper.db.tables.base import ID, metadata
from gamekeeper.db.types import BigId, Json, UTCDateTime

audit_entry = Table(
    "audit_entry",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("at", UTCDateTime, nullable=False),
    Column("action", String(64), nullable=False),
    Column("actor", String(128), nullable=False),
    Column("ip", String(64)),
    Column("target_type", String(32)),
    Column("target_id", String(64)),
    # No foreign key: the log outlives what it speaks of.
    Column("game_id", String(ID), index=True),
    Column("details", Json, nullable=False),
)
