"""The engine and the unit of work: one transaction per request."""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import Any

from sqlalchemy import event, make_url, text
from sqlalchemy.exc import DBAPIError, DisconnectionError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from gamekeeper.core.clock import Clock, utcnow
from gamekeeper.core.errors import GamekeeperError, Unavailable
from gamekeeper.core.uow import DomainEvent
from gamekeeper.db.accounts.store import SqlAccountStore
from gamekeeper.db.audit import SqlAuditStore
from gamekeeper.db.cast.store import SqlCastStore
from gamekeeper.db.catalog.points import SqlPointsStore
from gamekeeper.db.catalog.store import SqlCatalogStore
from gamekeeper.db.events.store import SqlEventStore
from gamekeeper.db.identity.owners import SqlOwnerStore
from gamekeeper.db.identity.store import SqlIdentityStore
from gamekeeper.db.matchmaking.results import SqlResultStore
from gamekeeper.db.matchmaking.store import SqlMatchmakingStore
from gamekeeper.db.notify.store import SqlNotifyStore
from gamekeeper.files import FILE_MODE, open_to_others, private_folder

SQLITE_WRITE_WAIT = 10.0  # seconds a writer may queue, as SQLite's busy_timeout
EventSink = Callable[[list[DomainEvent]], Awaitable[None]]


class SqlUnitOfWork:
    """One connection and its transaction; each store is built the first time it is used.

    A request touches one or two domains: it should not pay for building every store, and a
    new domain adds one property here, not a cost to every request.
    """

    def __init__(self, conn: AsyncConnection, clock: Clock, sinks: tuple[str, ...] = ()) -> None:
        self.conn = conn
        self.emitted: list[DomainEvent] = []
        self.committed_actions: list[Callable[[], None]] = []
        self.kept = False
        self._clock = clock
        self._sinks = sinks

    @cached_property
    def identity(self) -> SqlIdentityStore:
        return SqlIdentityStore(self.conn)

    @cached_property
    def owners(self) -> SqlOwnerStore:
        return SqlOwnerStore(self.conn)

    @cached_property
    def audit(self) -> SqlAuditStore:
        return SqlAuditStore(self.conn)

    @cached_property
    def catalog(self) -> SqlCatalogStore:
        return SqlCatalogStore(self.conn)

    @cached_property
    def points(self) -> SqlPointsStore:
        return SqlPointsStore(self.conn)

    @cached_property
    def events(self) -> SqlEventStore:
        return SqlEventStore(self.conn, self._sinks)

    @cached_property
    def match_results(self) -> SqlResultStore:
        return SqlResultStore(self.conn)

    @cached_property
    def accounts(self) -> SqlAccountStore:
        return SqlAccountStore(self.conn)

    @cached_property
    def matchmaking(self) -> SqlMatchmakingStore:
        return SqlMatchmakingStore(self.conn)

    @cached_property
    def notify(self) -> SqlNotifyStore:
        return SqlNotifyStore(self.conn)

    @cached_property
    def cast(self) -> SqlCastStore:
        return SqlCastStore(self.conn)

    def now(self) -> datetime:
        return self._clock()

    def after_commit(self, action: Callable[[], None]) -> None:
        self.committed_actions.append(action)

    def emit(self, event: DomainEvent) -> None:
        self.emitted.append(event)

    def keep_on_error(self) -> None:
        self.kept = True

    @asynccontextmanager
    async def savepoint(self) -> AsyncIterator[None]:
        emitted, actions = len(self.emitted), len(self.committed_actions)
        try:
            async with self.conn.begin_nested():
                yield
        except BaseException:
            del self.emitted[emitted:], self.committed_actions[actions:]
            raise


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


def _private_sqlite_files(url: str) -> None:
    """Create the database file 0600 before SQLite does (its WAL and shared-memory files take
    the database's mode), and tighten files an older version left readable by others."""
    name = make_url(url).database
    if not name or name == ":memory:" or name.startswith("file:"):
        return
    path = Path(name)
    private_folder(path.parent)
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE))
    for each in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        with contextlib.suppress(OSError):  # absent, or not ours to change
            if open_to_others(each):
                os.chmod(each, FILE_MODE)


def _ping_when_idle(engine: AsyncEngine, idle: float) -> None:
    """Check a pooled connection before use only if it sat in the pool ``idle`` seconds or more.

    In place of ``pool_pre_ping``, which costs a round trip on every checkout. A connection
    that a server restart killed while it was in use fails its statement instead: SQLAlchemy
    then invalidates it and every connection the pool opened before it, the request answers
    "unavailable", and the next checkouts connect afresh.
    """

    @event.listens_for(engine.sync_engine, "checkin")
    def on_checkin(_dbapi_connection: Any, record: Any) -> None:
        record.info["gk_idle_since"] = time.monotonic()

    @event.listens_for(engine.sync_engine, "checkout")
    def on_checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get("gk_idle_since")
        if since is None or time.monotonic() - since < idle:
            return  # new, or just used
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as exc:
            # The pool discards this connection and checks out another (or opens one).
            raise DisconnectionError("a pooled connection was closed by the server") from exc


