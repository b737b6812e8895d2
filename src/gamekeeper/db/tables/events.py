"""Event tables: the outbox, webhooks and their deliveries."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
)

from gamekeeper.db.tables.base import ID, metadata, owner_columns
from gamekeeper.db.types import BigId, Json, UTCDateTime

event = Table(
    "event",
    metadata,
    Column("seq", BigId, primary_key=True, autoincrement=True),
    Column("id", String(ID), nullable=False, unique=True),
    Column("type", String(64), nullable=False),
    # No foreign key: an event says what happened, even to a game since deleted.
    Column("game_id", String(ID), index=True),
    Column("operator_id", String(ID)),
    Column("platform_id", String(ID)),
    Column("aggregate_id", String(64), nullable=False),
    Column("payload", Json, nullable=False),
    Column("occurred_at", UTCDateTime, nullable=False),
)

webhook = Table(
    "webhook",
    metadata,
    Column("id", String(ID), primary_key=True),
    *owner_columns(),
    Column("url", Text, nullable=False),
    Column("event_types", Json, nullable=False),
    Column("format", String(16), nullable=False),
    Column("secret_sealed", Text, nullable=False),
    Column("enabled", Boolean, nullable=False),
    Column("managed", Boolean, nullable=False),
    Column("failing_since", UTCDateTime),
    Column("disabled_reason", String(64)),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

delivery = Table(
    "delivery",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column(
        "event_seq",
        BigId,
        ForeignKey("event.seq", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("webhook_id", String(ID), ForeignKey("webhook.id", ondelete="CASCADE"), index=True),
    Column("sink", String(16), nullable=False),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", UTCDateTime, nullable=False),
    Column("last_attempt_at", UTCDateTime),
    Column("last_status", Integer),
    Column("last_error", Text),
    Column("delivered_at", UTCDateTime),
    Column("created_at", UTCDateTime, nullable=False),
)
# The relay's work queue: only pending rows, by due time.
Index(
    "ix_delivery_due",
    delivery.c.next_attempt_at,
    sqlite_where=delivery.c.status == "pending",
    postgresql_where=delivery.c.status == "pending",
)
