"""Pages of rows, oldest first: what the admin listings promise."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, Table, and_, or_, select


def oldest_first(
    statement: Select[Any], table: Table, *, limit: int, after: str | None
) -> Select[Any]:
    """``statement`` ordered by creation (ties by id), from the row after the one with id ``after``.

    The cursor stays the last row's id, as the API has always given it; ids are random, so it
    is looked up for its creation time. An id that names no row gives an empty page.
    """
    statement = statement.order_by(table.c.created_at, table.c.id).limit(limit)
    if after is None:
        return statement
    created = select(table.c.created_at).where(table.c.id == after).scalar_subquery()
    return statement.where(
        or_(table.c.created_at > created, and_(table.c.created_at == created, table.c.id > after))
    )