class Database:
    def __init__(
        self,
        url: str,
        *,
        pool_size: int = 10,
        clock: Clock = utcnow,
        on_commit: EventSink | None = None,
        sinks: tuple[str, ...] = (),
        ping_idle_after: float = 1.0,
    ) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        options: dict[str, Any] = {}
        if not self.is_sqlite:
            # As many connections as before (pool_size plus as many again at peaks), but all of
            # them kept: "overflow" connections were closed when returned to a full pool and
            # opened again at the next burst, and a new PostgreSQL session costs milliseconds
            # of CPU on both sides (under 32 concurrent reads, one new session per 13 requests).
            options = {"pool_size": 2 * pool_size, "max_overflow": 0}
        else:
            _private_sqlite_files(url)
        # Statements are logged and errors raised without their parameters: they carry password
        # hashes, sealed secrets and codes.
        self.engine = create_async_engine(url, hide_parameters=True, **options)
        # Reads outside a transaction: each statement sees what was committed when it ran.
        self._autocommitting = self.engine.execution_options(isolation_level="AUTOCOMMIT")
        if self.is_sqlite:
            _sqlite_setup(self.engine)
        else:
            _ping_when_idle(self.engine, ping_idle_after)
        self.clock = clock
        self.on_commit = on_commit
        self.sinks = sinks  # installation sinks every recorded event also goes to
        # SQLite has one writer at a time. Writers of this process queue here, in order,
        # instead of in SQLite's busy handler, which sleeps up to 100 ms between tries.
        self._sqlite_writer = asyncio.Lock()

    @asynccontextmanager
    async def transaction(self, *, write: bool = True) -> AsyncIterator[SqlUnitOfWork]:
        """A unit of work: commits when the block ends, rolls back if it raises.

        A core error after ``uow.keep_on_error()`` still commits. Events are handed to
        ``on_commit`` after a commit.
        """
        if not (self.is_sqlite and write):
            async with self._transaction(write) as uow:
                yield uow
            return
        try:
            async with asyncio.timeout(SQLITE_WRITE_WAIT):
                await self._sqlite_writer.acquire()
        except TimeoutError:
            raise Unavailable("The database is busy; try again") from None
        try:
            async with self._transaction(write) as uow:
                yield uow
        finally:
            self._sqlite_writer.release()

    @asynccontextmanager
    async def _transaction(self, write: bool) -> AsyncIterator[SqlUnitOfWork]:
        async with self._connection(self.engine) as conn:
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
        await self._dispatch(uow)

    @staticmethod
    @asynccontextmanager
    async def _connection(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
        """A pooled connection, closed after the block; a lost database is ``Unavailable``."""
        try:
            conn = await engine.connect()
        except (OperationalError, OSError) as exc:
            raise Unavailable("The database is unavailable") from exc
        try:
            yield conn
        except DBAPIError as exc:
            if exc.connection_invalidated or isinstance(exc, OperationalError):
                raise Unavailable("The database is unavailable") from exc
            raise
        finally:
            await conn.close()

    @asynccontextmanager
    async def read(self) -> AsyncIterator[SqlUnitOfWork]:
        """A unit of work for reads only, without a transaction on PostgreSQL.

        Each statement sees the data committed when it runs and costs one round trip: no
        BEGIN, no COMMIT. For a request that reads once, or whose reads need not agree with
        each other. Writing through it is a mistake: every statement would commit alone (see
        ``autocommit``). On SQLite it is a read transaction (no round trips there).
        """
        if self.is_sqlite:
            async with self.transaction(write=False) as uow:
                yield uow
            return
        async with self._autocommit() as uow:
            yield uow

    @asynccontextmanager
    async def autocommit(self) -> AsyncIterator[SqlUnitOfWork]:
        """A unit of work whose only write is one statement, committed alone on PostgreSQL.

        No BEGIN, no COMMIT: one round trip for a hot path whose whole change is one statement
        (a statement is atomic by itself). Anything that needs two writes to agree belongs in
        ``transaction``. Events emitted are dispatched when the block ends without error. On
        SQLite it is a write transaction.
        """
        if self.is_sqlite:
            async with self.transaction() as uow:
                yield uow
            return
        async with self._autocommit() as uow:
            yield uow
        await self._dispatch(uow)

    @asynccontextmanager
    async def _autocommit(self) -> AsyncIterator[SqlUnitOfWork]:
        async with self._connection(self._autocommitting) as conn:
            yield SqlUnitOfWork(conn, self.clock, self.sinks)

    async def _dispatch(self, uow: SqlUnitOfWork) -> None:
        for action in uow.committed_actions:
            action()
        if uow.emitted and self.on_commit is not None:
            await self.on_commit(uow.emitted)

    async def ping(self) -> None:
        """Raise Unavailable unless the database answers."""
        async with self.transaction(write=False) as uow:
            await uow.conn.execute(text("SELECT 1"))

    async def close(self) -> None:
        await self.engine.dispose()
