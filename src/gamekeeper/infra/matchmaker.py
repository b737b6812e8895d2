"""The matchmaker at run time: leaders per shard, the engine's feed, ticks, and news to replicas.

Games are spread over ``shards`` by a hash of their id. Every process runs a candidate per
shard; on PostgreSQL the one holding the shard's advisory lock leads it (a standby tries again
every second, so it takes over within about a second of the leader's connection closing);
on SQLite the single process leads every shard.

A leader loads the shard's waiting requests and live servers, then ticks the engine. Changes
committed anywhere reach it as domain events (this process) or pub/sub notes (other replicas),
and a periodic scan of recently changed rows catches anything a note missed. What a tick
decides is stored by ``core.matchmaking.sessions.record_tick``; the database has the last word.
Settled requests are announced to every replica's status board.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import zlib
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import msgspec
import structlog
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from gamekeeper.core.clock import Clock
from gamekeeper.core.events.domain import (
    DomainEvent,
    GameServerChanged,
    MatchRequestCancelled,
    MatchRequestPlaced,
)
from gamekeeper.core.matchmaking import results
from gamekeeper.core.matchmaking.engine import Engine
from gamekeeper.core.matchmaking.engine_types import (
    EngineConfig,
    QueuedRequest,
    ServerSlot,
    TickOutcome,
)
from gamekeeper.core.matchmaking.sessions import TickRecord, record_tick
from gamekeeper.core.matchmaking.types import GameServer, MatchRequest, MatchSession
from gamekeeper.db.database import Database
from gamekeeper.infra.matchboard import Board, Seat
from gamekeeper.infra.metrics import Metrics
from gamekeeper.infra.pubsub import PubSub

log = structlog.get_logger(__name__)

TOPIC = "matchmaking"
RESYNC_EVERY = 2.0  # seconds between scans for changes a note missed
RESYNC_OVERLAP = 10.0  # how far back each scan looks: longer than any write transaction
SWEEP_EVERY = 30.0  # seconds between looks for sessions nobody reported on in time
STANDBY_RETRY = 1.0
_LOCK_BASE = 0x676B_6D6D_0000  # advisory lock ids: this base plus the shard number


class _Placed(msgspec.Struct, tag=True):
    request: MatchRequest


class _Cancelled(msgspec.Struct, tag=True):
    game_id: str
    request_id: str


class _Server(msgspec.Struct, tag=True):
    server: GameServer


class _Settled(msgspec.Struct, tag=True):
    origin: str
    sessions: list[MatchSession]
    failed: list[tuple[str, str, str, str]]  # request id, game id, player id, reason


_Note = _Placed | _Cancelled | _Server | _Settled
_encoder = msgspec.msgpack.Encoder()
_decoder = msgspec.msgpack.Decoder(_Note)


def _ts(moment: datetime) -> float:
    return moment.timestamp()


def _queued(request: MatchRequest) -> QueuedRequest:
    return QueuedRequest(
        id=request.id,
        project_id=request.game_id,
        team_sizes=request.team_sizes,
        match_tag=request.match_tag,
        server_tag=request.server_tag,
        rating=request.rating,
        enqueued_at=_ts(request.created_at),
        deadline=_ts(request.deadline_at),
    )


@dataclass(slots=True)
class _Shard:
    """A shard this process leads: its engine and what the engine's entries stand for."""

    engine: Engine
    requests: dict[str, MatchRequest] = field(default_factory=dict)
    servers: dict[tuple[str, str], GameServer] = field(default_factory=dict)
    inbox: list[_Placed | _Cancelled | _Server] = field(default_factory=list)
    wake: asyncio.Event = field(default_factory=asyncio.Event)


