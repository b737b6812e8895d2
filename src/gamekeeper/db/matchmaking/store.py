"""The matchmaking store in SQL: requests, sessions with their members, dedicated servers."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from gamekeeper.core.matchmaking.types import (
    FailureReason,
    GameServer,
    MatchRequest,
    MatchSession,
    Participant,
)
from gamekeeper.db.tables.matchmaking import (
    match_member,
    match_request,
    match_server,
    match_session,
)

_CHUNK = 1000  # ids per IN list, well under every driver's parameter limit


def _chunks(items: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


def _request(row: Any) -> MatchRequest:
    return MatchRequest(**{**row, "team_sizes": tuple(row["team_sizes"])})


def _server(row: Any) -> GameServer:
    return GameServer(**row)


class SqlMatchmakingStore:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    # Requests

    async def add_request(self, request: MatchRequest) -> None:
        values = {c.name: getattr(request, c.name) for c in match_request.c}
        values["team_sizes"] = list(request.team_sizes)
        await self._conn.execute(insert(match_request).values(values))

    async def get_request(self, request_id: str) -> MatchRequest | None:
        statement = select(match_request).where(match_request.c.id == request_id)
        row = (await self._conn.execute(statement)).mappings().first()
        return _request(row) if row else None

    async def cancel_request(self, request_id: str, now: datetime) -> bool:
        statement = (
            update(match_request)
            .where(match_request.c.id == request_id, match_request.c.status == "waiting")
            .values(status="failed", reason="cancelled", updated_at=now)
        )
        return (await self._conn.execute(statement)).rowcount == 1

    async def waiting_requests(self) -> list[MatchRequest]:
        statement = select(match_request).where(match_request.c.status == "waiting")
        return [_request(row) for row in (await self._conn.execute(statement)).mappings()]

    async def requests_changed_since(self, since: datetime) -> list[MatchRequest]:
        statement = select(match_request).where(match_request.c.updated_at >= since)
        return [_request(row) for row in (await self._conn.execute(statement)).mappings()]

    async def lock_waiting(self, request_ids: Sequence[str]) -> set[str]:
        """Those of ``request_ids`` still waiting, locked until the transaction ends."""
        waiting: set[str] = set()
        for chunk in _chunks(sorted(request_ids)):
            statement = (
                select(match_request.c.id)
                .where(match_request.c.id.in_(chunk), match_request.c.status == "waiting")
                .order_by(match_request.c.id)
                .with_for_update()
            )
            waiting.update((await self._conn.execute(statement)).scalars())
        return waiting

    async def settle(
        self,
        matched: Sequence[tuple[str, str]],
        failed: Sequence[tuple[str, FailureReason]],
        now: datetime,
    ) -> None:
        """Mark requests (locked by ``lock_waiting``) matched into a session, or failed."""
        statement = (
            update(match_request)
            .where(match_request.c.id == bindparam("rid"))
            .values(
                status=bindparam("new_status"),
                reason=bindparam("new_reason"),
                session_id=bindparam("sid"),
                updated_at=now,
            )
        )
        rows = [
            {"rid": r, "new_status": "matched", "new_reason": None, "sid": s} for r, s in matched
        ]
        rows += [
            {"rid": r, "new_status": "failed", "new_reason": why, "sid": None} for r, why in failed
        ]
        if rows:
            await self._conn.execute(statement, rows)

    # Sessions

    async def add_sessions(self, sessions: Sequence[MatchSession]) -> None:
        if not sessions:
            return
        await self._conn.execute(
            insert(match_session),
            [
                {
                    "id": s.id,
                    "game_id": s.game_id,
                    "team_sizes": list(s.team_sizes),
                    "match_tag": s.match_tag,
                    "server_tag": s.server_tag,
                    "server_name": s.server_name,
                    "server_info": s.server_info,
                    "created_at": s.created_at,
                    "status": "open",
                    "rated": False,
                }
                for s in sessions
            ],
        )
        await self._conn.execute(
            insert(match_member),
            [
                {
                    "request_id": m.request_id,
                    "session_id": s.id,
                    "player_id": m.player_id,
                    "team_index": m.team_index,
                    "mate_index": m.mate_index,
                    "info": m.info,
                }
                for s in sessions
                for m in s.members
            ],
        )

    async def _sessions(self, where: Any) -> list[MatchSession]:
        rows = (await self._conn.execute(select(match_session).where(where))).mappings().all()
        if not rows:
            return []
        members: dict[str, list[Participant]] = {row["id"]: [] for row in rows}
        statement = (
            select(match_member)
            .where(match_member.c.session_id.in_(list(members)))
            .order_by(match_member.c.team_index, match_member.c.mate_index)
        )
        for m in (await self._conn.execute(statement)).mappings():
            members[m["session_id"]].append(
                Participant(
                    request_id=m["request_id"],
                    player_id=m["player_id"],
                    team_index=m["team_index"],
                    mate_index=m["mate_index"],
                    info=m["info"],
                )
            )
        return [
            MatchSession(
                id=row["id"],
                game_id=row["game_id"],
                team_sizes=tuple(row["team_sizes"]),
                match_tag=row["match_tag"],
                server_tag=row["server_tag"],
                server_name=row["server_name"],
                server_info=row["server_info"],
                members=tuple(members[row["id"]]),
                created_at=row["created_at"],
            )
            for row in rows
        ]

    async def get_session(self, session_id: str) -> MatchSession | None:
        found = await self._sessions(match_session.c.id == session_id)
        return found[0] if found else None

    async def take_unfetched_sessions(
        self, game_id: str, server_name: str, now: datetime
    ) -> list[MatchSession]:
        """Sessions given to a server that it has not fetched yet; they count as fetched now."""
        where = and_(
            match_session.c.game_id == game_id,
            match_session.c.server_name == server_name,
            match_session.c.fetched_at.is_(None),
        )
        found = await self._sessions(where)
        if found:
            await self._conn.execute(
                update(match_session)
                .where(match_session.c.id.in_([s.id for s in found]))
                .values(fetched_at=now)
            )
        return found

    # Servers

    async def put_server(self, server: GameServer) -> None:
        """Register a server or renew it; a renewal keeps the session it hosts."""
        values = {c.name: getattr(server, c.name) for c in match_server.c}
        upsert = postgresql.insert if self._conn.dialect.name == "postgresql" else sqlite.insert
        statement = upsert(match_server).values(values)
        statement = statement.on_conflict_do_update(
            index_elements=[match_server.c.game_id, match_server.c.name],
            set_={
                "server_tag": statement.excluded.server_tag,
                "info": statement.excluded.info,
                "expires_at": statement.excluded.expires_at,
                "updated_at": statement.excluded.updated_at,
            },
        )
        await self._conn.execute(statement)

    async def get_server(self, game_id: str, name: str) -> GameServer | None:
        statement = select(match_server).where(
            match_server.c.game_id == game_id, match_server.c.name == name
        )
        row = (await self._conn.execute(statement)).mappings().first()
        return _server(row) if row else None

    async def active_servers(self, now: datetime) -> list[GameServer]:
        statement = select(match_server).where(match_server.c.expires_at > now)
        return [_server(row) for row in (await self._conn.execute(statement)).mappings()]

    async def servers_changed_since(self, since: datetime) -> list[GameServer]:
        statement = select(match_server).where(match_server.c.updated_at >= since)
        return [_server(row) for row in (await self._conn.execute(statement)).mappings()]

    async def claim_server(self, game_id: str, name: str, session_id: str, now: datetime) -> bool:
        """Give a free, live server a session; False if it is gone or already busy."""
        statement = (
            update(match_server)
            .where(
                match_server.c.game_id == game_id,
                match_server.c.name == name,
                match_server.c.session_id.is_(None),
                match_server.c.expires_at > now,
            )
            .values(session_id=session_id, updated_at=now)
        )
        return (await self._conn.execute(statement)).rowcount == 1
