"""The catalog store in SQL: listings joined to their games, tokens, developer identities."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, delete, insert, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from gamekeeper.core.catalog.types import (
    ApprovalStatus,
    CatalogGame,
    GameToken,
    IdentityKind,
    Listing,
    ListingQuery,
    Platform,
)
from gamekeeper.core.identity.types import Game
from gamekeeper.db.catalog.query import COLUMNS, FROM, count_statement, page_statement, parameters
from gamekeeper.db.tables.catalog import developer_identity, game_token, listing
from gamekeeper.db.tables.identity import developer, game

_GAME_NAMES = tuple(c.name for c in game.c)
_LISTING_NAMES = tuple(c.name for c in listing.c)
_LISTED = listing.c.hidden.is_(False)
# Built once: a statement object is reused from SQLAlchemy's compiled cache, and ``==`` on a
# bound parameter renders once, where ``IN`` renders its parameters on every execution.
_BY_ID = select(*COLUMNS).select_from(FROM).where(listing.c.game_id == bindparam("game_id"))


def _catalog_game(row: Sequence[Any], start: int = 0) -> CatalogGame:
    """The game of a row holding ``COLUMNS`` from position ``start``."""
    middle = start + len(_GAME_NAMES)
    fields = dict(zip(_GAME_NAMES, row[start:middle], strict=True))
    fields["allowed_origins"] = tuple(fields["allowed_origins"])
    values = dict(zip(_LISTING_NAMES, row[middle : middle + len(_LISTING_NAMES)], strict=True))
    values["platform"] = Platform(values["platform"])
    values["approval_status"] = ApprovalStatus(values["approval_status"])
    values["org_rewards_split"] = dict(values["org_rewards_split"])
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
        row = (await self._conn.execute(_BY_ID, {"game_id": game_id})).first()
        return None if row is None else _catalog_game(row)

    async def get_many(self, game_ids: Sequence[str]) -> list[CatalogGame]:
        if not game_ids:
            return []
        statement = select(*COLUMNS).select_from(FROM).where(listing.c.game_id.in_(game_ids))
        return [_catalog_game(row) for row in await self._conn.execute(statement)]

    async def query(self, query: ListingQuery) -> tuple[list[CatalogGame], int]:
        values = parameters(query)
        rows = (await self._conn.execute(page_statement(query), values)).all()
        if query.text and rows:  # the search's rows carry the count of matches
            return [_catalog_game(row) for row in rows], int(rows[0][-1])
        total = (await self._conn.execute(count_statement(query), values)).scalar_one()
        return [_catalog_game(row) for row in rows], int(total)

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
            select(game_token.c.token_address.label("token"), *COLUMNS)
            .select_from(FROM.join(game_token, game_token.c.game_id == listing.c.game_id))
            .where(game_token.c.token_address.in_(token_addresses), _LISTED)
            .order_by(game_token.c.created_at, game_token.c.game_id)
        )
        for row in await self._conn.execute(statement):
            found.setdefault(row[0], []).append(_catalog_game(row, start=1))
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
