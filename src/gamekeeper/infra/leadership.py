"""Leadership of a shard: one process at a time, elected with a PostgreSQL advisory lock.

Every process stands as a candidate for each shard; the one holding the shard's advisory lock
leads it. A standby tries again every ``STANDBY_RETRY`` seconds, so it takes over within about
a second of the leader's connection closing. The leader pings the lock's connection as often:
once it is lost, another process may hold the lock, so the leader stops leading. On SQLite
there is a single process, and it leads every shard.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable

import structlog
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from gamekeeper.db.database import Database

log = structlog.get_logger(__name__)

STANDBY_RETRY = 1.0  # seconds between a standby's attempts, and between pings of a held lock

Lead = Callable[[asyncio.Event], Awaitable[None]]


class NotLeader(Exception):
    """Another process holds the shard's lock."""


async def stand(
    db: Database,
    *,
    role: str,
    shard: int,
    lock_id: int,
    lead: Lead,
    stopping: asyncio.Event,
) -> None:
    """Lead ``shard`` whenever this process holds its lock, until ``stopping`` is set.

    ``lead(lost)`` runs while the lock is held and must return soon after ``lost`` is set.
    """
    while not stopping.is_set():
        try:
            async with _holding(db, role=role, shard=shard, lock_id=lock_id) as lost:
                await lead(lost)
        except NotLeader:
            pass
        except Exception:
            log.exception(f"{role}.shard_failed", shard=shard)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stopping.wait(), STANDBY_RETRY)


@contextlib.asynccontextmanager
async def _holding(
    db: Database, *, role: str, shard: int, lock_id: int
) -> AsyncIterator[asyncio.Event]:
    """Hold the shard's lock; the event is set if the lock's connection is lost."""
    lost = asyncio.Event()
    if db.is_sqlite:
        yield lost
        return
    async with db.engine.connect() as conn:
        key = {"key": lock_id}
        taken = await conn.scalar(text("SELECT pg_try_advisory_lock(:key)"), key)
        await conn.commit()
        if not taken:
            raise NotLeader
        log.info(f"{role}.leading", shard=shard)
        watch = asyncio.create_task(_watch(conn, lost, role=role))
        try:
            yield lost
        finally:
            watch.cancel()
            with contextlib.suppress(Exception):
                await conn.execute(text("SELECT pg_advisory_unlock(:key)"), key)
                await conn.commit()


async def _watch(conn: AsyncConnection, lost: asyncio.Event, *, role: str) -> None:
    try:
        while True:
            await asyncio.sleep(STANDBY_RETRY)
            await conn.execute(text("SELECT 1"))
            await conn.commit()
    except Exception:
        log.warning(f"{role}.lock_connection_lost")
        lost.set()
