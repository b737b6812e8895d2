"""The live-connection hub of one process: the cast receivers and controllers connected here.

An input is stored first (``sessions.send_input``); after the commit ``on_commit`` announces it
on pub/sub, and whichever process holds the session's receiver sends it. Pub/sub delivers at
most once, and messages published by two processes may cross, so a receiver tracks the last
input it was sent: the next one goes out at once; anything else (a gap, a reconnect, a message
lost with Redis, an input announced without its contents) is read from the database
(``sessions.backlog``), in order. Nothing the backlog keeps is lost, nothing is sent twice.

Topics, per session: ``cast.r.<id>`` reaches its receivers, ``cast.c.<id>`` its controllers.
A message is one kind byte and a body: ``i`` an input (msgpack) that the process storing it had
at hand (a controller's socket: ``stage``), ``n`` only an input's number (an HTTP input: read
it); ``j`` a seat joined; ``e`` the session ended (both topics); ``m`` feedback (msgpack: the
seat, 0 for all, and the data); ``s`` a marker a process sends itself to learn that a new
subscription is live.

Each socket is written by one task (``Peer.run``) from its own queue, so a slow socket never
holds up pub/sub; one too far behind is closed (1013) to resume. The frames are the gateway's.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, TypeVar

import msgspec
import structlog
from prometheus_client import Gauge

from gamekeeper.core.cast import sessions
from gamekeeper.core.cast.events import CastControllerSeated, CastInputRecorded, CastSessionEnded
from gamekeeper.core.cast.types import CastInput
from gamekeeper.core.clock import Clock
from gamekeeper.core.uow import DomainEvent
from gamekeeper.db.database import Database
from gamekeeper.infra.metrics import Metrics
from gamekeeper.infra.pubsub import Handler, PubSub

__all__ = ["Controller", "Frames", "Link", "LiveHub", "Peer", "Receiver"]

RECEIVERS, CONTROLLERS = "cast.r.", "cast.c."
QUEUE_LIMIT = 2 * sessions.BACKLOG + 100  # frames waiting for one socket: a full catch-up fits
SYNC_WAIT = 2.0  # seconds to wait for a new subscription to be live before reading anyway
NORMAL, GOING_AWAY, INTERNAL, TRY_AGAIN_LATER = 1000, 1001, 1011, 1013
_STAGED_MOST = 10_000

log = structlog.get_logger(__name__)
_encode = msgspec.msgpack.Encoder().encode
_decode_input = msgspec.msgpack.Decoder(CastInput).decode
_decode_feedback = msgspec.msgpack.Decoder(tuple[int, dict[str, Any]]).decode

P = TypeVar("P", bound="Peer")
Send = Callable[[str], Awaitable[None]]
Close = Callable[[int, str], Awaitable[None]]


class Frames(Protocol):
    """How the gateway renders what the hub sends to a socket."""

    def input(self, value: CastInput) -> str: ...
    def joined(self, seat: int) -> str: ...
    def ended(self, reason: str) -> str: ...
    def message(self, data: dict[str, Any]) -> str: ...


@dataclass(frozen=True, slots=True)
class Link:
    """A socket as the gateway hands it over: how to render for it, send to it, close it."""

    frames: Frames
    send: Send
    close: Close


class Peer:
    """One socket connected here; its frames go out in order from one writer task (``run``)."""

    def __init__(self, session_id: str, link: Link) -> None:
        self.session_id, self.link, self.frames = session_id, link, link.frames
        self._queue: asyncio.Queue[tuple[str, datetime | None] | None] = asyncio.Queue()
        self.closing: tuple[int, str] | None = None

    def push(self, text: str, at: datetime | None = None) -> None:
        """Queue a frame (``at``: the input's time, for the latency metric)."""
        if self.closing is not None:
            return
        if self._queue.qsize() >= QUEUE_LIMIT:
            self.shut(TRY_AGAIN_LATER, "too far behind: reconnect to resume")
            return
        self._queue.put_nowait((text, at))

    def shut(self, code: int, reason: str = "") -> None:
        """Close the socket once the frames already queued are sent."""
        if self.closing is None:
            self.closing = (code, reason)
            self._queue.put_nowait(None)

    async def run(self) -> None:
        """Send the queued frames until shut, then close the socket."""
        while (item := await self._queue.get()) is not None:
            text, at = item
            await self.link.send(text)
            if at is not None:
                self.sent(at)
        code, reason = self.closing or (NORMAL, "")
        await self.link.close(code, reason)

    def sent(self, at: datetime) -> None:
        """An input frame went out."""

    def stop(self) -> None:
        """The socket is gone: stop any work on its behalf."""


class Receiver(Peer):
    """A session's receiver (its TV page): inputs in order, each once. Held by ``hub``."""

    def __init__(self, hub: LiveHub, session_id: str, link: Link) -> None:
        super().__init__(session_id, link)
        self._hub = hub
        self.last_sent = 0  # the last input sent, or acknowledged before a reconnect
        self._known = 0  # the last input known to be stored
        self._again = False  # read once more even if nothing more is known
        self._reading: asyncio.Task[None] | None = None

    def offer(self, value: CastInput) -> None:
        """An input announced with its contents: sent at once if it is the next one."""
        if value.seq == self.last_sent + 1 and self._reading is None:
            self._deliver(value)
        else:
            self.announce(value.seq)

    def announce(self, seq: int) -> None:
        """Input ``seq`` is stored: read what is missing, up to it."""
        if seq > self.last_sent:
            self._known = max(self._known, seq)
            self._read_soon()

    def resync(self) -> None:
        """Read whatever was stored since the last input sent (messages may have been lost)."""
        self._again = True
        self._read_soon()

    def sent(self, at: datetime) -> None:
        self._hub.relayed(at)

    def stop(self) -> None:
        if self._reading is not None:
            self._reading.cancel()

    def _deliver(self, value: CastInput) -> None:
        self.last_sent = value.seq
        self.push(self.frames.input(value), value.at)

    def _read_soon(self) -> None:
        if self._reading is None and self.closing is None:
            self._reading = asyncio.create_task(self._catch_up())

    async def _catch_up(self) -> None:
        try:
            while (self._again or self._known > self.last_sent) and self.closing is None:
                self._again = False
                missing = await self._hub.read_inputs(self.session_id, self.last_sent)
                for value in missing:
                    if value.seq > self.last_sent:  # an older one the backlog no longer keeps
                        self._deliver(value)  # is lost: the next kept one follows
                if len(missing) == sessions.BACKLOG:
                    self._again = True
                elif not missing:
                    break
        except Exception:
            log.exception("cast.catch_up_failed", session_id=self.session_id)
            self.shut(INTERNAL, "try again")
        finally:
            self._reading = None


class Controller(Peer):
    """A player's phone in a session, known to the receiver by its seat."""

    def __init__(self, session_id: str, seat: int, link: Link) -> None:
        super().__init__(session_id, link)
        self.seat = seat


class LiveHub:
    """The sockets of this process by session, and what reaches them from any process."""

    def __init__(self, db: Database, pubsub: PubSub, *, metrics: Metrics, clock: Clock) -> None:
        self._db = db
        self._pubsub = pubsub
        self._metrics = metrics
        self._clock = clock
        self._receivers: dict[str, set[Receiver]] = {}
        self._controllers: dict[str, set[Controller]] = {}
        # Per topic: its unsubscribe function, and the task that ends once it is live.
        self._topics: dict[str, tuple[Callable[[], None], asyncio.Task[None]]] = {}
        self._staged: dict[tuple[str, int], CastInput] = {}
        self._syncs: dict[bytes, asyncio.Future[None]] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    async def add_receiver(self, peer: Receiver, *, after: int) -> None:
        """Hold ``peer`` here and send it every input after ``after``, then each new one."""
        peer.last_sent = after
        self._receivers.setdefault(peer.session_id, set()).add(peer)
        self._metrics.cast_receivers.inc()
        await self._listen(RECEIVERS + peer.session_id, self._to_receivers)
        peer.resync()  # what was stored before the subscription was live

    async def add_controller(self, peer: Controller) -> None:
        self._controllers.setdefault(peer.session_id, set()).add(peer)
        self._metrics.cast_controllers.inc()
        await self._listen(CONTROLLERS + peer.session_id, self._to_controllers)

    def remove(self, peer: Peer) -> None:
        """The socket is gone."""
        peer.stop()
        if isinstance(peer, Receiver):
            self._forget(self._receivers, RECEIVERS, peer, self._metrics.cast_receivers)
        elif isinstance(peer, Controller):
            self._forget(self._controllers, CONTROLLERS, peer, self._metrics.cast_controllers)

    def _forget(self, held: dict[str, set[P]], prefix: str, peer: P, gauge: Gauge) -> None:
        peers = held.get(peer.session_id)
        if peers is None or peer not in peers:
            return
        peers.discard(peer)
        gauge.dec()
        if not peers:
            del held[peer.session_id]
            if (entry := self._topics.pop(prefix + peer.session_id, None)) is not None:
                unsubscribe, ready = entry
                unsubscribe()
                ready.cancel()

    def holds_receiver(self, session_id: str) -> bool:
        return bool(self._receivers.get(session_id))

    async def stop(self) -> None:
        """Close every socket held here (the process is stopping)."""
        for peer in self._held(*self._receivers, *self._controllers):
            peer.shut(GOING_AWAY, "server restarting")
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def stage(self, value: CastInput) -> None:
        """An input just committed here: ``on_commit`` publishes it with its contents."""
        if len(self._staged) >= _STAGED_MOST:  # left by commits whose reactions failed
            self._staged.clear()
        self._staged[(value.session_id, value.seq)] = value

    async def feedback(self, session_id: str, seat: int | None, data: dict[str, Any]) -> None:
        """The game's message to one seat's controller (``None``: every controller)."""
        await self._publish(CONTROLLERS + session_id, b"m" + _encode((seat or 0, data)))

    async def read_inputs(self, session_id: str, after: int) -> list[CastInput]:
        async with self._db.read() as uow:
            return await sessions.backlog(uow, session_id=session_id, after=after)

    def relayed(self, at: datetime) -> None:
        self._metrics.cast_inputs.inc()
        self._metrics.cast_latency.observe(max(0.0, (self._clock() - at).total_seconds()))

    async def on_commit(self, events: Sequence[DomainEvent]) -> None:
        for event in events:
            match event:
                case CastInputRecorded(session_id=sid, seq=seq):
                    staged = self._staged.pop((sid, seq), None)
                    body = b"n%d" % seq if staged is None else b"i" + _encode(staged)
                    await self._publish(RECEIVERS + sid, body)
                case CastControllerSeated(session_id=sid, seat=seat):
                    await self._publish(RECEIVERS + sid, b"j%d" % seat)
                case CastSessionEnded(session_id=sid):
                    await self._publish(RECEIVERS + sid, b"e")
                    await self._publish(CONTROLLERS + sid, b"e")

    async def _to_receivers(self, topic: str, message: bytes) -> None:
        kind, body = message[:1], message[1:]
        if kind == b"s":
            self._synced(body)
            return
        session_id = topic.removeprefix(RECEIVERS)
        peers = tuple(self._receivers.get(session_id, ()))
        if kind == b"i":
            value = _decode_input(body)
            for receiver in peers:
                receiver.offer(value)
        elif kind == b"n":
            for receiver in peers:
                receiver.announce(int(body))
        elif kind == b"j":
            for receiver in peers:
                receiver.push(receiver.frames.joined(int(body)))
        elif kind == b"e" and peers:
            self._spawn(self._end(session_id, peers))

    async def _to_controllers(self, topic: str, message: bytes) -> None:
        kind, body = message[:1], message[1:]
        if kind == b"s":
            self._synced(body)
            return
        session_id = topic.removeprefix(CONTROLLERS)
        peers = tuple(self._controllers.get(session_id, ()))
        if kind == b"m":
            seat, data = _decode_feedback(body)
            for controller in peers:
                if seat in (0, controller.seat):
                    controller.push(controller.frames.message(data))
        elif kind == b"e" and peers:
            self._spawn(self._end(session_id, peers))

    async def _end(self, session_id: str, peers: Sequence[Peer], *, if_ended: bool = False) -> None:
        """Close the sockets of a session that ended (``if_ended``: if it has)."""
        try:
            async with self._db.read() as uow:
                found = await uow.cast.get_session(session_id)
        except Exception:
            if if_ended:
                raise
            found = None  # they close all the same
        if if_ended and found is not None and not found.ended:
            return
        reason = found.ended_reason if found is not None and found.ended_reason else "ended"
        for peer in peers:
            peer.push(peer.frames.ended(reason))
            peer.shut(NORMAL, "session ended")

    async def _on_gap(self) -> None:
        """Pub/sub lost messages: resume every receiver from the database, and close the
        sockets of sessions that ended meanwhile."""
        for peers in self._receivers.values():
            for receiver in peers:
                receiver.resync()
        for session_id in {*self._receivers, *self._controllers}:
            self._spawn(self._end(session_id, self._held(session_id), if_ended=True))

    def _held(self, *session_ids: str) -> list[Peer]:
        """The sockets of these sessions held here."""
        held: list[Peer] = []
        for session_id in session_ids:
            held += self._receivers.get(session_id, ())
            held += self._controllers.get(session_id, ())
        return held

    async def _listen(self, topic: str, handler: Handler) -> None:
        """Subscribe to ``topic`` unless subscribed already; return once it is live."""
        if topic not in self._topics:
            unsubscribe = self._pubsub.subscribe(topic, handler, on_gap=self._on_gap)
            self._topics[topic] = (unsubscribe, asyncio.create_task(self._sync(topic)))
        await asyncio.wait({self._topics[topic][1]})  # shared: a caller giving up cancels nothing

    async def _sync(self, topic: str) -> None:
        # Redis confirms a subscription some time after subscribe() returns; a marker that
        # comes back proves it, so what the caller reads next misses nothing published after.
        token = secrets.token_hex(8).encode()
        arrived = self._syncs[token] = asyncio.get_running_loop().create_future()
        try:
            await self._pubsub.publish(topic, b"s" + token)
            async with asyncio.timeout(SYNC_WAIT):
                await arrived
        except Exception:
            log.warning("cast.subscription_unconfirmed", topic=topic, exc_info=True)
        finally:
            self._syncs.pop(token, None)

    def _synced(self, token: bytes) -> None:
        arrived = self._syncs.get(token)
        if arrived is not None and not arrived.done():
            arrived.set_result(None)

    async def _publish(self, topic: str, message: bytes) -> None:
        try:
            await self._pubsub.publish(topic, message)
        except Exception:
            # The receiver catches up at the session's next input, or on the pub/sub gap.
            log.warning("cast.publish_failed", topic=topic, exc_info=True)

    def _spawn(self, work: Awaitable[None]) -> None:
        task = asyncio.ensure_future(_logged(work))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


async def _logged(work: Awaitable[None]) -> None:
    try:
        await work
    except Exception:
        log.exception("cast.live_task_failed")
