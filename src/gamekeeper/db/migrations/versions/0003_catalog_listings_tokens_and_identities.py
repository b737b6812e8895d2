"""Catalog: listings, game tokens and developer identities.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21 08:40:15.348023
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import gamekeeper.db.tables
import gamekeeper.db.types

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "developer_identity",
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("value", sa.String(length=320), nullable=False),
        sa.Column("developer_id", sa.String(length=36), nullable=False),
        sa.Column("created_at", gamekeeper.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["developer_id"],
            ["developer.id"],
            name=op.f("fk_developer_identity_developer_id_developer"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("kind", "value", name=op.f("pk_developer_identity")),
    )
    with op.batch_alter_table("developer_identity", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_developer_identity_developer_id"), ["developer_id"], unique=False
        )

    op.create_table(
        "game_token",
        sa.Column("token_address", sa.String(length=128), nullable=False),
        sa.Column("game_id", sa.String(length=36), nullable=False),
        sa.Column("symbol", sa.String(length=32), nullable=True),
        sa.Column("chain", sa.String(length=32), nullable=True),
        sa.Column("created_at", gamekeeper.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["game_id"], ["game.id"], name=op.f("fk_game_token_game_id_game"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("token_address", "game_id", name=op.f("pk_game_token")),
    )
    with op.batch_alter_table("game_token", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_game_token_game_id"), ["game_id"], unique=False)

    op.create_table(
        "listing",
        sa.Column("game_id", sa.String(length=36), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("is_html_game", sa.Boolean(), nullable=False),
        sa.Column("iframable", sa.Boolean(), nullable=False),
        sa.Column("hidden", sa.Boolean(), nullable=False),
        sa.Column("image_url", sa.Text(), nullable=True),
        sa.Column("cover_image_url", sa.Text(), nullable=True),
        sa.Column("twitter", sa.String(length=255), nullable=True),
        sa.Column("discord", sa.String(length=255), nullable=True),
        sa.Column("telegram", sa.String(length=255), nullable=True),
        sa.Column("jwks_url", sa.Text(), nullable=True),
        sa.Column("max_score_per_session", sa.BigInteger(), nullable=True),
        sa.Column("max_sessions_per_day", sa.BigInteger(), nullable=True),
        sa.Column("max_cumulative_points_per_day", sa.BigInteger(), nullable=True),
        sa.Column(
            "org_rewards_split",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("creator_id", sa.String(length=36), nullable=False),
        sa.Column("owner_id", sa.String(length=36), nullable=True),
        sa.Column("ownership_validated", sa.Boolean(), nullable=False),
        sa.Column("approval_status", sa.String(length=16), nullable=False),
        sa.Column(
            "total_rewards_allocated_usd",
            gamekeeper.db.tables.Money(precision=24, scale=6),
            nullable=False,
        ),
        sa.Column(
            "total_rewards_pool_value_usd",
            gamekeeper.db.tables.Money(precision=24, scale=6),
            nullable=False,
        ),
        sa.Column(
            "estimated_daily_rewards_usd",
            gamekeeper.db.tables.Money(precision=24, scale=6),
            nullable=False,
        ),
        sa.Column("market_cap", gamekeeper.db.tables.Money(precision=24, scale=6), nullable=False),
        sa.Column("player_count", sa.BigInteger(), nullable=False),
        sa.Column("game_coin_symbol", sa.String(length=16), nullable=True),
        sa.Column("created_at", gamekeeper.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", gamekeeper.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["creator_id"], ["developer.id"], name=op.f("fk_listing_creator_id_developer")
        ),
        sa.ForeignKeyConstraint(
            ["game_id"], ["game.id"], name=op.f("fk_listing_game_id_game"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["developer.id"], name=op.f("fk_listing_owner_id_developer")
        ),
        sa.PrimaryKeyConstraint("game_id", name=op.f("pk_listing")),
    )
    with op.batch_alter_table("listing", schema=None) as batch_op:
        batch_op.create_index(
            "ix_listing_by_created_at",
            ["created_at", "game_id"],
            unique=False,
            sqlite_where=sa.text("hidden IS 0"),
            postgresql_where=sa.text("hidden IS false"),
        )
        batch_op.create_index(
            "ix_listing_by_estimated_daily_rewards_usd",
            ["estimated_daily_rewards_usd", "game_id"],
            unique=False,
            sqlite_where=sa.text("hidden IS 0"),
            postgresql_where=sa.text("hidden IS false"),
        )
        batch_op.create_index(
            "ix_listing_by_market_cap",
            ["market_cap", "game_id"],
            unique=False,
            sqlite_where=sa.text("hidden IS 0"),
            postgresql_where=sa.text("hidden IS false"),
        )
        batch_op.create_index(
            "ix_listing_by_player_count",
            ["player_count", "game_id"],
            unique=False,
            sqlite_where=sa.text("hidden IS 0"),
            postgresql_where=sa.text("hidden IS false"),
        )
        batch_op.create_index(
            "ix_listing_by_total_rewards_allocated_usd",
            ["total_rewards_allocated_usd", "game_id"],
            unique=False,
            sqlite_where=sa.text("hidden IS 0"),
            postgresql_where=sa.text("hidden IS false"),
        )
        batch_op.create_index(
            "ix_listing_by_total_rewards_pool_value_usd",
            ["total_rewards_pool_value_usd", "game_id"],
            unique=False,
            sqlite_where=sa.text("hidden IS 0"),
            postgresql_where=sa.text("hidden IS false"),
        )
        batch_op.create_index(batch_op.f("ix_listing_creator_id"), ["creator_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_listing_owner_id"), ["owner_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("listing", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_listing_owner_id"))
        batch_op.drop_index(batch_op.f("ix_listing_creator_id"))
        batch_op.drop_index(
            "ix_listing_by_total_rewards_pool_value_usd",
            sqlite_where=sa.text("hidden IS 0"),
            postgresql_where=sa.text("hidden IS false"),
        )
        batch_op.drop_index(
            "ix_listing_by_total_rewards_allocated_usd",
            sqlite_where=sa.text("hidden IS 0"),
            postgresql_where=sa.text("hidden IS false"),
        )
        batch_op.drop_index(
            "ix_listing_by_player_count",
            sqlite_where=sa.text("hidden IS 0"),
            postgresql_where=sa.text("hidden IS false"),
        )
        batch_op.drop_index(
            "ix_listing_by_market_cap",
            sqlite_where=sa.text("hidden IS 0"),
            postgresql_where=sa.text("hidden IS false"),
        )
        batch_op.drop_index(
            "ix_listing_by_estimated_daily_rewards_usd",
            sqlite_where=sa.text("hidden IS 0"),
            postgresql_where=sa.text("hidden IS false"),
        )
        batch_op.drop_index(
            "ix_listing_by_created_at",
            sqlite_where=sa.text("hidden IS 0"),
            postgresql_where=sa.text("hidden IS false"),
        )

    op.drop_table("listing")
    with op.batch_alter_table("game_token", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_game_token_game_id"))

    op.drop_table("game_token")
    with op.batch_alter_table("developer_identity", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_developer_identity_developer_id"))

    op.drop_table("developer_identity")
