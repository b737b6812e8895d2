"""The engine and the unit of work: one transaction per request."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from gamekeeper.core.clock import Clock, utcnow
from gamekeeper.core.errors import GamekeeperError, Unavailable
from gamekeeper.core.events.domain import DomainEvent
from gamekeeper.db.audit import SqlAuditStore
from gamekeeper.db.catalog import SqlCatalogStore
from gamekeeper.db.events import SqlEventStore
from gamekeeper.db.identity import SqlIdentityStore
from gamekeeper.db.points import SqlPointsStore

EventSink = Callable[[list[DomainEvent]], Awaitable[None]]


class SqlUnitOfWork:
    def __init__(self, conn: AsyncConnection, clock: Clock, sinks: tuple[str, ...] = ()) -> None:
        self.conn = conn
        self.identity = SqlIdentityStore(conn)
        self.audit = SqlAuditStore(conn)
        self.catalog = SqlCatalogStore(conn)
        self.points = SqlPointsStore(conn)
        self.events = SqlEventStore(conn, sinks)
        self.emitted: list[DomainEvent] = []
        self.kept = False
        self._clock = clock

    def now(self) -> datetime:
        return self._clock()

    def emit(self, event: DomainEvent) -> None:
        self.emitted.append(event)

    def keep_on_error(self) -> None:
        self.kept = True


def _sqlite_setup(engine: AsyncEngine) -> None:
    # Take transaction control from the driver so writers can BEGIN IMMEDIATE: a deferred
    # transaction that later needs the write lock fails at once instead of waiting.
    @event.listens_for(engine.sync_engine, "connect")
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        for pragma in (
            "journal_mode=WAL",
            "foreign_keys=ON",
            "busy_timeout=10000",
            "synchronous=NORMAL",
        ):
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def on_begin(conn: Any) -> None:
        write = conn.get_execution_options().get("gk_write", True)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


class Database:
    def __init__(
        self,
        url: str,
        *,
        pool_size: int = 10,
        clock: Clock = utcnow,
        on_commit: EventSink | None = None,
        sinks: tuple[str, ...] = (),
    ) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        options: dict[str, Any] = {}
        if not self.is_sqlite:
            options = {"pool_size": pool_size, "max_overflow": pool_size, "pool_pre_ping": True}
        self.engine = create_async_engine(url, **options)
        if self.is_sqlite:
            _sqlite_setup(self.engine)
        self.clock = clock
        self.on_commit = on_commit
        self.sinks = sinks  # installation sinks every recorded event also goes to

    @asynccontextmanager
    async def transaction(self, *, write: bool = True) -> AsyncIterator[SqlUnitOfWork]:
        """A unit of work: commits when the block ends, rolls back if it raises.

        A core error after ``uow.keep_on_error()`` still commits. Events are handed to
        ``on_commit`` after a commit.
        """
        try:
            conn = await self.engine.connect()
        except (OperationalError, OSError) as exc:
            raise Unavailable("The database is unavailable") from exc
        try:
            conn = await conn.execution_options(gk_write=write)
            await conn.begin()
            uow = SqlUnitOfWork(conn, self.clock, self.sinks)
            try:
                yield uow
            except GamekeeperError:
                await (conn.commit() if uow.kept else conn.rollback())
                if uow.kept:
                    await self._dispatch(uow)
                raise
            except BaseException:
                await conn.rollback()
                raise
            await conn.commit()
        except DBAPIError as exc:
            if exc.connection_invalidated or isinstance(exc, OperationalError):
                raise Unavailable("The database is unavailable") from exc
            raise
        finally:
            await conn.close()
        await self._dispatch(uow)

    async def _dispatch(self, uow: SqlUnitOfWork) -> None:
        if uow.emitted and self.on_commit is not None:
            await self.on_commit(uow.emitted)

    async def ping(self) -> None:
        """Raise Unavailable unless the database answers."""
        async with self.transaction(write=False) as uow:
            await uow.conn.execute(text("SELECT 1"))

    async def close(self) -> None:
        await self.engine.dispose()
