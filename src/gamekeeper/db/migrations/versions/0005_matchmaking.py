"""Matchmaking: requests, sessions, members, servers, reports and skill ratings

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-21 10:17:19.566838
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import gamekeeper.db.types

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "match_request",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("game_id", sa.String(length=36), nullable=False),
        sa.Column("player_id", sa.String(length=36), nullable=False),
        sa.Column(
            "team_sizes",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("match_tag", sa.String(length=64), nullable=True),
        sa.Column("server_tag", sa.String(length=64), nullable=True),
        sa.Column(
            "info",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("rating", sa.Float(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=16), nullable=True),
        sa.Column("session_id", sa.String(length=32), nullable=True),
        sa.Column("created_at", gamekeeper.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("deadline_at", gamekeeper.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", gamekeeper.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["game_id"], ["game.id"], name=op.f("fk_match_request_game_id_game"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["player_id"],
            ["player.id"],
            name=op.f("fk_match_request_player_id_player"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_match_request")),
    )
    with op.batch_alter_table("match_request", schema=None) as batch_op:
        batch_op.create_index("ix_match_request_updated_at", ["updated_at"], unique=False)
        batch_op.create_index(
            "ix_match_request_waiting",
            ["game_id", "created_at"],
            unique=False,
            sqlite_where=sa.text("status = 'waiting'"),
            postgresql_where=sa.text("status = 'waiting'"),
        )

    op.create_table(
        "match_server",
        sa.Column("game_id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("server_tag", sa.String(length=64), nullable=True),
        sa.Column(
            "info",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("expires_at", gamekeeper.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("session_id", sa.String(length=32), nullable=True),
        sa.Column("registered_at", gamekeeper.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", gamekeeper.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["game_id"], ["game.id"], name=op.f("fk_match_server_game_id_game"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("game_id", "name", name=op.f("pk_match_server")),
    )
    with op.batch_alter_table("match_server", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_match_server_updated_at"), ["updated_at"], unique=False
        )

    op.create_table(
        "match_session",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("game_id", sa.String(length=36), nullable=False),
        sa.Column(
            "team_sizes",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("match_tag", sa.String(length=64), nullable=True),
        sa.Column("server_tag", sa.String(length=64), nullable=True),
        sa.Column("server_name", sa.String(length=64), nullable=True),
        sa.Column(
            "server_info",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("created_at", gamekeeper.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("fetched_at", gamekeeper.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column(
            "ranks",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("rated", sa.Boolean(), nullable=False),
        sa.Column("ended_at", gamekeeper.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["game_id"], ["game.id"], name=op.f("fk_match_session_game_id_game"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_match_session")),
    )
    with op.batch_alter_table("match_session", schema=None) as batch_op:
        batch_op.create_index(
            "ix_match_session_unfetched",
            ["game_id", "server_name"],
            unique=False,
            sqlite_where=sa.text("fetched_at IS NULL"),
            postgresql_where=sa.text("fetched_at IS NULL"),
        )

    op.create_table(
        "skill_rating",
        sa.Column("game_id", sa.String(length=36), nullable=False),
        sa.Column("player_id", sa.String(length=36), nullable=False),
        sa.Column("mu", sa.Float(), nullable=False),
        sa.Column("sigma", sa.Float(), nullable=False),
        sa.Column("conservative", sa.Float(), nullable=False),
        sa.Column("matches", sa.Integer(), nullable=False),
        sa.Column("updated_at", gamekeeper.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["game_id"], ["game.id"], name=op.f("fk_skill_rating_game_id_game"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["player_id"],
            ["player.id"],
            name=op.f("fk_skill_rating_player_id_player"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("game_id", "player_id", name=op.f("pk_skill_rating")),
    )
    with op.batch_alter_table("skill_rating", schema=None) as batch_op:
        batch_op.create_index("ix_skill_rating_rank", ["game_id", "conservative"], unique=False)

    op.create_table(
        "match_member",
        sa.Column("request_id", sa.String(length=32), nullable=False),
        sa.Column("session_id", sa.String(length=32), nullable=False),
        sa.Column("player_id", sa.String(length=36), nullable=False),
        sa.Column("team_index", sa.Integer(), nullable=False),
        sa.Column("mate_index", sa.Integer(), nullable=False),
        sa.Column(
            "info",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["match_request.id"],
            name=op.f("fk_match_member_request_id_match_request"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["match_session.id"],
            name=op.f("fk_match_member_session_id_match_session"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("request_id", name=op.f("pk_match_member")),
    )
    with op.batch_alter_table("match_member", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_match_member_session_id"), ["session_id"], unique=False
        )

    op.create_table(
        "match_report",
        sa.Column("session_id", sa.String(length=32), nullable=False),
        sa.Column("reporter", sa.String(length=36), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column(
            "ranks",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("reported_at", gamekeeper.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["match_session.id"],
            name=op.f("fk_match_report_session_id_match_session"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("session_id", "reporter", name=op.f("pk_match_report")),
    )


def downgrade() -> None:

    op.drop_table("match_report")
    with op.batch_alter_table("match_member", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_match_member_session_id"))

    op.drop_table("match_member")
    with op.batch_alter_table("skill_rating", schema=None) as batch_op:
        batch_op.drop_index("ix_skill_rating_rank")

    op.drop_table("skill_rating")
    with op.batch_alter_table("match_session", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_match_session_unfetched",
            sqlite_where=sa.text("fetched_at IS NULL"),
            postgresql_where=sa.text("fetched_at IS NULL"),
        )

    op.drop_table("match_session")
    with op.batch_alter_table("match_server", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_match_server_updated_at"))

    op.drop_table("match_server")
    with op.batch_alter_table("match_request", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_match_request_waiting",
            sqlite_where=sa.text("status = 'waiting'"),
            postgresql_where=sa.text("status = 'waiting'"),
        )
        batch_op.drop_index("ix_match_request_updated_at")

    op.drop_table("match_request")
