"""Overlapping transactions made certain: wait until PostgreSQL says they wait for a lock.

A test of concurrent writers proves something only if the writers really overlap. Holding a
transaction open while others start, then waiting until they queue on its row locks, makes
the overlap a fact instead of a timing hope. SQLite's writers queue at ``BEGIN IMMEDIATE``, so
there the second cannot get ahead of the first whatever the timing.
"""

from __future__ import annotations

from sqlalchemy import text

from gamekeeper.db.database import Database
from support.waiting import until

_WAITING = text(
    "SELECT count(*) FROM pg_stat_activity"
    " WHERE datname = current_database() AND wait_event_type = 'Lock'"
)


async def until_waiting_for_a_lock(db: Database, *, count: int = 1, what: str) -> None:
    """Return once ``count`` transactions of ``db`` wait for a lock (PostgreSQL only)."""
    async with db.engine.connect() as conn:

        async def waiting() -> bool:
            found = (await conn.execute(_WAITING)).scalar_one()
            await conn.rollback()  # a fresh snapshot of the activity view on the next read
            return bool(found >= count)

        await until(waiting, what=what, every=0.005)
