"""The connection pool after PostgreSQL dropped its connections (a restart, a failover).

The pool does not ping on every checkout. A connection that sat idle is checked before use,
so an idle server recovers without a failed request; a connection that dies while in use
fails that one request as unavailable, and the pool then replaces all its older connections.
"""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from gamekeeper.core.errors import Unavailable
from gamekeeper.db.database import Database

pytestmark = pytest.mark.anyio


async def _drop_connections(url: str) -> int:
    """What a server restart does to clients: every session of the database terminated."""
    name = url.rsplit("/", 1)[1]
    engine = create_async_engine(url.rsplit("/", 1)[0] + "/postgres", isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            result = await conn.execute(
                text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE datname = :name AND pid <> pg_backend_pid()"
                ),
                {"name": name},
            )
            return int(result.scalar_one())
    finally:
        await engine.dispose()


async def _answer(db: Database) -> int:
    async with db.read() as uow:
        return int((await uow.conn.execute(text("SELECT 41 + 1"))).scalar_one())


async def _fill_pool(db: Database, connections: int) -> None:
    """Leave ``connections`` pooled connections behind, all opened at once."""
    release = asyncio.Event()
    entered = [asyncio.Event() for _ in range(connections)]

    async def hold(inside: asyncio.Event) -> None:
        async with db.read() as uow:
            await uow.conn.execute(text("SELECT 1"))
            inside.set()
            await release.wait()

    holders = [asyncio.create_task(hold(inside)) for inside in entered]
    await asyncio.wait_for(asyncio.gather(*(inside.wait() for inside in entered)), timeout=30)
    release.set()
    await asyncio.gather(*holders)


async def test_idle_connections_are_checked_before_use(pg_database_url):
    db = Database(pg_database_url, ping_idle_after=0.0)
    try:
        await _fill_pool(db, 3)
        assert await _drop_connections(pg_database_url) == 3
        # Every request after the restart is answered: readiness, reads, write transactions.
        await db.ping()
        assert await _answer(db) == 42
        async with db.transaction() as uow:
            assert (await uow.conn.execute(text("SELECT 1"))).scalar_one() == 1
    finally:
        await db.close()


async def test_a_connection_lost_in_use_fails_one_request_then_the_pool_recovers(
    pg_database_url,
):
    db = Database(pg_database_url, ping_idle_after=3600.0)  # never idle long enough to ping
    try:
        await _fill_pool(db, 3)
        assert await _drop_connections(pg_database_url) == 3
        with pytest.raises(Unavailable):
            await _answer(db)
        # The failure invalidated the pool: the two other dead connections are not handed out.
        assert [await _answer(db) for _ in range(3)] == [42, 42, 42]
        await db.ping()
    finally:
        await db.close()


async def test_reads_see_committed_data_without_a_transaction(database_url):
    db = Database(database_url)
    try:
        async with db.transaction() as uow:
            await uow.conn.execute(text("CREATE TABLE gk_read_probe (n INTEGER)"))
            await uow.conn.execute(text("INSERT INTO gk_read_probe VALUES (7)"))
        async with db.read() as uow:
            found = (await uow.conn.execute(text("SELECT n FROM gk_read_probe"))).scalar_one()
        assert found == 7
    finally:
        async with db.transaction() as uow:
            await uow.conn.execute(text("DROP TABLE IF EXISTS gk_read_probe"))
        await db.close()
