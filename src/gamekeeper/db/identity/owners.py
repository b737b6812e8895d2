"""Operators and platforms in SQL."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from gamekeeper.core.identity.types import Operator, Platform
from gamekeeper.db.paging import oldest_first
from gamekeeper.db.tables.identity import operator, platform, platform_game


class SqlOwnerStore:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def add_operator(self, value: Operator) -> None:
        await self._conn.execute(
            insert(operator).values(id=value.id, name=value.name, created_at=value.created_at)
        )

    async def get_operator(self, operator_id: str) -> Operator | None:
        row = (
            (await self._conn.execute(select(operator).where(operator.c.id == operator_id)))
            .mappings()
            .first()
        )
        return None if row is None else Operator(**row)

    async def list_operators(self, *, limit: int, after: str | None) -> list[Operator]:
        statement = oldest_first(select(operator), operator, limit=limit, after=after)
        return [Operator(**row) for row in (await self._conn.execute(statement)).mappings()]

    async def add_platform(self, value: Platform) -> None:
        await self._conn.execute(
            insert(platform).values(id=value.id, name=value.name, created_at=value.created_at)
        )
        if value.game_ids:
            rows = [{"platform_id": value.id, "game_id": game_id} for game_id in value.game_ids]
            await self._conn.execute(insert(platform_game), rows)

    async def get_platform(self, platform_id: str) -> Platform | None:
        found = await self._platforms(select(platform).where(platform.c.id == platform_id))
        return found[0] if found else None

    async def list_platforms(self, *, limit: int, after: str | None) -> list[Platform]:
        statement = oldest_first(select(platform), platform, limit=limit, after=after)
        return await self._platforms(statement)

    async def _platforms(self, statement: object) -> list[Platform]:
        rows = list((await self._conn.execute(statement)).mappings())  # type: ignore[call-overload]
        games = await self._games([row["id"] for row in rows])
        return [Platform(**row, game_ids=tuple(games[row["id"]])) for row in rows]

    async def _games(self, platform_ids: Sequence[str]) -> dict[str, list[str]]:
        games: dict[str, list[str]] = defaultdict(list)
        if not platform_ids:
            return games
        statement = (
            select(platform_game.c.platform_id, platform_game.c.game_id)
            .where(platform_game.c.platform_id.in_(platform_ids))
            .order_by(platform_game.c.game_id)
        )
        for platform_id, game_id in await self._conn.execute(statement):
            games[platform_id].append(game_id)
        return games
