"""The points store in SQL: sessions, and per-player totals that double as the cap lock."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from gamekeeper.core.catalog.types import PointSession, Ranked, Tally
from gamekeeper.db.tables.catalog import point_session, point_total

_TALLY = [c for c in point_total.c if c.name != "game_id"]


def _tally(row: Any) -> Tally:
    return Tally(**row)


class SqlPointsStore:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def lock_tallies(self, game_id: str, player_ids: Sequence[str]) -> dict[str, Tally]:
        if not player_ids:
            return {}
        # Rows are created, then locked, in player order: two batches naming the same players
        # wait for each other instead of deadlocking. SQLite has no row locks; its writers are
        # serialized by BEGIN IMMEDIATE.
        upsert = postgresql.insert if self._conn.dialect.name == "postgresql" else sqlite.insert
        zero = {"points": 0, "sessions": 0, "day": None, "day_points": 0, "day_sessions": 0}
        await self._conn.execute(
            upsert(point_total)
            .values([{"game_id": game_id, "player_id": p, **zero} for p in sorted(player_ids)])
            .on_conflict_do_nothing()
        )
        statement = (
            select(*_TALLY)
            .where(point_total.c.game_id == game_id, point_total.c.player_id.in_(player_ids))
            .order_by(point_total.c.player_id)
            .with_for_update()
        )
        rows = (await self._conn.execute(statement)).mappings()
        return {row["player_id"]: _tally(row) for row in rows}

    async def record(
        self, game_id: str, sessions: Sequence[PointSession], tallies: Sequence[Tally]
    ) -> None:
        if sessions:
            await self._conn.execute(
                insert(point_session),
                [
                    {
                        "game_id": s.game_id,
                        "player_id": s.player_id,
                        "points_requested": s.points_requested,
                        "points_awarded": s.points_awarded,
                        "day": s.day,
                        "created_at": s.created_at,
                    }
                    for s in sessions
                ],
            )
        if not tallies:
            return
        statement = (
            update(point_total)
            .where(
                point_total.c.game_id == bindparam("g_game_id"),
                point_total.c.player_id == bindparam("g_player_id"),
            )
            .values({name: bindparam("v_" + name) for name in _VALUES})
        )
        await self._conn.execute(
            statement,
            [
                {
                    "g_game_id": game_id,
                    "g_player_id": t.player_id,
                    **{"v_" + name: getattr(t, name) for name in _VALUES},
                }
                for t in tallies
            ],
        )

    async def tally(self, game_id: str, player_id: str) -> Tally | None:
        statement = select(*_TALLY).where(
            point_total.c.game_id == game_id, point_total.c.player_id == player_id
        )
        row = (await self._conn.execute(statement)).mappings().first()
        return None if row is None else _tally(row)

    async def ranking(self, game_id: str, *, limit: int, offset: int) -> tuple[list[Ranked], int]:
        scored = (point_total.c.game_id == game_id, point_total.c.sessions > 0)
        count = select(func.count()).select_from(point_total).where(*scored)
        total = int((await self._conn.execute(count)).scalar_one())
        statement = (
            select(point_total.c.player_id, point_total.c.points)
            .where(*scored)
            .order_by(point_total.c.points.desc(), point_total.c.player_id)
            .offset(offset)
            .limit(limit)
        )
        rows = await self._conn.execute(statement)
        ranked = [
            Ranked(rank=offset + i + 1, player_id=player, points=int(points))
            for i, (player, points) in enumerate(rows)
        ]
        return ranked, total


_VALUES = ("points", "sessions", "day", "day_points", "day_sessions")
