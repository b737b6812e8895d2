"""Points against real storage: concurrent batches for one player stay within the caps.

The HTTP test client runs requests one at a time, so concurrency is tested here, with
transactions that really overlap: on PostgreSQL the test waits until the others queue on the
first's row locks; on SQLite, BEGIN IMMEDIATE queues them.
"""

from __future__ import annotations

import asyncio

import pytest

from gamekeeper.core.audit import Actor
from gamekeeper.core.catalog import points
from gamekeeper.core.catalog.types import Award, Listing, Platform
from gamekeeper.core.identity import games
from gamekeeper.core.secrets import SecretBox
from support.locks import until_waiting_for_a_lock

pytestmark = pytest.mark.anyio
ADMIN = Actor("admin")
BOX = SecretBox("x" * 40)


async def _game(db, **caps) -> tuple[str, str]:
    async with db.transaction() as uow:
        developer, _ = await games.create_developer(
            uow, name="Dev", email=None, box=BOX, actor=ADMIN
        )
        game = await games.create_game(
            uow, name="G", developer_id=developer.id, box=BOX, actor=ADMIN
        )
        now = uow.now()
        await uow.catalog.add_listing(
            Listing(
                game_id=game.id,
                description="A game",
                platform=Platform.WEB,
                creator_id=developer.id,
                created_at=now,
                updated_at=now,
                **caps,
            )
        )
    return game.id, developer.id


async def _save(db, game_id: str, developer_id: str, entries) -> list[Award]:
    async with db.transaction() as uow:
        return await points.save_points(
            uow, game_id=game_id, developer_id=developer_id, entries=entries
        )


@pytest.mark.parametrize("seeded", [False, True])
async def test_concurrent_batches_never_exceed_the_daily_caps(db, seeded):
    game_id, developer_id = await _game(
        db, max_cumulative_points_per_day=20, max_sessions_per_day=9
    )
    if seeded:  # the totals row exists: batches race on reading it, not on creating it
        await _save(db, game_id, developer_id, [("alice", 1)])
    entries = [("alice", 4), ("bob", 2), ("alice", 3)]
    # The first batch holds its transaction open until the seven others wait for its locks.
    async with db.transaction() as uow:
        first = await points.save_points(
            uow, game_id=game_id, developer_id=developer_id, entries=entries
        )
        others = [asyncio.create_task(_save(db, game_id, developer_id, entries)) for _ in range(7)]
        if not db.is_sqlite:  # SQLite's writers queue at BEGIN: none can get ahead of another
            await until_waiting_for_a_lock(db, count=7, what="the other batches wait for the first")
    results = [first, *await asyncio.gather(*others)]
    awarded = {"alice": 0, "bob": 0}
    for award in (a for batch in results for a in batch):
        awarded[award.player_id] += award.awarded
    async with db.transaction(write=False) as uow:
        alice = await uow.points.tally(game_id, "alice")
        bob = await uow.points.tally(game_id, "bob")
    assert alice.day_sessions == 9 and alice.day_points == 20
    assert awarded["alice"] + int(seeded) == alice.points == alice.day_points
    assert awarded["bob"] == bob.points == 16 and bob.day_sessions == 8
