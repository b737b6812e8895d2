"""The matchmaker at run time: leaders per shard, the engine's feed, ticks, and news to replicas.

Games are spread over ``shards`` by a hash of their id. Every process stands for the leadership
of each shard (``leadership.py``: a PostgreSQL advisory lock; on SQLite the single process
leads every shard).

A leader loads the shard's waiting requests and live servers (``matchshard.py``), then ticks
the engine. Changes committed anywhere reach it as domain events (this process) or pub/sub
notes (other replicas), and a periodic scan of recently changed rows catches anything a note
missed. What a tick decides is stored by ``core.matchmaking.sessions.record_tick``; the
database has the last word. Settled requests are announced to every replica's status board.
``tick_now`` runs one tick by hand, as the lead loop does on its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import math
import os
import zlib
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

import structlog

from gamekeeper.core.clock import Clock
from gamekeeper.core.matchmaking import results
from gamekeeper.core.matchmaking.engine import Engine
from gamekeeper.core.matchmaking.engine_types import EngineConfig
from gamekeeper.core.matchmaking.events import (
    GameServerChanged,
    MatchRequestCancelled,
    MatchRequestPlaced,
)
from gamekeeper.core.matchmaking.sessions import record_tick
from gamekeeper.core.uow import DomainEvent
from gamekeeper.db.database import Database
from gamekeeper.infra.leadership import stand
from gamekeeper.infra.matchboard import Board, Seat
from gamekeeper.infra.matchshard import (
    Cancelled,
    News,
    Placed,
    ServerChanged,
    Settled,
    Shard,
    decode,
    encode,
    ts,
)
from gamekeeper.infra.metrics import Metrics
from gamekeeper.infra.pubsub import PubSub

log = structlog.get_logger(__name__)

TOPIC = "matchmaking"
RESYNC_EVERY = 2.0  # seconds between scans for changes a note missed
RESYNC_OVERLAP = 10.0  # how far back each scan looks: longer than any write transaction
SWEEP_EVERY = 30.0  # seconds between looks for sessions nobody reported on in time
_LOCK_BASE = 0x676B_6D6D_0000  # advisory lock ids: this base plus the shard number


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
        self._leading: dict[int, Shard] = {}
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
            candidate = stand(
                self._db,
                role="matchmaker",
                shard=shard,
                lock_id=_LOCK_BASE + shard,
                lead=functools.partial(self._lead, shard),
                stopping=self._stopping,
            )
            self._tasks.append(asyncio.create_task(candidate, name=f"mm-{shard}"))

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

    async def tick_now(self) -> int:
        """One tick, now, of every shard this process leads; returns how many requests settled.

        The lead loops tick the same way on their own; this is for driving them by hand (tests,
        tools). It waits for a tick or scan in progress, so it never overlaps one.
        """
        settled = 0
        for state in list(self._leading.values()):
            async with state.busy:
                settled += await self._tick(state)
        return settled

    # News in

    async def on_commit(self, events: Sequence[DomainEvent]) -> None:
        """Matchmaking changes this process committed: to its engine, board and the others."""
        notes: list[News] = []
        for event in events:
            match event:
                case MatchRequestPlaced(request=request):
                    notes.append(Placed(request))
                case MatchRequestCancelled(game_id=game_id, request_id=request_id):
                    notes.append(Cancelled(game_id, request_id))
                case GameServerChanged(server=server):
                    notes.append(ServerChanged(server))
        for note in notes:
            self._apply(note)
        if notes and self._distributed:
            for note in notes:
                with contextlib.suppress(Exception):  # the periodic scan covers a lost note
                    await self._pubsub.publish(TOPIC, encode(note))

    async def _on_note(self, _topic: str, message: bytes) -> None:
        note = decode(message)
        if isinstance(note, Settled):
            if note.origin != self._origin:
                self._announce(note)
        else:
            self._apply(note)

    async def _on_gap(self) -> None:
        self.board.clear()  # notes were lost: polls ask the database until news arrives again

    def _apply(self, note: News) -> None:
        match note:
            case Placed(request=r):
                self.board.put(r.id, Seat(r.game_id, r.player_id, ts(r.deadline_at), "waiting"))
                game_id = r.game_id
            case Cancelled(game_id=game_id, request_id=request_id):
                seat = self.board.get(request_id, now=self._now())
                if seat is not None:
                    seat.status, seat.reason, seat.answer = "failed", "cancelled", None
            case ServerChanged(server=server):
                game_id = server.game_id
        state = self._leading.get(self.shard_of(game_id))
        if state is not None:
            state.inbox.append(note)
            state.wake.set()

    # Leading a shard

    async def _lead(self, shard: int, lost: asyncio.Event) -> None:
        state = Shard(Engine(EngineConfig(tick_interval=self._interval)), self.board)
        try:
            async with state.busy:  # a tick by hand waits for the shard to be loaded
                self._leading[shard] = state
                self._metrics.match_shards_led.set(len(self._leading))
                await self._resync(state, shard, since=None)
            next_scan = self._now() + RESYNC_EVERY
            next_sweep = self._now() if shard == 0 else math.inf  # one leader sweeps
            while not (self._stopping.is_set() or lost.is_set()):
                state.wake.clear()
                async with state.busy:
                    now = self._now()
                    await self._tick(state)
                    if now >= next_scan:
                        since = self._clock() - timedelta(seconds=RESYNC_OVERLAP)
                        await self._resync(state, shard, since=since)
                        next_scan = now + RESYNC_EVERY
                    if now >= next_sweep:
                        await self._sweep()
                        next_sweep = now + SWEEP_EVERY
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(state.wake.wait(), self._interval)
        finally:
            if self._leading.pop(shard, None) is not None:
                self._metrics.match_shards_led.set(len(self._leading))

    async def _tick(self, state: Shard) -> int:
        """Take in the news, tick the engine and store what it decided (``state.busy`` held)."""
        state.drain(self._clock())
        outcome = state.engine.tick(self._now())
        if not (outcome.matches or outcome.failures):
            return 0
        async with self._db.transaction() as uow:
            record = await record_tick(uow, outcome, requests=state.requests, servers=state.servers)
        failed = state.apply(record)
        waiting = sum(len(s.engine) for s in self._leading.values())
        self._metrics.matchmaking_tick(len(record.sessions), len(failed), waiting)
        note = Settled(self._origin, record.sessions, failed)
        self._announce(note)
        if self._distributed and (record.sessions or failed):
            task = asyncio.create_task(self._publish(note))
            self._publishing.add(task)
            task.add_done_callback(self._publishing.discard)
        return sum(len(s.members) for s in record.sessions) + len(failed)

    async def _sweep(self) -> None:
        async with self._db.transaction() as uow:
            ended = await results.abandon_stale_sessions(
                uow, older_than=self._clock() - self._session_timeout
            )
        if ended:
            log.info("matchmaker.sessions_abandoned", count=ended)

    def _now(self) -> float:
        return ts(self._clock())

    async def _resync(self, state: Shard, shard: int, *, since: datetime | None) -> None:
        async with self._db.transaction(write=False) as uow:
            if since is None:
                requests = await uow.matchmaking.waiting_requests()
                servers = await uow.matchmaking.active_servers(self._clock())
            else:
                requests = await uow.matchmaking.requests_changed_since(since)
                servers = await uow.matchmaking.servers_changed_since(since)
        state.take_scan(
            [r for r in requests if self.shard_of(r.game_id) == shard],
            [s for s in servers if self.shard_of(s.game_id) == shard],
            self._clock(),
        )

    # News out

    async def _publish(self, note: Settled) -> None:
        with contextlib.suppress(Exception):
            await self._pubsub.publish(TOPIC, encode(note))

    def _announce(self, note: Settled) -> None:
        for session in note.sessions:
            deadline = ts(session.created_at)
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
