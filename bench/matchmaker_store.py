"""Storing one large matchmaking tick: ``python bench/matchmaker.py store``.

A throwaway PostgreSQL database (or a temporary SQLite file without ``--database-url``) gets
one game with two webhooks (so every event makes deliveries, as in production) and
``2 x --sessions`` waiting 1v1 requests. Then ``record_tick`` stores one tick that pairs them
all: the requests locked and checked, the sessions and their members written, the requests
settled, a ``match.found`` event and its deliveries per session, in one transaction, timed
from its start to its commit. The tick is repeated on fresh requests (``--rounds``) and the
median reported.

The baseline, measured in the same round on the same database: one transaction that inserts
the tick's rows without a statement of ours around them: one multi-row insert into a scratch
table per kind of row the tick writes (sessions, members, events, deliveries), as the least
any store of this tick does.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import text

from _harness import machine, progress, throwaway_database
from gamekeeper.core.audit import Actor
from gamekeeper.core.events import webhooks
from gamekeeper.core.identity import games, players
from gamekeeper.core.matchmaking.engine_types import Match, QueuedRequest, TickOutcome
from gamekeeper.core.matchmaking.sessions import record_tick
from gamekeeper.core.matchmaking.tokens import new_request_id
from gamekeeper.core.matchmaking.types import MatchRequest
from gamekeeper.core.owners.types import Owner
from gamekeeper.core.secrets import SecretBox
from gamekeeper.db.database import Database
from gamekeeper.db.migrate import upgrade
from gamekeeper.settings import normalize_database_url

ACTOR = Actor("system")
POOL_SIZES = (1, 1)


async def _project(db: Database, box: SecretBox, players_wanted: int) -> tuple[str, list[str]]:
    async with db.transaction() as uow:
        game = await games.create_game(uow, name="Bench arena", box=box, actor=ACTOR)
        for n in range(2):
            await webhooks.create_webhook(
                uow,
                owner=Owner.game(game.id),
                url=f"https://hooks{n}.example.com/in",
                box=box,
                actor=ACTOR,
            )
        ids = [(await players.create_player(uow, actor=ACTOR)).id for _ in range(players_wanted)]
    return game.id, ids


async def _waiting(db: Database, game_id: str, player_ids: list[str]) -> list[MatchRequest]:
    async with db.transaction() as uow:
        now = uow.now()
        requests = [
            MatchRequest(
                id=new_request_id(),
                game_id=game_id,
                player_id=player_id,
                team_sizes=POOL_SIZES,
                match_tag=None,
                server_tag=None,
                info=None,
                rating=25.0,
                status="waiting",
                reason=None,
                session_id=None,
                created_at=now,
                deadline_at=now,
                updated_at=now,
            )
            for player_id in player_ids
        ]
        for request in requests:
            await uow.matchmaking.add_request(request)
    return requests


def _outcome(game_id: str, requests: list[MatchRequest]) -> TickOutcome:
    pool = (game_id, POOL_SIZES, None, None)
    queued = [
        QueuedRequest(r.id, game_id, POOL_SIZES, None, None, 25.0, 0.0, 60.0) for r in requests
    ]
    matches = [
        Match(pool, ((queued[i],), (queued[i + 1],)), None) for i in range(0, len(queued), 2)
    ]
    return TickOutcome(matches=matches, failures=[])


async def _store(db: Database, game_id: str, requests: list[MatchRequest]) -> float:
    outcome = _outcome(game_id, requests)
    by_id = {r.id: r for r in requests}
    started = time.perf_counter()
    async with db.transaction() as uow:
        record = await record_tick(uow, outcome, requests=by_id, servers={})
    elapsed = time.perf_counter() - started
    assert len(record.sessions) == len(requests) // 2, "every pair stored"
    return elapsed


async def _baseline(db: Database, sessions: int) -> float:
    """The same number of rows of each kind, one multi-row insert per kind."""
    kinds = {
        "session": sessions,
        "member": 2 * sessions,
        "event": sessions,
        "delivery": 2 * sessions,
    }
    started = time.perf_counter()
    async with db.transaction() as uow:
        for kind, count in kinds.items():
            rows: list[dict[str, Any]] = [
                {"id": str(uuid.uuid4()), "body": kind} for _ in range(count)
            ]
            await uow.conn.execute(
                text(f"INSERT INTO bench_{kind} (id, body) VALUES (:id, :body)"), rows
            )
    return time.perf_counter() - started


async def _scratch_tables(db: Database) -> None:
    columns = "id VARCHAR(36) PRIMARY KEY, body TEXT"
    async with db.transaction() as uow:
        for kind in ("session", "member", "event", "delivery"):
            await uow.conn.execute(text(f"CREATE TABLE IF NOT EXISTS bench_{kind} ({columns})"))


async def run(args: argparse.Namespace) -> dict[str, Any]:
    box = SecretBox("bench-secret-key-0123456789abcdef-0123456789")
    with tempfile.TemporaryDirectory() as scratch:
        async with throwaway_database(args.database_url) as url:
            url = normalize_database_url(url or f"sqlite:///{Path(scratch) / 'bench.db'}")
            db = Database(url)
            try:
                await upgrade(db.engine)
                await _scratch_tables(db)
                progress(f"provisioning {2 * args.sessions} players")
                game_id, player_ids = await _project(db, box, 2 * args.sessions)
                ticks, bases = [], []
                for round_no in range(args.rounds):
                    requests = await _waiting(db, game_id, player_ids)
                    ticks.append(await _store(db, game_id, requests))
                    bases.append(await _baseline(db, args.sessions))
                    progress(
                        f"round {round_no + 1}: tick {ticks[-1]:.3f} s, bare {bases[-1]:.3f} s"
                    )
            finally:
                await db.close()
    return {
        "database": "postgresql" if args.database_url else "sqlite",
        "sessions": args.sessions,
        "tick_seconds": statistics.median(ticks),
        "baseline_seconds": statistics.median(bases),
        "machine": machine(),
    }


def render(result: dict[str, Any]) -> str:
    tick, base = result["tick_seconds"], result["baseline_seconds"]
    return "\n".join(
        [
            f"store one tick: {result['sessions']:,} sessions on {result['database']}",
            f"  record_tick        {tick:.3f} s  ({result['sessions'] / tick:,.0f} sessions/s)",
            f"  bare inserts       {base:.3f} s  (the same rows, one insert per kind)",
            f"  tick / bare        {tick / base:.1f}x",
        ]
    )


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--database-url", help="postgresql://... (default: SQLite in a temp dir)")
    parser.add_argument("--sessions", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=3)


def main(args: argparse.Namespace) -> int:
    print(render(asyncio.run(run(args))))
    return 0