class Matchmaker:
    def __init__(
        self,
        db: Database,
        pubsub: PubSub,
        *,
        clock: Clock,
        metrics: Metrics,
        shards: int = 1,
        tick_interval: float = 0.1,
        session_timeout: float = 3 * 3600,
        distributed: bool = False,
    ) -> None:
        self._db = db
        self._pubsub = pubsub
        self._clock = clock
        self._metrics = metrics
        self._shards = shards
        self._interval = tick_interval
        self._session_timeout = timedelta(seconds=session_timeout)
        self._distributed = distributed  # other replicas exist: tell them through pub/sub
        self._origin = f"{os.getpid()}-{id(self)}"
        self.board = Board()
        self._leading: dict[int, _Shard] = {}
        self._server_waiters: dict[tuple[str, str], asyncio.Event] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._publishing: set[asyncio.Task[None]] = set()
        self._stopping = asyncio.Event()
        self._unsubscribe: Callable[[], None] | None = None

    def shard_of(self, game_id: str) -> int:
        return zlib.crc32(game_id.encode()) % self._shards

    # Life cycle

    def subscribe(self) -> None:
        """Listen for other replicas' notes; before the pub/sub transport starts."""
        self._unsubscribe = self._pubsub.subscribe(TOPIC, self._on_note, on_gap=self._on_gap)

    def start(self) -> None:
        for shard in range(self._shards):
            self._tasks.append(asyncio.create_task(self._candidate(shard), name=f"mm-{shard}"))

    async def stop(self) -> None:
        self._stopping.set()
        for state in self._leading.values():
            state.wake.set()
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._unsubscribe is not None:
            self._unsubscribe()

    # News in

    async def on_commit(self, events: Sequence[DomainEvent]) -> None:
        """Matchmaking changes this process committed: to its engine, board and the others."""
        notes: list[_Placed | _Cancelled | _Server] = []
        for event in events:
            match event:
                case MatchRequestPlaced(request=request):
                    notes.append(_Placed(request))
                case MatchRequestCancelled(game_id=game_id, request_id=request_id):
                    notes.append(_Cancelled(game_id, request_id))
                case GameServerChanged(server=server):
                    notes.append(_Server(server))
        for note in notes:
            self._apply(note)
        if notes and self._distributed:
            for note in notes:
                with contextlib.suppress(Exception):  # the periodic scan covers a lost note
                    await self._pubsub.publish(TOPIC, _encoder.encode(note))

    async def _on_note(self, _topic: str, message: bytes) -> None:
        note = _decoder.decode(message)
        if isinstance(note, _Settled):
            if note.origin != self._origin:
                self._announce(note)
        else:
            self._apply(note)

    async def _on_gap(self) -> None:
        self.board.clear()  # notes were lost: polls ask the database until news arrives again

    def _apply(self, note: _Placed | _Cancelled | _Server) -> None:
        match note:
            case _Placed(request=r):
                self.board.put(r.id, Seat(r.game_id, r.player_id, _ts(r.deadline_at), "waiting"))
                game_id = r.game_id
            case _Cancelled(game_id=game_id, request_id=request_id):
                seat = self.board.get(request_id, now=self._now())
                if seat is not None:
                    seat.status, seat.reason, seat.answer = "failed", "cancelled", None
            case _Server(server=server):
                game_id = server.game_id
        state = self._leading.get(self.shard_of(game_id))
        if state is not None:
            state.inbox.append(note)
            state.wake.set()

    # Leadership

    async def _candidate(self, shard: int) -> None:
        while not self._stopping.is_set():
            try:
                async with self._leadership(shard) as lost:
                    await self._lead(shard, lost)
            except _NotLeader:
                pass
            except Exception:
                log.exception("matchmaker.shard_failed", shard=shard)
            finally:
                if self._leading.pop(shard, None) is not None:
                    self._metrics.match_shards_led.set(len(self._leading))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), STANDBY_RETRY)

    @contextlib.asynccontextmanager
    async def _leadership(self, shard: int) -> AsyncIterator[asyncio.Event]:
        """Hold the shard's lock; the event is set if the lock's connection is lost."""
        lost = asyncio.Event()
        if self._db.is_sqlite:
            yield lost
            return
        async with self._db.engine.connect() as conn:
            key = {"key": _LOCK_BASE + shard}
            taken = await conn.scalar(text("SELECT pg_try_advisory_lock(:key)"), key)
            await conn.commit()
            if not taken:
                raise _NotLeader
            log.info("matchmaker.leading", shard=shard)
            watch = asyncio.create_task(self._watch(conn, lost))
            try:
                yield lost
            finally:
                watch.cancel()
                with contextlib.suppress(Exception):
                    await conn.execute(text("SELECT pg_advisory_unlock(:key)"), key)
                    await conn.commit()

    async def _watch(self, conn: AsyncConnection, lost: asyncio.Event) -> None:
        try:
            while True:
                await asyncio.sleep(STANDBY_RETRY)
                await conn.execute(text("SELECT 1"))
                await conn.commit()
        except Exception:
            log.warning("matchmaker.lock_connection_lost")
            lost.set()

    # Leading a shard

    async def _lead(self, shard: int, lost: asyncio.Event) -> None:
        state = _Shard(Engine(EngineConfig(tick_interval=self._interval)))
        self._leading[shard] = state
        self._metrics.match_shards_led.set(len(self._leading))
        await self._resync(state, shard, since=None)
        next_scan = self._now() + RESYNC_EVERY
        next_sweep = self._now() if shard == 0 else math.inf  # one leader sweeps
        while not (self._stopping.is_set() or lost.is_set()):
            state.wake.clear()
            self._drain(state)
            now = self._now()
            outcome = state.engine.tick(now)
            if outcome.matches or outcome.failures:
                await self._record(state, outcome)
            if now >= next_scan:
                await self._resync(
                    state, shard, since=self._clock() - timedelta(seconds=RESYNC_OVERLAP)
                )
                next_scan = now + RESYNC_EVERY
            if now >= next_sweep:
                await self._sweep()
                next_sweep = now + SWEEP_EVERY
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(state.wake.wait(), self._interval)

    async def _sweep(self) -> None:
        async with self._db.transaction() as uow:
            ended = await results.abandon_stale_sessions(
                uow, older_than=self._clock() - self._session_timeout
            )
        if ended:
            log.info("matchmaker.sessions_abandoned", count=ended)

    def _now(self) -> float:
        return _ts(self._clock())

    def _drain(self, state: _Shard) -> None:
        notes, state.inbox = state.inbox, []
        for note in notes:
            match note:
                case _Placed(request=request):
                    self._take_request(state, request)
                case _Cancelled(request_id=request_id):
                    state.engine.cancel(request_id)
                    state.requests.pop(request_id, None)
                case _Server(server=server):
                    self._take_server(state, server)

    def _take_request(self, state: _Shard, request: MatchRequest) -> None:
        if request.id in state.engine or self.board.settled(request.id):
            return
        state.requests[request.id] = request
        state.engine.add(_queued(request))

    def _take_server(self, state: _Shard, server: GameServer) -> None:
        key = (server.game_id, server.name)
        known = state.servers.get(key)
        if known is not None and known.updated_at > server.updated_at:
            return
        state.servers[key] = server
        if server.expires_at <= self._clock():
            state.engine.remove_server(*key)
            return
        state.engine.register_server(
            ServerSlot(server.game_id, server.name, server.server_tag, _ts(server.expires_at))
        )
        if server.session_id is None:
            state.engine.release_server(*key)
        else:
            state.engine.occupy_server(*key)

    async def _resync(self, state: _Shard, shard: int, *, since: datetime | None) -> None:
        async with self._db.transaction(write=False) as uow:
            if since is None:
                requests = await uow.matchmaking.waiting_requests()
                servers = await uow.matchmaking.active_servers(self._clock())
            else:
                requests = await uow.matchmaking.requests_changed_since(since)
                servers = await uow.matchmaking.servers_changed_since(since)
        for server in servers:
            if self.shard_of(server.game_id) == shard:
                self._take_server(state, server)
        for request in requests:
            if self.shard_of(request.game_id) != shard:
                continue
            if request.status == "waiting":
                self._take_request(state, request)
            elif request.id in state.engine:
                state.engine.cancel(request.id)
                state.requests.pop(request.id, None)

    async def _record(self, state: _Shard, outcome: TickOutcome) -> None:
        async with self._db.transaction() as uow:
            record = await record_tick(uow, outcome, requests=state.requests, servers=state.servers)
        self._after(state, record)

    def _after(self, state: _Shard, record: TickRecord) -> None:
        for queued in record.returned:
            state.engine.add(queued)
        for key in record.lost_servers:
            state.engine.remove_server(*key)
        for session in record.sessions:
            for member in session.members:
                state.requests.pop(member.request_id, None)
        failed: list[tuple[str, str, str, str]] = []
        for request, reason in record.failed:
            state.requests.pop(request.id, None)
            failed.append((request.id, request.game_id, request.player_id, reason))
        waiting = sum(len(s.engine) for s in self._leading.values())
        self._metrics.matchmaking_tick(len(record.sessions), len(failed), waiting)
        note = _Settled(self._origin, record.sessions, failed)
        self._announce(note)
        if self._distributed and (record.sessions or failed):
            task = asyncio.create_task(self._publish(note))
            self._publishing.add(task)
            task.add_done_callback(self._publishing.discard)

    async def _publish(self, note: _Settled) -> None:
        with contextlib.suppress(Exception):
            await self._pubsub.publish(TOPIC, _encoder.encode(note))

    def _announce(self, note: _Settled) -> None:
        for session in note.sessions:
            deadline = _ts(session.created_at)
            for member in session.members:
                self.board.put(
                    member.request_id,
                    Seat(session.game_id, member.player_id, deadline, "matched", session=session),
                )
            if session.server_name is not None:
                waiter = self._server_waiters.get((session.game_id, session.server_name))
                if waiter is not None:
                    waiter.set()
        for request_id, game_id, player_id, reason in note.failed:
            self.board.put(request_id, Seat(game_id, player_id, 0.0, "failed", reason=reason))

    # Servers waiting for sessions

    async def wait_for_session(self, game_id: str, name: str, seconds: float) -> None:
        """Return when a session for this server is announced, or after ``seconds``."""
        key = (game_id, name)
        waiter = self._server_waiters.setdefault(key, asyncio.Event())
        try:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(waiter.wait(), seconds)
        finally:
            if self._server_waiters.get(key) is waiter:
                del self._server_waiters[key]


class _NotLeader(Exception):
    """Another process holds the shard's lock."""
