"""Player accounts: link tokens, account links, web codes, mailed codes

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-21 10:18:04.718538
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import gamekeeper.db.types

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "account_code",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("player_id", sa.String(length=36), nullable=False),
        sa.Column("purpose", sa.String(length=16), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", gamekeeper.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", gamekeeper.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("used_at", gamekeeper.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["player_id"],
            ["player.id"],
            name=op.f("fk_account_code_player_id_player"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account_code")),
    )
    with op.batch_alter_table("account_code", schema=None) as batch_op:
        batch_op.create_index("ix_account_code_by_player", ["player_id", "purpose"], unique=False)

    op.create_table(
        "web_code",
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("player_id", sa.String(length=36), nullable=False),
        sa.Column("created_at", gamekeeper.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", gamekeeper.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("used_at", gamekeeper.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("used_by_game_id", sa.String(length=36), nullable=True),
        sa.ForeignKeyConstraint(
            ["player_id"],
            ["player.id"],
            name=op.f("fk_web_code_player_id_player"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("code_hash", name=op.f("pk_web_code")),
    )
    with op.batch_alter_table("web_code", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_web_code_player_id"), ["player_id"], unique=False)

    op.create_table(
        "account_link",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("game_id", sa.String(length=36), nullable=False),
        sa.Column("game_user_id", sa.String(length=255), nullable=False),
        sa.Column("player_id", sa.String(length=36), nullable=False),
        sa.Column("linked_at", gamekeeper.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["game_id"], ["game.id"], name=op.f("fk_account_link_game_id_game"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["player_id"],
            ["player.id"],
            name=op.f("fk_account_link_player_id_player"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account_link")),
    )
    with op.batch_alter_table("account_link", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_account_link_player_id"), ["player_id"], unique=False)
        batch_op.create_index("uq_account_link_game_player", ["game_id", "player_id"], unique=True)
        batch_op.create_index("uq_account_link_game_user", ["game_id", "game_user_id"], unique=True)

    op.create_table(
        "link_token",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("game_id", sa.String(length=36), nullable=False),
        sa.Column("game_user_id", sa.String(length=255), nullable=False),
        sa.Column("redirect_url", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("player_id", sa.String(length=36), nullable=True),
        sa.Column("created_at", gamekeeper.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", gamekeeper.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("decided_at", gamekeeper.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["game_id"], ["game.id"], name=op.f("fk_link_token_game_id_game"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["player_id"],
            ["player.id"],
            name=op.f("fk_link_token_player_id_player"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_link_token")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_link_token_token_hash")),
    )
    with op.batch_alter_table("link_token", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_link_token_game_id"), ["game_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("link_token", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_link_token_game_id"))

    op.drop_table("link_token")
    with op.batch_alter_table("account_link", schema=None) as batch_op:
        batch_op.drop_index("uq_account_link_game_user")
        batch_op.drop_index("uq_account_link_game_player")
        batch_op.drop_index(batch_op.f("ix_account_link_player_id"))

    op.drop_table("account_link")
    with op.batch_alter_table("web_code", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_web_code_player_id"))

    op.drop_table("web_code")
    with op.batch_alter_table("account_code", schema=None) as batch_op:
        batch_op.drop_index("ix_account_code_by_player")

    op.drop_table("account_code")
