"""The catalog store in SQL: listings joined to their games, tokens, developer identities."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, delete, func, insert, or_, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import ColumnElement

from gamekeeper.core.catalog.types import (
    ApprovalStatus,
    CatalogGame,
    GameToken,
    IdentityKind,
    Listing,
    ListingQuery,
    Platform,
    SortKey,
)
from gamekeeper.core.identity.types import Game
from gamekeeper.db.tables import developer, developer_identity, game, game_token, listing

_PREFIX = "l_"
_COLUMNS = [*game.c, *(c.label(_PREFIX + c.name) for c in listing.c)]
_FROM = listing.join(game, game.c.id == listing.c.game_id)
_LISTED = listing.c.hidden.is_(False)  # as the partial indexes say it
_SORT: dict[SortKey, ColumnElement[Any]] = {
    SortKey.NAME: func.lower(game.c.name),
    **{key: listing.c[key.value] for key in SortKey if key != SortKey.NAME},
}


def _catalog_game(row: RowMapping) -> CatalogGame:
    values = {name[len(_PREFIX) :]: row[name] for name in row if name.startswith(_PREFIX)}
    values["platform"] = Platform(values["platform"])
    values["approval_status"] = ApprovalStatus(values["approval_status"])
    values["org_rewards_split"] = dict(values["org_rewards_split"])
    fields = {c.name: row[c.name] for c in game.c}
    fields["allowed_origins"] = tuple(fields["allowed_origins"])
    return CatalogGame(Game(**fields), Listing(**values))


def _listing_values(value: Listing) -> dict[str, Any]:
    values = {c.name: getattr(value, c.name) for c in listing.c}
    values["platform"] = value.platform.value
    values["approval_status"] = value.approval_status.value
    return values


def _token(row: RowMapping) -> GameToken:
    return GameToken(**row)


class SqlCatalogStore:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def _rows(self, statement: Any) -> list[RowMapping]:
        return list((await self._conn.execute(statement)).mappings())

    # Listings
    async def add_listing(self, value: Listing) -> None:
        await self._conn.execute(insert(listing).values(**_listing_values(value)))

    async def update_listing(self, value: Listing) -> None:
        values = _listing_values(value)
        del values["game_id"], values["created_at"]
        await self._conn.execute(
            update(listing).where(listing.c.game_id == value.game_id).values(**values)
        )

    async def get(self, game_id: str) -> CatalogGame | None:
        found = await self.get_many([game_id])
        return found[0] if found else None

    async def get_many(self, game_ids: Sequence[str]) -> list[CatalogGame]:
        if not game_ids:
            return []
        statement = select(*_COLUMNS).select_from(_FROM).where(listing.c.game_id.in_(game_ids))
        return [_catalog_game(row) for row in await self._rows(statement)]

    async def query(self, query: ListingQuery) -> tuple[list[CatalogGame], int]:
        filters = _filters(query)
        total_statement = select(func.count()).select_from(_FROM).where(*filters)
        total = int((await self._conn.execute(total_statement)).scalar_one())
        statement = _page(select(*_COLUMNS).select_from(_FROM).where(*filters), query)
        return [_catalog_game(row) for row in await self._rows(statement)], total

    # Tokens
    async def add_token(self, value: GameToken) -> GameToken:
        key = and_(
            game_token.c.token_address == value.token_address,
            game_token.c.game_id == value.game_id,
        )
        existing = await self._rows(select(game_token).where(key))
        if existing:
            await self._conn.execute(
                update(game_token).where(key).values(symbol=value.symbol, chain=value.chain)
            )
            return GameToken(**{**existing[0], "symbol": value.symbol, "chain": value.chain})
        await self._conn.execute(insert(game_token).values(**_token_values(value)))
        return value

    async def remove_token(self, game_id: str, token_address: str) -> bool:
        result = await self._conn.execute(
            delete(game_token).where(
                game_token.c.game_id == game_id, game_token.c.token_address == token_address
            )
        )
        return result.rowcount == 1

    async def tokens_of(self, game_ids: Sequence[str]) -> dict[str, list[GameToken]]:
        found: dict[str, list[GameToken]] = {}
        if not game_ids:
            return found
        statement = (
            select(game_token)
            .where(game_token.c.game_id.in_(game_ids))
            .order_by(game_token.c.created_at, game_token.c.token_address)
        )
        for row in await self._rows(statement):
            found.setdefault(row["game_id"], []).append(_token(row))
        return found

    async def games_of_tokens(self, token_addresses: Sequence[str]) -> dict[str, list[CatalogGame]]:
        found: dict[str, list[CatalogGame]] = {}
        if not token_addresses:
            return found
        statement = (
            select(game_token.c.token_address.label("token"), *_COLUMNS)
            .select_from(_FROM.join(game_token, game_token.c.game_id == listing.c.game_id))
            .where(game_token.c.token_address.in_(token_addresses), _LISTED)
            .order_by(game_token.c.created_at, game_token.c.game_id)
        )
        for row in await self._rows(statement):
            found.setdefault(row["token"], []).append(_catalog_game(row))
        return found

    # Developers and their outside identities
    async def existing_developers(self, developer_ids: Sequence[str]) -> set[str]:
        if not developer_ids:
            return set()
        statement = select(developer.c.id).where(developer.c.id.in_(developer_ids))
        return set((await self._conn.execute(statement)).scalars())

    async def find_identity(self, kind: IdentityKind, value: str) -> str | None:
        statement = select(developer_identity.c.developer_id).where(
            developer_identity.c.kind == kind.value, developer_identity.c.value == value
        )
        found: str | None = (await self._conn.execute(statement)).scalar()
        return found

    async def add_identity(
        self, kind: IdentityKind, value: str, *, developer_id: str, at: datetime
    ) -> str:
        try:
            async with self._conn.begin_nested():
                await self._conn.execute(
                    insert(developer_identity).values(
                        kind=kind.value, value=value, developer_id=developer_id, created_at=at
                    )
                )
        except IntegrityError:
            # Linked meanwhile by a concurrent request: the first link stands.
            winner = await self.find_identity(kind, value)
            if winner is None:
                raise
            return winner
        return developer_id

    async def identities_of(self, developer_id: str) -> list[tuple[IdentityKind, str]]:
        statement = (
            select(developer_identity.c.kind, developer_identity.c.value)
            .where(developer_identity.c.developer_id == developer_id)
            .order_by(developer_identity.c.created_at, developer_identity.c.kind)
        )
        return [(IdentityKind(kind), value) for kind, value in await self._conn.execute(statement)]


def _token_values(value: GameToken) -> dict[str, Any]:
    return {
        "token_address": value.token_address,
        "game_id": value.game_id,
        "symbol": value.symbol,
        "chain": value.chain,
        "created_at": value.created_at,
    }


def _filters(query: ListingQuery) -> list[ColumnElement[bool]]:
    filters: list[ColumnElement[bool]] = []
    if query.developer_id is None:
        filters.append(_LISTED)
    else:
        filters.append(
            or_(
                listing.c.creator_id == query.developer_id, listing.c.owner_id == query.developer_id
            )
        )
    if query.text:
        pattern = "%" + _escape_like(query.text) + "%"
        # ILIKE on PostgreSQL, lower() LIKE lower() on SQLite (ASCII case-folding only there).
        filters.append(
            or_(
                game.c.name.ilike(pattern, escape="\\"),
                listing.c.description.ilike(pattern, escape="\\"),
            )
        )
    return filters


def _page(statement: Select[Any], query: ListingQuery) -> Select[Any]:
    """Order by the sort value, then the game id, so equal values still have one order."""
    column, tiebreak = _SORT[query.sort], listing.c.game_id
    if query.after is not None:
        value, after_id = query.after.value, query.after.game_id
        if query.descending:
            keyset = or_(column < value, and_(column == value, tiebreak < after_id))
        else:
            keyset = or_(column > value, and_(column == value, tiebreak > after_id))
        statement = statement.where(keyset)
    if query.descending:
        statement = statement.order_by(column.desc(), tiebreak.desc())
    else:
        statement = statement.order_by(column.asc(), tiebreak.asc())
    return statement.offset(query.offset).limit(query.limit)


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
