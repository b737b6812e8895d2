"""BattlePlace sessions stored directly, as the matchmaker would have formed them.

Results and ratings tests start from a session with known members (and optionally a server)
without going through the queue, and carry the tokens its participants would have been given.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import insert, select

from gamekeeper.core.matchmaking.tokens import new_request_id, new_session_id
from gamekeeper.db.tables.events import event
from gamekeeper.db.tables.identity import player
from gamekeeper.db.tables.matchmaking import (
    match_member,
    match_request,
    match_server,
    match_session,
    skill_rating,
)
from support.provision import in_app

TOKEN_LIFETIME = 3600


@dataclass(frozen=True)
class Seat:
    player_id: str
    request_id: str
    client_token: str  # Authorization: Bearer …
    session_token: str


@dataclass(frozen=True)
class Session:
    id: str
    game_id: str
    teams: list[list[Seat]]
    server_name: str | None
    server_session_token: str

    @property
    def seats(self) -> list[Seat]:
        return [seat for team in self.teams for seat in team]


async def _players(runtime, count: int) -> list[str]:
    ids = [str(uuid.uuid4()) for _ in range(count)]
    now = runtime.clock()
    async with runtime.db.transaction() as uow:
        await uow.conn.execute(
            insert(player), [{"id": p, "verified": False, "created_at": now} for p in ids]
        )
    return ids


async def _store(runtime, game_id, teams, server_name):
    now = runtime.clock()
    session_id = new_session_id()
    team_sizes = [len(team) for team in teams]
    async with runtime.db.transaction() as uow:
        conn = uow.conn
        requests = {}
        for team in teams:
            for player_id in team:
                requests[(player_id, len(requests))] = new_request_id()
        await conn.execute(
            insert(match_session).values(
                id=session_id,
                game_id=game_id,
                team_sizes=team_sizes,
                server_name=server_name,
                created_at=now,
                status="open",
                rated=False,
            )
        )
        seats, index = [], 0
        for team_index, team in enumerate(teams):
            row = []
            for mate_index, player_id in enumerate(team):
                request_id = requests[(player_id, index)]
                index += 1
                await conn.execute(
                    insert(match_request).values(
                        id=request_id,
                        game_id=game_id,
                        player_id=player_id,
                        team_sizes=team_sizes,
                        rating=25.0,
                        status="matched",
                        session_id=session_id,
                        created_at=now,
                        deadline_at=now + timedelta(seconds=30),
                        updated_at=now,
                    )
                )
                await conn.execute(
                    insert(match_member).values(
                        request_id=request_id,
                        session_id=session_id,
                        player_id=player_id,
                        team_index=team_index,
                        mate_index=mate_index,
                    )
                )
                row.append((player_id, request_id))
            seats.append(row)
        if server_name is not None:
            await conn.execute(
                insert(match_server).values(
                    game_id=game_id,
                    name=server_name,
                    expires_at=now + timedelta(hours=1),
                    session_id=session_id,
                    registered_at=now,
                    updated_at=now,
                )
            )
    return session_id, seats


def client_token(runtime, game_id: str, player_id: str) -> str:
    expires = int(runtime.clock().timestamp()) + TOKEN_LIFETIME
    return runtime.match_signer.client_token(
        game_id=game_id, player_id=player_id, expires_at=expires
    )


async def _seed(runtime, game_id, teams, server_name):
    if teams and isinstance(teams[0], int):  # team sizes: new players
        ids = iter(await _players(runtime, sum(teams)))
        teams = [[next(ids) for _ in range(size)] for size in teams]
    session_id, stored = await _store(runtime, game_id, teams, server_name)
    signer = runtime.match_signer
    return Session(
        id=session_id,
        game_id=game_id,
        teams=[
            [
                Seat(p, r, client_token(runtime, game_id, p), signer.session_token(r))
                for p, r in team
            ]
            for team in stored
        ],
        server_name=server_name,
        server_session_token=signer.server_session_token(session_id),
    )


def seed_session(client, game_id: str, teams, *, server: str | None = None) -> Session:
    """A stored open session of ``teams``: team sizes (new players) or lists of player ids."""
    return in_app(client, _seed, game_id, teams, server)


def new_players(client, count: int) -> list[str]:
    return in_app(client, _players, count)


async def _rows(runtime, statement):
    async with runtime.db.transaction(write=False) as uow:
        return [dict(row) for row in (await uow.conn.execute(statement)).mappings()]


def session_row(client, session_id: str) -> dict:
    rows = in_app(client, _rows, select(match_session).where(match_session.c.id == session_id))
    return rows[0]


def server_row(client, game_id: str, name: str) -> dict:
    where = (match_server.c.game_id == game_id, match_server.c.name == name)
    return in_app(client, _rows, select(match_server).where(*where))[0]


def ratings_of(client, game_id: str) -> dict[str, dict]:
    rows = in_app(client, _rows, select(skill_rating).where(skill_rating.c.game_id == game_id))
    return {row["player_id"]: row for row in rows}


def events_of(client, event_type: str) -> list[dict]:
    rows = in_app(client, _rows, select(event).where(event.c.type == event_type))
    return rows
