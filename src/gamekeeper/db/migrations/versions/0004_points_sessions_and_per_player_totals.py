"""Points: sessions and per-player totals.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-21 09:09:20.959467
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import gamekeeper.db.types

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "point_session",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("game_id", sa.String(length=36), nullable=False),
        sa.Column("player_id", sa.String(length=255), nullable=False),
        sa.Column("points_requested", sa.BigInteger(), nullable=False),
        sa.Column("points_awarded", sa.BigInteger(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("created_at", gamekeeper.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["game_id"], ["game.id"], name=op.f("fk_point_session_game_id_game"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_point_session")),
    )
    with op.batch_alter_table("point_session", schema=None) as batch_op:
        batch_op.create_index(
            "ix_point_session_by_player_day", ["game_id", "player_id", "day"], unique=False
        )

    op.create_table(
        "point_total",
        sa.Column("game_id", sa.String(length=36), nullable=False),
        sa.Column("player_id", sa.String(length=255), nullable=False),
        sa.Column("points", sa.BigInteger(), nullable=False),
        sa.Column("sessions", sa.BigInteger(), nullable=False),
        sa.Column("day", sa.Date(), nullable=True),
        sa.Column("day_points", sa.BigInteger(), nullable=False),
        sa.Column("day_sessions", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["game_id"], ["game.id"], name=op.f("fk_point_total_game_id_game"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("game_id", "player_id", name=op.f("pk_point_total")),
    )
    with op.batch_alter_table("point_total", schema=None) as batch_op:
        batch_op.create_index(
            "ix_point_total_by_points",
            ["game_id", sa.literal_column("points DESC"), "player_id"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("point_total", schema=None) as batch_op:
        batch_op.drop_index("ix_point_total_by_points")

    op.drop_table("point_total")
    with op.batch_alter_table("point_session", schema=None) as batch_op:
        batch_op.drop_index("ix_point_session_by_player_day")

    op.drop_table("point_session")
