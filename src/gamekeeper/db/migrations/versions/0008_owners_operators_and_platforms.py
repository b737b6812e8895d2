"""Owners beyond games: operators and platforms own credentials, webhooks and events.

A credential or webhook now names its owner in exactly one of ``game_id``, ``operator_id``,
``platform_id`` (a check constraint says so); every existing row keeps its game. Operator keys
may be in test mode (``sk_test_``). Events carry their owner the same way, without foreign keys
(an event says what happened, even to an owner since removed).

On SQLite, changing ``game_id`` to nullable rebuilds the two tables (batch mode); the migration
runs with foreign keys off there (``gamekeeper.db.migrate``), so the rebuild of ``webhook`` does
not cascade to its deliveries.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04 04:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import gamekeeper.db.types

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

ID = 36
# Reflect the rebuilt table alone, not the tables its foreign keys name (SQLite batch mode).
_ALONE = {"resolve_fks": False}
ONE_OWNER = (
    "(game_id IS NOT NULL AND operator_id IS NULL AND platform_id IS NULL)"
    " OR (game_id IS NULL AND operator_id IS NOT NULL AND platform_id IS NULL)"
    " OR (game_id IS NULL AND operator_id IS NULL AND platform_id IS NOT NULL)"
)


def upgrade() -> None:
    for table in ("operator", "platform"):
        op.create_table(
            table,
            sa.Column("id", sa.String(ID), primary_key=True),
            sa.Column("name", sa.String(120), nullable=False),
            sa.Column("created_at", gamekeeper.db.types.UTCDateTime(timezone=True), nullable=False),
        )
    op.create_table(
        "platform_game",
        sa.Column(
            "platform_id",
            sa.String(ID),
            sa.ForeignKey("platform.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column(
            "game_id", sa.String(ID), sa.ForeignKey("game.id", ondelete="CASCADE"), primary_key=True
        ),
    )
    op.create_index("ix_platform_game_game_id", "platform_game", ["game_id"])
    for table in ("credential", "webhook"):
        with op.batch_alter_table(table, reflect_kwargs=_ALONE) as batch:
            batch.alter_column("game_id", existing_type=sa.String(ID), nullable=True)
            for owner in ("operator", "platform"):
                batch.add_column(sa.Column(f"{owner}_id", sa.String(ID)))
                batch.create_foreign_key(
                    f"fk_{table}_{owner}_id_{owner}", owner, [f"{owner}_id"], ["id"],
                    ondelete="CASCADE",
                )  # fmt: skip
                batch.create_index(f"ix_{table}_{owner}_id", [f"{owner}_id"])
            batch.create_check_constraint("one_owner", ONE_OWNER)
    with op.batch_alter_table("credential", reflect_kwargs=_ALONE) as batch:
        batch.add_column(
            sa.Column("test_mode", sa.Boolean, nullable=False, server_default=sa.false())
        )
    op.add_column("event", sa.Column("operator_id", sa.String(ID)))
    op.add_column("event", sa.Column("platform_id", sa.String(ID)))


def downgrade() -> None:
    op.drop_column("event", "platform_id")
    op.drop_column("event", "operator_id")
    for table in ("credential", "webhook"):
        op.execute(f"DELETE FROM {table} WHERE game_id IS NULL")
        with op.batch_alter_table(table, reflect_kwargs=_ALONE) as batch:
            batch.drop_constraint("one_owner", type_="check")
            for owner in ("operator", "platform"):
                batch.drop_index(f"ix_{table}_{owner}_id")
                batch.drop_constraint(f"fk_{table}_{owner}_id_{owner}", type_="foreignkey")
                batch.drop_column(f"{owner}_id")
            if table == "credential":
                batch.drop_column("test_mode")
            batch.alter_column("game_id", existing_type=sa.String(ID), nullable=False)
    op.drop_index("ix_platform_game_game_id", table_name="platform_game")
    op.drop_table("platform_game")
    op.drop_table("platform")
    op.drop_table("operator")
