"""Owner columns: a row names its owner in exactly one of ``game_id``, ``operator_id``,
``platform_id`` (``db.tables.base.owner_columns``); these map it to and from ``Owner``."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Table
from sqlalchemy.engine import RowMapping

from gamekeeper.core.owners.types import Owner, OwnerKind

OWNER_COLUMNS: dict[OwnerKind, str] = {
    OwnerKind.GAME: "game_id",
    OwnerKind.OPERATOR: "operator_id",
    OwnerKind.PLATFORM: "platform_id",
}


def owner_columns_of(table: Table) -> list[ColumnElement[str]]:
    """The owner columns of ``table``, to select."""
    return [table.c[column] for column in OWNER_COLUMNS.values()]


def owner_values(owner: Owner | None) -> dict[str, str | None]:
    """The three owner columns of a row owned by ``owner`` (all None for no owner)."""
    return {
        column: owner.id if owner is not None and owner.kind is kind else None
        for kind, column in OWNER_COLUMNS.items()
    }


def owner_of(row: RowMapping) -> Owner | None:
    """The owner a row names, or None if it names none."""
    for kind, column in OWNER_COLUMNS.items():
        if row.get(column) is not None:
            return Owner(kind, row[column])
    return None


def owned_by(table: Table, owner: Owner) -> ColumnElement[bool]:
    """The condition selecting ``owner``'s rows of ``table``."""
    return table.c[OWNER_COLUMNS[owner.kind]] == owner.id


def without_owner_columns(row: RowMapping) -> dict[str, Any]:
    """The row's other columns (to build a value that holds an ``Owner`` instead)."""
    return {k: v for k, v in row.items() if k not in OWNER_COLUMNS.values()}
