"""Redis pub/sub between two instances standing in for two replicas of the server."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from urllib.parse import urlsplit, urlunsplit
from uuid import uuid4

import pytest
from redis.asyncio import Redis

from gamekeeper.infra.pubsub import RedisPubSub

pytestmark = [pytest.mark.anyio, pytest.mark.redis]

DEADLINE = 1.0  # the credential cache must see a revocation within a second
RECONNECT_DEADLINE = 5.0


class Inbox:
    """A handler that records messages; ``wait_for(n)`` fails if n have not come by the deadline."""

    def __init__(self) -> None:
        self.messages: list[bytes] = []
        self._arrived = asyncio.Event()

    async def __call__(self, topic: str, message: bytes) -> None:
        self.messages.append(message)
        self._arrived.set()

    async def wait_for(self, count: int, deadline: float = DEADLINE) -> list[bytes]:
        async with asyncio.timeout(deadline):
            while len(self.messages) < count:
                self._arrived.clear()
                await self._arrived.wait()
        return self.messages


async def failing_handler(topic: str, message: bytes) -> None:
    raise RuntimeError("handler bug")


def new_topic() -> str:
    return f"test.{uuid4().hex}"


def with_client_name(url: str, name: str) -> str:
    parts = urlsplit(url)
    query = "&".join(filter(None, [parts.query, f"client_name={name}"]))
    return urlunsplit(parts._replace(query=query))


async def until_confirmed(bus: RedisPubSub, topic: str, inbox: Inbox) -> None:
    """Return once Redis confirmed bus's subscription: a message bus sends itself comes back."""
    await bus.publish(topic, b"probe")
    await inbox.wait_for(1)
    inbox.messages.clear()


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_url)
    try:
        yield client
    finally:
        await client.aclose()


@pytest.fixture
async def replica_a(redis_url: str) -> AsyncIterator[RedisPubSub]:
    bus = RedisPubSub(redis_url)
    await bus.start()
    try:
        yield bus
    finally:
        await bus.close()


@pytest.fixture
async def replica_b(redis_url: str) -> AsyncIterator[RedisPubSub]:
    bus = RedisPubSub(redis_url)
    await bus.start()
    try:
        yield bus
    finally:
        await bus.close()


async def test_message_from_one_replica_reaches_the_other_and_its_sender(
    replica_a: RedisPubSub, replica_b: RedisPubSub
) -> None:
    topic, at_a, at_b = new_topic(), Inbox(), Inbox()
    replica_b.subscribe(topic, at_b)
    await until_confirmed(replica_b, topic, at_b)
    replica_a.subscribe(topic, at_a)

    await replica_a.publish(topic, b"revoked gk_abc")

    assert await at_b.wait_for(1) == [b"revoked gk_abc"]
    assert await at_a.wait_for(1) == [b"revoked gk_abc"]


async def test_subscription_made_before_start_is_live_when_start_returns(
    redis_url: str, replica_a: RedisPubSub
) -> None:
    topic, inbox = new_topic(), Inbox()
    bus = RedisPubSub(redis_url)
    bus.subscribe(topic, inbox)
    await bus.start()
    try:
        await replica_a.publish(topic, b"hello")
        assert await inbox.wait_for(1) == [b"hello"]
    finally:
        await bus.close()


async def test_messages_keep_publish_order_across_replicas(
    replica_a: RedisPubSub, replica_b: RedisPubSub
) -> None:
    topic, inbox = new_topic(), Inbox()
    replica_b.subscribe(topic, inbox)
    await until_confirmed(replica_b, topic, inbox)
    sent = [str(i).encode() for i in range(200)]
    for message in sent:
        await replica_a.publish(topic, message)
    assert await inbox.wait_for(200) == sent


async def test_failing_handler_does_not_stop_delivery(
    replica_a: RedisPubSub, replica_b: RedisPubSub
) -> None:
    topic, inbox = new_topic(), Inbox()
    replica_b.subscribe(topic, failing_handler)
    replica_b.subscribe(topic, inbox)
    await until_confirmed(replica_b, topic, inbox)
    await replica_a.publish(topic, b"1")
    await replica_a.publish(topic, b"2")
    assert await inbox.wait_for(2) == [b"1", b"2"]


async def test_last_unsubscribe_leaves_the_redis_channel(
    replica_b: RedisPubSub, redis: Redis
) -> None:
    topic, inbox = new_topic(), Inbox()
    unsubscribe = replica_b.subscribe(topic, inbox)
    await until_confirmed(replica_b, topic, inbox)
    assert await redis.pubsub_numsub(f"gk:{topic}") == [(f"gk:{topic}".encode(), 1)]

    unsubscribe()
    await replica_b.publish(topic, b"after")  # waits until Redis confirmed the unsubscribe

    assert await redis.pubsub_numsub(f"gk:{topic}") == [(f"gk:{topic}".encode(), 0)]
    assert inbox.messages == []


async def test_killed_connection_is_restored_and_subscribers_told_of_the_gap(
    redis_url: str, replica_a: RedisPubSub, redis: Redis
) -> None:
    topic, inbox, gaps = new_topic(), Inbox(), []
    gap_signalled = asyncio.Event()

    async def on_gap() -> None:
        gaps.append(topic)
        gap_signalled.set()

    name = f"gk-test-{uuid4().hex[:12]}"
    bus = RedisPubSub(with_client_name(redis_url, name))
    bus.subscribe(topic, inbox, on_gap=on_gap)
    await bus.start()
    try:
        subscribers = [c for c in await redis.client_list(_type="pubsub") if c["name"] == name]
        assert len(subscribers) == 1
        await redis.client_kill_filter(_id=subscribers[0]["id"])

        async with asyncio.timeout(RECONNECT_DEADLINE):
            await gap_signalled.wait()
        await replica_a.publish(topic, b"after reconnect")

        assert await inbox.wait_for(1) == [b"after reconnect"]
        assert gaps == [topic]
    finally:
        await bus.close()
