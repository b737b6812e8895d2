"""Cast tables: sessions, their controllers, and the backlog of inputs a receiver resumes from."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from gamekeeper.db.tables.base import ID, metadata
from gamekeeper.db.types import Json, UTCDateTime

cast_session = Table(
    "cast_session",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("game_id", String(ID), ForeignKey("game.id", ondelete="CASCADE"), nullable=False),
    Column("game_url", Text, nullable=False),
    Column("session_data", Json, nullable=False),
    Column("status", String(16), nullable=False),
    Column("join_code_sealed", Text, nullable=False),
    Column("receiver_key_hash", String(64), nullable=False),
    Column("next_seq", Integer, nullable=False),
    Column("acked_seq", Integer, nullable=False),
    Column("receiver_attached", Boolean, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("last_activity_at", UTCDateTime, nullable=False),
    Column("ended_at", UTCDateTime),
    Column("ended_reason", String(16)),
)
# Expiry looks for sessions not yet terminated, by their last activity.
Index(
    "ix_cast_session_live",
    cast_session.c.last_activity_at,
    sqlite_where=cast_session.c.status != "terminated",
    postgresql_where=cast_session.c.status != "terminated",
)
Index("ix_cast_session_game", cast_session.c.game_id)

cast_controller = Table(
    "cast_controller",
    metadata,
    Column(
        "session_id", String(ID), ForeignKey("cast_session.id", ondelete="CASCADE"), nullable=False
    ),
    Column("player_id", String(ID), ForeignKey("player.id", ondelete="CASCADE"), nullable=False),
    Column("seat", Integer, nullable=False),
    Column("joined_at", UTCDateTime, nullable=False),
    PrimaryKeyConstraint("session_id", "player_id"),
    UniqueConstraint("session_id", "seat", name="uq_cast_controller_seat"),
)

cast_input = Table(
    "cast_input",
    metadata,
    Column(
        "session_id", String(ID), ForeignKey("cast_session.id", ondelete="CASCADE"), nullable=False
    ),
    Column("seq", Integer, nullable=False),
    Column("seat", Integer, nullable=False),
    Column("input_type", String(32), nullable=False),
    Column("input_data", Json, nullable=False),
    Column("at", UTCDateTime, nullable=False),
    PrimaryKeyConstraint("session_id", "seq"),
)
