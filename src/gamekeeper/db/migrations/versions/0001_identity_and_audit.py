"""Identity and audit tables.

Revision ID: 0001
Revises:
Create Date: 2026-11-21 07:26:36.298748
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import gamekeeper.db.types

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit_entry",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("at", gamekeeper.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column("ip", sa.String(length=64), nullable=True),
        sa.Column("target_type", sa.String(length=32), nullable=True),
        sa.Column("target_id", sa.String(length=64), nullable=True),
        sa.Column("game_id", sa.String(length=36), nullable=True),
        sa.Column(
            "details",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_entry")),
    )
    with op.batch_alter_table("audit_entry", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_entry_game_id"), ["game_id"], unique=False)

    op.create_table(
        "developer",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("secret_sealed", sa.Text(), nullable=False),
        sa.Column("created_at", gamekeeper.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_developer")),
    )
    op.create_table(
        "player",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("password_hash", sa.Text(), nullable=True),
        sa.Column("display_name", sa.String(length=120), nullable=True),
        sa.Column("verified", sa.Boolean(), nullable=False),
        sa.Column("created_at", gamekeeper.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_player")),
        sa.UniqueConstraint("email", name=op.f("uq_player_email")),
    )
    op.create_table(
        "game",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("slug", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("developer_id", sa.String(length=36), nullable=True),
        sa.Column("game_url", sa.Text(), nullable=True),
        sa.Column("callback_url", sa.Text(), nullable=True),
        sa.Column(
            "allowed_origins",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "settings",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("created_at", gamekeeper.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", gamekeeper.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["developer_id"],
            ["developer.id"],
            name=op.f("fk_game_developer_id_developer"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_game")),
        sa.UniqueConstraint("slug", name=op.f("uq_game_slug")),
    )
    op.create_table(
        "player_session",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("player_id", sa.String(length=36), nullable=False),
        sa.Column("created_at", gamekeeper.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", gamekeeper.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", gamekeeper.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["player_id"],
            ["player.id"],
            name=op.f("fk_player_session_player_id_player"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_player_session")),
    )
    with op.batch_alter_table("player_session", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_player_session_player_id"), ["player_id"], unique=False
        )

    op.create_table(
        "credential",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("game_id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column(
            "scopes",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("name", sa.String(length=120), nullable=True),
        sa.Column("prefix", sa.String(length=32), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", gamekeeper.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", gamekeeper.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", gamekeeper.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["game_id"], ["game.id"], name=op.f("fk_credential_game_id_game"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credential")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_credential_key_hash")),
    )
    with op.batch_alter_table("credential", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_credential_game_id"), ["game_id"], unique=False)

    op.create_table(
        "player_identity",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("player_id", sa.String(length=36), nullable=False),
        sa.Column("provider", sa.String(length=32), nullable=False),
        sa.Column("subject", sa.String(length=255), nullable=False),
        sa.Column("game_id", sa.String(length=36), nullable=True),
        sa.Column("created_at", gamekeeper.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["game_id"],
            ["game.id"],
            name=op.f("fk_player_identity_game_id_game"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["player_id"],
            ["player.id"],
            name=op.f("fk_player_identity_player_id_player"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_player_identity")),
    )
    with op.batch_alter_table("player_identity", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_player_identity_player_id"), ["player_id"], unique=False
        )
        batch_op.create_index(
            "uq_player_identity_game",
            ["provider", "game_id", "subject"],
            unique=True,
            sqlite_where=sa.text("game_id IS NOT NULL"),
            postgresql_where=sa.text("game_id IS NOT NULL"),
        )
        batch_op.create_index(
            "uq_player_identity_global",
            ["provider", "subject"],
            unique=True,
            sqlite_where=sa.text("game_id IS NULL"),
            postgresql_where=sa.text("game_id IS NULL"),
        )

    op.create_table(
        "refresh_token",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("session_id", sa.String(length=36), nullable=False),
        sa.Column("created_at", gamekeeper.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", gamekeeper.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("spent_at", gamekeeper.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["player_session.id"],
            name=op.f("fk_refresh_token_session_id_player_session"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_refresh_token")),
    )
    with op.batch_alter_table("refresh_token", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_refresh_token_session_id"), ["session_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("refresh_token", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_refresh_token_session_id"))

    op.drop_table("refresh_token")
    with op.batch_alter_table("player_identity", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_player_identity_global",
            sqlite_where=sa.text("game_id IS NULL"),
            postgresql_where=sa.text("game_id IS NULL"),
        )
        batch_op.drop_index(
            "uq_player_identity_game",
            sqlite_where=sa.text("game_id IS NOT NULL"),
            postgresql_where=sa.text("game_id IS NOT NULL"),
        )
        batch_op.drop_index(batch_op.f("ix_player_identity_player_id"))

    op.drop_table("player_identity")
    with op.batch_alter_table("credential", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_credential_game_id"))

    op.drop_table("credential")
    with op.batch_alter_table("player_session", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_player_session_player_id"))

    op.drop_table("player_session")
    op.drop_table("game")
    op.drop_table("player")
    op.drop_table("developer")
    with op.batch_alter_table("audit_entry", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_entry_game_id"))

    op.drop_table("audit_entry")
