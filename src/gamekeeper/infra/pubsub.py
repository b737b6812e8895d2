"""Publish/subscribe by topic: in memory for one process, over Redis for a cluster.

Semantics, the same for both implementations:

- Delivery is at most once. Each instance has one delivery task that awaits the handlers of a
  message one after the other, in publish order per topic. Handlers must therefore be quick
  (hand slow work to a queue): one that raises is logged and skipped, one that runs longer
  than ``HANDLER_TIMEOUT`` seconds is cancelled and logged, and delivery goes on. The same
  holds for ``on_gap`` callbacks.
- A publisher subscribed to its own topic receives its own messages.
- A subscription sees every message published on the same instance after ``subscribe()``
  returns (with Redis, unless a gap is reported). Messages from other replicas are seen once
  Redis has confirmed the subscription; ``start()`` waits for that for the subscriptions made
  before it, so subscribe before ``start()`` what must not miss a message.
- After the unsubscribe function returns, the handler is not called again.
- When messages may have been lost (the Redis connection dropped), every ``on_gap`` callback
  is awaited once, after the subscriptions are back, so subscribers can resynchronise.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

import structlog
from redis.asyncio import ConnectionPool, Redis
from redis.asyncio.connection import AbstractConnection, parse_url
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError

from gamekeeper.core.errors import Unavailable

__all__ = ["GapCallback", "Handler", "MemoryPubSub", "PubSub", "RedisPubSub", "make_pubsub"]

Handler = Callable[[str, bytes], Awaitable[None]]
GapCallback = Callable[[], Awaitable[None]]

HANDLER_TIMEOUT = 5.0
_BACKOFF_MIN, _BACKOFF_MAX = 0.1, 5.0
# Redis never times out an idle subscriber, so a silently dead link is only found by asking.
_IDLE_PING = 15.0
_SYNC_WAIT = 1.0

log = structlog.get_logger(__name__)


class PubSub(Protocol):
    """Topic-based publish/subscribe; see the module docstring for the guarantees."""

    async def start(self) -> None: ...

    async def close(self) -> None: ...

    async def publish(self, topic: str, message: bytes) -> None: ...

    async def ping(self) -> bool:
        """True when the transport answers (always, in memory)."""
        ...

    def subscribe(
        self, topic: str, handler: Handler, *, on_gap: GapCallback | None = None
    ) -> Callable[[], None]: ...


def make_pubsub(redis_url: str | None) -> PubSub:
    """Return pub/sub over Redis when a Redis URL is configured, in memory otherwise."""
    return RedisPubSub(redis_url) if redis_url else MemoryPubSub()


@dataclass(eq=False)
class _Subscription:
    handler: Handler
    on_gap: GapCallback | None
    active: bool = True


async def _guarded(callback: Callable[..., Awaitable[None]], *args: Any, **context: Any) -> None:
    deadline = asyncio.timeout(HANDLER_TIMEOUT)
    name = getattr(callback, "__qualname__", repr(callback))
    try:
        async with deadline:
            await callback(*args)
    except Exception:
        if deadline.expired():
            log.error("pubsub.callback_timeout", callback=name, timeout=HANDLER_TIMEOUT, **context)
        else:
            log.exception("pubsub.callback_failed", callback=name, **context)


class _Registry:
    """Subscriptions by topic; tells its owner when a topic gains its first or loses its last."""

    def __init__(self, on_topic_change: Callable[[str], None] | None = None) -> None:
        self._subs: dict[str, list[_Subscription]] = {}
        self._on_topic_change = on_topic_change

    def __contains__(self, topic: str) -> bool:
        return topic in self._subs

    @property
    def topics(self) -> list[str]:
        return list(self._subs)

    def add(self, topic: str, handler: Handler, on_gap: GapCallback | None) -> Callable[[], None]:
        sub = _Subscription(handler, on_gap)
        subs = self._subs.setdefault(topic, [])
        subs.append(sub)
        if len(subs) == 1 and self._on_topic_change:
            self._on_topic_change(topic)

        def unsubscribe() -> None:
            if not sub.active:
                return
            sub.active = False
            subs.remove(sub)
            if not subs:
                del self._subs[topic]
                if self._on_topic_change:
                    self._on_topic_change(topic)

        return unsubscribe

    async def deliver(self, topic: str, message: bytes) -> None:
        for sub in tuple(self._subs.get(topic, ())):
            if sub.active:
                await _guarded(sub.handler, topic, message, topic=topic)

    async def signal_gap(self) -> None:
        callbacks = {s.on_gap: None for subs in self._subs.values() for s in subs if s.on_gap}
        for on_gap in callbacks:
            await _guarded(on_gap, event="gap")


async def _stop(task: asyncio.Task[None] | None) -> None:
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


class MemoryPubSub:
    """Pub/sub inside one process (embedded mode): one queue, one delivery task."""

    def __init__(self) -> None:
        self._registry = _Registry()
        self._queue: asyncio.Queue[tuple[str, bytes]] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Start delivering; messages published before are delivered now."""
        if self._task is None:
            self._task = asyncio.create_task(self._deliver_forever(), name="pubsub-memory")

    async def close(self) -> None:
        """Stop delivering; messages still queued are dropped."""
        await _stop(self._task)
        self._task = None

    async def ping(self) -> bool:
        return True

    async def publish(self, topic: str, message: bytes) -> None:
        """Queue a message for the subscribers of a topic."""
        self._queue.put_nowait((topic, message))

    def subscribe(
        self, topic: str, handler: Handler, *, on_gap: GapCallback | None = None
    ) -> Callable[[], None]:
        """Call handler for each message on topic; returns the unsubscribe function."""
        # Nothing is ever lost in process, so on_gap is never called.
        return self._registry.add(topic, handler, on_gap)

    async def _deliver_forever(self) -> None:
        while True:
            topic, message = await self._queue.get()
            await self._registry.deliver(topic, message)


