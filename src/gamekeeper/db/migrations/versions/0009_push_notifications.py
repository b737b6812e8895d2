"""Push notifications: players' devices, notifications and their deliveries, per-game provider
credentials.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04 19:20:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import gamekeeper.db.types

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

ID = 36
UTC = gamekeeper.db.types.UTCDateTime(timezone=True)
JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
BIGID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
DUE = "status IN ('pending', 'sent')"


def upgrade() -> None:
    op.create_table(
        "push_device",
        sa.Column("id", sa.String(ID), primary_key=True),
        sa.Column(
            "player_id",
            sa.String(ID),
            sa.ForeignKey("player.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("game_id", sa.String(ID), sa.ForeignKey("game.id", ondelete="CASCADE")),
        sa.Column("platform", sa.String(16), nullable=False),
        sa.Column("provider", sa.String(16), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("token_sealed", sa.Text, nullable=False),
        sa.Column("topics", JSON),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("deactivated_reason", sa.String(64)),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("updated_at", UTC, nullable=False),
        sa.UniqueConstraint("token_hash", name="uq_push_device_token_hash"),
    )
    op.create_index("ix_push_device_game_id", "push_device", ["game_id"])
    op.create_index("ix_push_device_by_player", "push_device", ["player_id", "active"])
    op.create_table(
        "notification",
        sa.Column("seq", BIGID, primary_key=True, autoincrement=True),
        sa.Column("id", sa.String(ID), nullable=False),
        sa.Column(
            "game_id", sa.String(ID), sa.ForeignKey("game.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column(
            "player_id",
            sa.String(ID),
            sa.ForeignKey("player.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("game_user_id", sa.String(128), nullable=False),
        sa.Column("type", sa.String(64), nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("data", JSON),
        sa.Column("deep_link", sa.Text),
        sa.Column("ttl", sa.Integer),
        sa.Column("collapse_key", sa.String(64)),
        sa.Column("priority", sa.String(8), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(64)),
        sa.Column("idempotency_key", sa.String(255)),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("sent_at", UTC),
        sa.Column("delivered_at", UTC),
        sa.Column("read_at", UTC),
        sa.UniqueConstraint("id", name="uq_notification_id"),
        sa.UniqueConstraint("game_id", "idempotency_key", name="uq_notification_idempotency"),
    )
    op.create_index("ix_notification_inbox", "notification", ["player_id", "seq"])
    op.create_table(
        "push_delivery",
        sa.Column("id", sa.String(ID), primary_key=True),
        sa.Column(
            "notification_id",
            sa.String(ID),
            sa.ForeignKey("notification.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("device_id", sa.String(ID), sa.ForeignKey("push_device.id", ondelete="SET NULL")),
        sa.Column("platform", sa.String(16), nullable=False),
        sa.Column("provider", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", UTC, nullable=False),
        sa.Column("last_attempt_at", UTC),
        sa.Column("last_status", sa.Integer),
        sa.Column("last_error", sa.String(200)),
        sa.Column("receipt", sa.String(128)),
        sa.Column("delivered_at", UTC),
        sa.Column("created_at", UTC, nullable=False),
    )
    op.create_index("ix_push_delivery_notification_id", "push_delivery", ["notification_id"])
    op.create_index("ix_push_delivery_device_id", "push_delivery", ["device_id"])
    op.create_index(
        "ix_push_delivery_due",
        "push_delivery",
        ["next_attempt_at"],
        sqlite_where=sa.text(DUE),
        postgresql_where=sa.text(DUE),
    )
    op.create_table(
        "push_credential",
        sa.Column(
            "game_id", sa.String(ID), sa.ForeignKey("game.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("provider", sa.String(16), nullable=False),
        sa.Column("sealed", sa.Text, nullable=False),
        sa.Column("updated_at", UTC, nullable=False),
        sa.PrimaryKeyConstraint("game_id", "provider", name="pk_push_credential"),
    )


def downgrade() -> None:
    for table in ("push_credential", "push_delivery", "notification", "push_device"):
        op.drop_table(table)
