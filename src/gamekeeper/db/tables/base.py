"""The one metadata every domain's tables register on, and the sizes they share."""

from __future__ import annotations

from sqlalchemy import CheckConstraint, Column, ForeignKey, MetaData, String

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

ID = 36  # a UUID in text form

# Exactly one owner column is set (SQLite and PostgreSQL alike).
ONE_OWNER = (
    "(game_id IS NOT NULL AND operator_id IS NULL AND platform_id IS NULL)"
    " OR (game_id IS NULL AND operator_id IS NOT NULL AND platform_id IS NULL)"
    " OR (game_id IS NULL AND operator_id IS NULL AND platform_id IS NOT NULL)"
)


def owner_columns() -> list[Column[str] | CheckConstraint]:
    """The owner of a row: exactly one of a game, an operator, a platform (removed with it)."""
    return [
        Column("game_id", String(ID), ForeignKey("game.id", ondelete="CASCADE"), index=True),
        Column(
            "operator_id", String(ID), ForeignKey("operator.id", ondelete="CASCADE"), index=True
        ),
        Column(
            "platform_id", String(ID), ForeignKey("platform.id", ondelete="CASCADE"), index=True
        ),
        CheckConstraint(ONE_OWNER, name="one_owner"),
    ]
