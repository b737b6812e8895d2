"""TV casting: cast sessions, their controllers and the input backlog.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04 19:50:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import gamekeeper.db.types

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

ID = 36
UTC = gamekeeper.db.types.UTCDateTime(timezone=True)
JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
LIVE = "status != 'terminated'"


def _session_fk() -> sa.Column[str]:
    return sa.Column(
        "session_id",
        sa.String(ID),
        sa.ForeignKey("cast_session.id", ondelete="CASCADE"),
        nullable=False,
    )


def upgrade() -> None:
    op.create_table(
        "cast_session",
        sa.Column("id", sa.String(ID), primary_key=True),
        sa.Column(
            "game_id", sa.String(ID), sa.ForeignKey("game.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("game_url", sa.Text, nullable=False),
        sa.Column("session_data", JSON, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("join_code_sealed", sa.Text, nullable=False),
        sa.Column("receiver_key_hash", sa.String(64), nullable=False),
        sa.Column("next_seq", sa.Integer, nullable=False),
        sa.Column("acked_seq", sa.Integer, nullable=False),
        sa.Column("receiver_attached", sa.Boolean, nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("last_activity_at", UTC, nullable=False),
        sa.Column("ended_at", UTC),
        sa.Column("ended_reason", sa.String(16)),
    )
    op.create_index(
        "ix_cast_session_live",
        "cast_session",
        ["last_activity_at"],
        sqlite_where=sa.text(LIVE),
        postgresql_where=sa.text(LIVE),
    )
    op.create_index("ix_cast_session_game", "cast_session", ["game_id"])
    op.create_table(
        "cast_controller",
        _session_fk(),
        sa.Column(
            "player_id",
            sa.String(ID),
            sa.ForeignKey("player.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("seat", sa.Integer, nullable=False),
        sa.Column("joined_at", UTC, nullable=False),
        sa.PrimaryKeyConstraint("session_id", "player_id", name="pk_cast_controller"),
        sa.UniqueConstraint("session_id", "seat", name="uq_cast_controller_seat"),
    )
    op.create_table(
        "cast_input",
        _session_fk(),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("seat", sa.Integer, nullable=False),
        sa.Column("input_type", sa.String(32), nullable=False),
        sa.Column("input_data", JSON, nullable=False),
        sa.Column("at", UTC, nullable=False),
        sa.PrimaryKeyConstraint("session_id", "seq", name="pk_cast_input"),
    )


def downgrade() -> None:
    for table in ("cast_input", "cast_controller", "cast_session"):
        op.drop_table(table)
