"""Catalog: trigram indexes for the listing search (PostgreSQL), an index for the name sort.

The OGP listing's ``query`` is a case-insensitive substring search (``ILIKE '%text%'``) over
game names and listing descriptions. A B-tree cannot serve it; ``pg_trgm``'s GIN operator class
can, so PostgreSQL reads the matching rows instead of every row. SQLite keeps its scan (an
embedded catalog is small). ``pg_trgm`` is a trusted extension since PostgreSQL 13: the
database owner may create it. The name sort pages by ``lower(name)`` and the game id, which
the new expression index matches on both databases.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-21 10:40:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_game_by_lower_name", "game", [sa.text("lower(name)"), "id"])
    if op.get_context().dialect.name != "postgresql":
        return
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.create_index(
        "ix_game_name_trgm",
        "game",
        ["name"],
        postgresql_using="gin",
        postgresql_ops={"name": "gin_trgm_ops"},
    )
    op.create_index(
        "ix_listing_description_trgm",
        "listing",
        ["description"],
        postgresql_using="gin",
        postgresql_ops={"description": "gin_trgm_ops"},
    )


def downgrade() -> None:
    if op.get_context().dialect.name == "postgresql":
        op.drop_index("ix_listing_description_trgm", table_name="listing")
        op.drop_index("ix_game_name_trgm", table_name="game")
        # pg_trgm stays: other objects may use it, and it costs nothing unused.
    op.drop_index("ix_game_by_lower_name", table_name="game")
