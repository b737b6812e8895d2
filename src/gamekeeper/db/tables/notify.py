"""Push notification tables: players' devices, notifications, their deliveries, and the
per-game provider credentials."""

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
from gamekeeper.db.types import BigId, Json, UTCDateTime

# A device token is a secret: sealed, found by its SHA-256.
push_device = Table(
    "push_device",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("player_id", String(ID), ForeignKey("player.id", ondelete="CASCADE"), nullable=False),
    # The game whose app registered it (its credentials send to it); NULL: the deployment's app.
    Column("game_id", String(ID), ForeignKey("game.id", ondelete="CASCADE"), index=True),
    Column("platform", String(16), nullable=False),
    Column("provider", String(16), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("token_sealed", Text, nullable=False),
    Column("topics", Json),
    Column("active", Boolean, nullable=False),
    Column("deactivated_reason", String(64)),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)
Index("ix_push_device_by_player", push_device.c.player_id, push_device.c.active)

notification = Table(
    "notification",
    metadata,
    Column("seq", BigId, primary_key=True, autoincrement=True),
    Column("id", String(ID), nullable=False, unique=True),
    Column("game_id", String(ID), ForeignKey("game.id", ondelete="CASCADE"), nullable=False),
    Column("player_id", String(ID), ForeignKey("player.id", ondelete="CASCADE"), nullable=False),
    Column("game_user_id", String(128), nullable=False),
    Column("type", String(64), nullable=False),
    Column("title", Text, nullable=False),
    Column("body", Text, nullable=False),
    Column("data", Json),
    Column("deep_link", Text),
    Column("ttl", Integer),
    Column("collapse_key", String(64)),
    Column("priority", String(8), nullable=False),
    Column("status", String(16), nullable=False),
    Column("reason", String(64)),
    Column("idempotency_key", String(255)),
    Column("created_at", UTCDateTime, nullable=False),
    Column("sent_at", UTCDateTime),
    Column("delivered_at", UTCDateTime),
    Column("read_at", UTCDateTime),
    UniqueConstraint("game_id", "idempotency_key", name="uq_notification_idempotency"),
)
Index("ix_notification_inbox", notification.c.player_id, notification.c.seq)

push_delivery = Table(
    "push_delivery",
    metadata,
    Column("id", String(ID), primary_key=True),  # the provider's message identity (apns-id)
    Column(
        "notification_id",
        String(ID),
        ForeignKey("notification.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    # A removed device leaves its deliveries (they fail if still pending).
    Column("device_id", String(ID), ForeignKey("push_device.id", ondelete="SET NULL"), index=True),
    Column("platform", String(16), nullable=False),
    Column("provider", String(16), nullable=False),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", UTCDateTime, nullable=False),
    Column("last_attempt_at", UTCDateTime),
    Column("last_status", Integer),
    Column("last_error", String(200)),
    Column("receipt", String(128)),
    Column("delivered_at", UTCDateTime),
    Column("created_at", UTCDateTime, nullable=False),
)
# The push relay's work queue: rows to send (pending) and receipts to check (sent).
Index(
    "ix_push_delivery_due",
    push_delivery.c.next_attempt_at,
    sqlite_where=push_delivery.c.status.in_(["pending", "sent"]),
    postgresql_where=push_delivery.c.status.in_(["pending", "sent"]),
)

push_credential = Table(
    "push_credential",
    metadata,
    Column("game_id", String(ID), ForeignKey("game.id", ondelete="CASCADE"), nullable=False),
    Column("provider", String(16), nullable=False),
    Column("sealed", Text, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    PrimaryKeyConstraint("game_id", "provider"),
)