class RedisPubSub:
    """Pub/sub across replicas over Redis channels named ``channel_prefix + topic``.

    One dedicated connection subscribes and a reader task reads it; publishing goes through an
    ordinary client. If the connection drops, the reader reconnects with capped exponential
    backoff, subscribes again to every topic, then calls the ``on_gap`` callbacks.
    """

    def __init__(self, url: str, *, channel_prefix: str = "gk:") -> None:
        self._url = url
        self._prefix = channel_prefix
        self._prefix_len = len(channel_prefix.encode())
        self._registry = _Registry(on_topic_change=self._sync_soon)
        self._started = False
        self._client: Redis | None = None
        self._conn: AbstractConnection | None = None
        self._lock = asyncio.Lock()  # one writer at a time on the subscriber connection
        self._live = False  # the subscriber connection is up and its topics are subscribed
        self._remote: set[str] = set()  # topics subscribed on the live connection
        self._acks: deque[asyncio.Future[None]] = deque()  # one per (UN)SUBSCRIBE sent
        self._syncing: set[asyncio.Task[None]] = set()
        self._reader: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Connect and subscribe; raises Unavailable if Redis cannot be reached."""
        if self._started:
            return
        # RESP2 frames pub/sub messages as plain replies, on every Redis version.
        options: dict[str, Any] = {**parse_url(self._url), "protocol": 2}
        self._conn = ConnectionPool(**options).make_connection()  # type: ignore[no-untyped-call]
        self._client = Redis.from_url(self._url)
        self._started = True
        try:
            await self._subscribe_all()
        except (RedisError, OSError) as exc:
            await self.close()
            raise Unavailable(f"Cannot subscribe on Redis: {exc}") from exc
        self._reader = asyncio.create_task(self._read_forever(), name="pubsub-redis")

    async def close(self) -> None:
        """Stop the reader and close both connections."""
        self._started = False
        await _stop(self._reader)
        self._reader = None
        for task in self._syncing:
            task.cancel()
        # With the reader gone nobody confirms these; a sync whose cancellation was
        # swallowed by the driver would otherwise wait on its ack forever.
        while self._acks:
            self._acks.popleft().cancel()
        await asyncio.gather(*self._syncing, return_exceptions=True)
        if self._conn is not None:
            await self._drop()
            self._conn = None
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def ping(self) -> bool:
        if self._client is None or not self._live:
            return False
        try:
            return bool(await asyncio.wait_for(self._client.ping(), 1.0))
        except (RedisError, OSError, TimeoutError):
            return False

    async def publish(self, topic: str, message: bytes) -> None:
        """Send a message to the subscribers of a topic on every replica."""
        if self._client is None:
            raise RuntimeError("RedisPubSub.publish() called before start()")
        if self._syncing and asyncio.current_task() is not self._reader:
            # So that "subscribe, then publish" on one instance delivers, as it does in memory.
            await asyncio.wait(set(self._syncing), timeout=_SYNC_WAIT)
        try:
            await self._client.publish(self._prefix + topic, message)
        except RedisError as exc:
            raise Unavailable("Cannot publish on Redis") from exc

    def subscribe(
        self, topic: str, handler: Handler, *, on_gap: GapCallback | None = None
    ) -> Callable[[], None]:
        """Call handler for each message on topic; returns the unsubscribe function."""
        return self._registry.add(topic, handler, on_gap)

    def _sync_soon(self, topic: str) -> None:
        if self._started:  # otherwise start() subscribes to every topic in use
            task = asyncio.get_running_loop().create_task(self._sync(topic))
            self._syncing.add(task)
            task.add_done_callback(self._syncing.discard)

    async def _sync(self, topic: str) -> None:
        """Align the Redis subscription of topic with the registry; wait for Redis to confirm."""
        async with self._lock:
            wanted = topic in self._registry
            if self._conn is None or not self._live or wanted == (topic in self._remote):
                return
            ack = asyncio.get_running_loop().create_future()
            self._acks.append(ack)
            (self._remote.add if wanted else self._remote.discard)(topic)
            command = "SUBSCRIBE" if wanted else "UNSUBSCRIBE"
            try:
                await self._conn.send_command(command, self._prefix + topic, check_health=False)
            except (RedisError, OSError):
                return  # the reader finds the connection broken and subscribes again
        await ack

    async def _subscribe_all(self) -> None:
        assert self._conn is not None
        await self._conn.connect()  # type: ignore[no-untyped-call]
        async with self._lock:
            topics = self._registry.topics
            if topics:
                channels = [self._prefix + topic for topic in topics]
                await self._conn.send_command("SUBSCRIBE", *channels, check_health=False)
            self._remote = set(topics)
            self._live = True
        # Redis confirms each channel of one SUBSCRIBE before it sends any message.
        for _ in topics:
            await self._conn.read_response(disconnect_on_error=False)

    async def _drop(self) -> None:
        async with self._lock:
            self._live = False
            self._remote.clear()
            while self._acks:
                _resolve(self._acks.popleft())
            if self._conn is not None:
                with contextlib.suppress(RedisError, OSError):
                    await self._conn.disconnect()

    async def _read_forever(self) -> None:
        while True:
            try:
                await self._read_until_lost()
            except (RedisError, OSError) as exc:
                log.warning("pubsub.redis_lost", error=str(exc))
            except Exception:
                log.exception("pubsub.reader_failed")
            await self._drop()
            await self._reconnect()
            await self._registry.signal_gap()

    async def _read_until_lost(self) -> None:
        assert self._conn is not None
        ping_unanswered = False
        while True:
            reply = await self._conn.read_response(timeout=_IDLE_PING, disconnect_on_error=False)
            if reply is None:
                if ping_unanswered:
                    raise RedisConnectionError("Redis did not answer PING")
                async with self._lock:
                    await self._conn.send_command("PING", check_health=False)
                ping_unanswered = True
                continue
            ping_unanswered = False
            kind = reply[0] if isinstance(reply, list) else None
            if kind == b"message":
                await self._registry.deliver(reply[1][self._prefix_len :].decode(), reply[2])
            elif kind in (b"subscribe", b"unsubscribe") and self._acks:
                _resolve(self._acks.popleft())

    async def _reconnect(self) -> None:
        delay = _BACKOFF_MIN
        while True:
            await asyncio.sleep(random.uniform(delay / 2, delay))
            try:
                await self._subscribe_all()
            except (RedisError, OSError) as exc:
                log.warning("pubsub.redis_reconnect_failed", error=str(exc))
                await self._drop()
                delay = min(delay * 2, _BACKOFF_MAX)
            else:
                log.info("pubsub.redis_reconnected", topics=len(self._remote))
                return


def _resolve(ack: asyncio.Future[None]) -> None:
    if not ack.done():
        ack.set_result(None)
