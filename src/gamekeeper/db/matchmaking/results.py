"""The results store in SQL: sessions read under lock, result reports, skill ratings."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from gamekeeper.core.matchmaking.types import (
    GameServer,
    Member,
    OpenSession,
    Outcome,
    Report,
    SkillRating,
)
from gamekeeper.db.tables.matchmaking import (
    match_member,
    match_report,
    match_server,
    match_session,
    skill_rating,
)

_RATING = [c for c in skill_rating.c if c.name != "conservative"]


class SqlResultStore:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    def _upsert(self) -> Any:
        return postgresql.insert if self._conn.dialect.name == "postgresql" else sqlite.insert

    # Sessions and reports

    async def session_of_request(self, request_id: str) -> tuple[str, str] | None:
        statement = select(match_member.c.session_id, match_member.c.player_id).where(
            match_member.c.request_id == request_id
        )
        row = (await self._conn.execute(statement)).first()
        return None if row is None else (row[0], row[1])

    async def lock_session(self, session_id: str) -> OpenSession | None:
        # The session row is the lock every report takes: reports of one session queue up on
        # it (PostgreSQL); SQLite serializes all writers with BEGIN IMMEDIATE anyway.
        statement = (
            select(
                match_session.c.game_id,
                match_session.c.team_sizes,
                match_session.c.server_name,
                match_session.c.status,
            )
            .where(match_session.c.id == session_id)
            .with_for_update()
        )
        row = (await self._conn.execute(statement)).mappings().first()
        if row is None:
            return None
        members = await self._conn.execute(
            select(match_member.c.request_id, match_member.c.player_id, match_member.c.team_index)
            .where(match_member.c.session_id == session_id)
            .order_by(match_member.c.team_index, match_member.c.mate_index)
        )
        return OpenSession(
            id=session_id,
            game_id=row["game_id"],
            team_count=len(row["team_sizes"]),
            server_name=row["server_name"],
            status=row["status"],
            members=tuple(Member(r, p, t) for r, p, t in members),
        )

    async def put_report(
        self, session_id: str, reporter: str, report: Report, at: datetime
    ) -> None:
        values = {
            "session_id": session_id,
            "reporter": reporter,
            "status": report.status,
            "ranks": None if report.ranks is None else list(report.ranks),
            "reported_at": at,
        }
        statement = self._upsert()(match_report).values(values)
        statement = statement.on_conflict_do_update(
            index_elements=[match_report.c.session_id, match_report.c.reporter],
            set_={
                "status": statement.excluded.status,
                "ranks": statement.excluded.ranks,
                "reported_at": statement.excluded.reported_at,
            },
        )
        await self._conn.execute(statement)

    async def reports(self, session_id: str) -> dict[str, Report]:
        statement = select(
            match_report.c.reporter, match_report.c.status, match_report.c.ranks
        ).where(match_report.c.session_id == session_id)
        rows = await self._conn.execute(statement)
        return {
            reporter: Report(status, None if ranks is None else tuple(ranks))
            for reporter, status, ranks in rows
        }

    async def close_session(
        self, session_id: str, *, outcome: Outcome, rated: bool, at: datetime
    ) -> None:
        statement = (
            update(match_session)
            .where(match_session.c.id == session_id, match_session.c.status == "open")
            .values(
                status=outcome.status,
                ranks=None if outcome.ranks is None else list(outcome.ranks),
                rated=rated,
                ended_at=at,
            )
        )
        if (await self._conn.execute(statement)).rowcount != 1:
            raise RuntimeError(f"session {session_id} was not open when closed")

    async def stale_sessions(self, before: datetime, limit: int) -> list[str]:
        statement = (
            select(match_session.c.id)
            .where(match_session.c.status == "open", match_session.c.created_at < before)
            .order_by(match_session.c.created_at)
            .limit(limit)
        )
        return list((await self._conn.execute(statement)).scalars())

    async def free_server(
        self, game_id: str, name: str, session_id: str, at: datetime
    ) -> GameServer | None:
        statement = (
            update(match_server)
            .where(
                match_server.c.game_id == game_id,
                match_server.c.name == name,
                match_server.c.session_id == session_id,
            )
            .values(session_id=None, updated_at=at)
            .returning(*match_server.c)
        )
        row = (await self._conn.execute(statement)).mappings().first()
        return None if row is None else GameServer(**row)

    # Ratings

    async def rating(self, game_id: str, player_id: str) -> SkillRating | None:
        statement = select(*_RATING).where(
            skill_rating.c.game_id == game_id, skill_rating.c.player_id == player_id
        )
        row = (await self._conn.execute(statement)).mappings().first()
        return None if row is None else SkillRating(**row)

    async def lock_ratings(
        self, starting: Sequence[SkillRating], at: datetime
    ) -> dict[str, SkillRating]:
        if not starting:
            return {}
        # Rows are created first, so that a new player's row is locked like any other; then
        # locked in player order, so two sessions sharing players wait instead of deadlocking.
        game_id = starting[0].game_id
        await self._conn.execute(
            self._upsert()(skill_rating)
            .values([_values(r, at) for r in sorted(starting, key=lambda r: r.player_id)])
            .on_conflict_do_nothing()
        )
        statement = (
            select(*_RATING)
            .where(
                skill_rating.c.game_id == game_id,
                skill_rating.c.player_id.in_([r.player_id for r in starting]),
            )
            .order_by(skill_rating.c.player_id)
            .with_for_update()
        )
        rows = (await self._conn.execute(statement)).mappings()
        return {row["player_id"]: SkillRating(**row) for row in rows}

    async def save_ratings(self, ratings: Sequence[SkillRating]) -> None:
        if not ratings:
            return
        statement = self._upsert()(skill_rating).values(
            [_values(r, r.updated_at) for r in sorted(ratings, key=lambda r: r.player_id)]
        )
        statement = statement.on_conflict_do_update(
            index_elements=[skill_rating.c.game_id, skill_rating.c.player_id],
            set_={
                name: getattr(statement.excluded, name)
                for name in ("mu", "sigma", "conservative", "matches", "updated_at")
            },
        )
        await self._conn.execute(statement)

    async def count_above(self, game_id: str, conservative: float) -> int:
        statement = (
            select(func.count())
            .select_from(skill_rating)
            .where(skill_rating.c.game_id == game_id, skill_rating.c.conservative > conservative)
        )
        return int((await self._conn.execute(statement)).scalar_one())


def _values(rating: SkillRating, at: datetime | None) -> dict[str, Any]:
    return {
        "game_id": rating.game_id,
        "player_id": rating.player_id,
        "mu": rating.mu,
        "sigma": rating.sigma,
        "conservative": rating.conservative,
        "matches": rating.matches,
        "updated_at": at,
    }
