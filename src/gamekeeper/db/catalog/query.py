"""The catalog listing's statements, built once per shape and run with new parameters.

A listing statement has a few dozen columns and subqueries; building it and computing its
cache key took longer than running it. The shape (sort key, direction, cursor or not, search
or not, public or a developer's own) picks a prebuilt statement; the values are bound.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    and_,
    bindparam,
    func,
    or_,
    select,
    union,
)
from sqlalchemy.sql.elements import BindParameter

from gamekeeper.core.catalog.types import ListingQuery, SortKey
from gamekeeper.db.tables.catalog import listing
from gamekeeper.db.tables.identity import game

COLUMNS = [*game.c, *listing.c]
FROM = listing.join(game, game.c.id == listing.c.game_id)
_LISTED = listing.c.hidden.is_(False)  # as the partial indexes say it
_SORT: dict[SortKey, ColumnElement[Any]] = {
    SortKey.NAME: func.lower(game.c.name),
    **{key: listing.c[key.value] for key in SortKey if key != SortKey.NAME},
}
_NAME_HIT, _DESCRIPTION_HIT = game.alias("name_hit"), listing.alias("description_hit")


def parameters(query: ListingQuery) -> dict[str, Any]:
    """The values the statements of ``query``'s shape take."""
    values: dict[str, Any] = {"limit": query.limit, "offset": query.offset}
    if query.developer_id is not None:
        values["developer_id"] = query.developer_id
    if query.text:
        values["pattern"] = "%" + _escape_like(query.text) + "%"
    if query.after is not None:
        values["after_value"], values["after_id"] = query.after.value, query.after.game_id
    return values


def page_statement(query: ListingQuery) -> Select[Any]:
    """The page of ``query``; with a search, each row also carries the count of matches."""
    return _page_statement(
        query.sort, query.descending, query.after is not None, bool(query.text), _own(query)
    )


def count_statement(query: ListingQuery) -> Select[Any]:
    return _count_statement(bool(query.text), _own(query))


@lru_cache(maxsize=128)
def _page_statement(
    sort: SortKey, descending: bool, keyset: bool, search: bool, own: bool
) -> Select[Any]:
    filters = _filters(search, own)
    if not search:
        # The page walks a sort index; the count is a statement of its own (a window here
        # would read every listed row).
        statement = select(*COLUMNS).select_from(FROM).where(*filters)
        return _page(statement, _SORT[sort], listing.c.game_id, descending, keyset)
    # The search touches every match anyway: count them there (a window), and read whole
    # rows for the page only.
    matches = (
        select(
            listing.c.game_id.label("id"),
            _SORT[sort].label("key"),
            func.count().over().label("total"),
        )
        .select_from(FROM)
        .where(*filters)
        .subquery("matches")
    )
    page = _page(select(matches), matches.c.key, matches.c.id, descending, keyset)
    found = page.subquery("page")
    return (
        select(*COLUMNS, found.c.total)
        .select_from(
            found.join(listing, listing.c.game_id == found.c.id).join(game, game.c.id == found.c.id)
        )
        .order_by(*_order(found.c.key, found.c.id, descending))
    )


@lru_cache(maxsize=8)
def _count_statement(search: bool, own: bool) -> Select[Any]:
    return select(func.count()).select_from(FROM).where(*_filters(search, own))


def _own(query: ListingQuery) -> bool:
    return query.developer_id is not None


def _filters(search: bool, own: bool) -> list[ColumnElement[bool]]:
    filters: list[ColumnElement[bool]] = []
    if own:  # a developer's own games, hidden ones included
        developer: BindParameter[str] = bindparam("developer_id")
        filters.append(or_(listing.c.creator_id == developer, listing.c.owner_id == developer))
    else:
        filters.append(_LISTED)
    if search:
        pattern: BindParameter[str] = bindparam("pattern")
        # ILIKE on PostgreSQL, lower() LIKE lower() on SQLite (ASCII case-folding only there).
        # A union of ids, one per table, so that PostgreSQL answers each side from its
        # trigram index; an OR across the join would scan both tables.
        hits = union(
            select(_NAME_HIT.c.id).where(_NAME_HIT.c.name.ilike(pattern, escape="\\")),
            select(_DESCRIPTION_HIT.c.game_id).where(
                _DESCRIPTION_HIT.c.description.ilike(pattern, escape="\\")
            ),
        )
        filters.append(listing.c.game_id.in_(hits))
    return filters


def _page(
    statement: Select[Any],
    column: ColumnElement[Any],
    tiebreak: ColumnElement[Any],
    descending: bool,
    keyset: bool,
) -> Select[Any]:
    """Order by the sort value, then the game id, so equal values still have one order."""
    if keyset:
        value = bindparam("after_value", type_=column.type)
        after_id = bindparam("after_id", type_=tiebreak.type)
        if descending:
            after = or_(column < value, and_(column == value, tiebreak < after_id))
        else:
            after = or_(column > value, and_(column == value, tiebreak > after_id))
        statement = statement.where(after)
    statement = statement.order_by(*_order(column, tiebreak, descending))
    offset, limit = bindparam("offset", type_=Integer), bindparam("limit", type_=Integer)
    return statement.offset(offset).limit(limit)


def _order(
    column: ColumnElement[Any], tiebreak: ColumnElement[Any], descending: bool
) -> tuple[ColumnElement[Any], ColumnElement[Any]]:
    if descending:
        return column.desc(), tiebreak.desc()
    return column.asc(), tiebreak.asc()


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
