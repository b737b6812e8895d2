"""In-memory pub/sub: order, unsubscribe, failing and hanging handlers; choosing a backend."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
import structlog
from structlog.testing import capture_logs

from gamekeeper.core.errors import Unavailable
from gamekeeper.infra import pubsub
from gamekeeper.infra.pubsub import MemoryPubSub, RedisPubSub, make_pubsub

pytestmark = pytest.mark.anyio

DEADLINE = 1.0


class Inbox:
    """A handler that records messages; ``wait_for(n)`` fails if n have not come by the deadline."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, bytes]] = []
        self._arrived = asyncio.Event()

    async def __call__(self, topic: str, message: bytes) -> None:
        self.messages.append((topic, message))
        self._arrived.set()

    async def wait_for(self, count: int) -> list[bytes]:
        async with asyncio.timeout(DEADLINE):
            while len(self.messages) < count:
                self._arrived.clear()
                await self._arrived.wait()
        return [message for _, message in self.messages]


async def failing_handler(topic: str, message: bytes) -> None:
    raise RuntimeError("handler bug")


async def hanging_handler(topic: str, message: bytes) -> None:
    await asyncio.Event().wait()


@pytest.fixture
async def bus() -> AsyncIterator[MemoryPubSub]:
    bus = MemoryPubSub()
    await bus.start()
    try:
        yield bus
    finally:
        await bus.close()


@pytest.fixture
def logs(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[dict[str, Any]]]:
    # A fresh logger: the module's one may have been cached by an earlier configure_logging().
    with capture_logs() as captured:
        monkeypatch.setattr(pubsub, "log", structlog.get_logger(pubsub.__name__))
        yield captured


async def test_messages_arrive_in_publish_order(bus: MemoryPubSub) -> None:
    inbox = Inbox()
    bus.subscribe("scores", inbox)
    sent = [str(i).encode() for i in range(200)]
    for message in sent:
        await bus.publish("scores", message)
    assert await inbox.wait_for(200) == sent


async def test_every_subscriber_of_a_topic_gets_its_messages_and_only_those(
    bus: MemoryPubSub,
) -> None:
    first, second, other = Inbox(), Inbox(), Inbox()
    bus.subscribe("a", first)
    bus.subscribe("a", second)
    bus.subscribe("b", other)
    await bus.publish("a", b"for a")
    await bus.publish("b", b"for b")
    assert await first.wait_for(1) == [b"for a"]
    assert await second.wait_for(1) == [b"for a"]
    assert await other.wait_for(1) == [b"for b"]
    assert first.messages == [("a", b"for a")]


async def test_unsubscribed_handler_is_not_called_again(bus: MemoryPubSub) -> None:
    gone, staying = Inbox(), Inbox()
    unsubscribe = bus.subscribe("t", gone)
    bus.subscribe("t", staying)
    unsubscribe()
    unsubscribe()  # a second call is harmless
    await bus.publish("t", b"after")
    assert await staying.wait_for(1) == [b"after"]
    assert gone.messages == []


async def test_messages_published_before_start_are_delivered_once_started() -> None:
    bus, inbox = MemoryPubSub(), Inbox()
    bus.subscribe("t", inbox)
    await bus.publish("t", b"early")
    await bus.start()
    try:
        assert await inbox.wait_for(1) == [b"early"]
    finally:
        await bus.close()


async def test_failing_handler_is_logged_and_delivery_goes_on(
    bus: MemoryPubSub, logs: list[dict[str, Any]]
) -> None:
    inbox = Inbox()
    bus.subscribe("t", failing_handler)
    bus.subscribe("t", inbox)
    await bus.publish("t", b"1")
    await bus.publish("t", b"2")
    assert await inbox.wait_for(2) == [b"1", b"2"]
    failures = [entry for entry in logs if entry["event"] == "pubsub.callback_failed"]
    assert [entry["topic"] for entry in failures] == ["t", "t"]
    assert failures[0]["callback"] == "failing_handler"


async def test_hanging_handler_is_cancelled_and_delivery_goes_on(
    bus: MemoryPubSub, logs: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pubsub, "HANDLER_TIMEOUT", 0.05)
    inbox = Inbox()
    bus.subscribe("t", hanging_handler)
    bus.subscribe("t", inbox)
    await bus.publish("t", b"1")
    assert await inbox.wait_for(1) == [b"1"]
    assert [entry["event"] for entry in logs] == ["pubsub.callback_timeout"]


def test_make_pubsub_uses_redis_only_when_a_url_is_configured() -> None:
    assert isinstance(make_pubsub(None), MemoryPubSub)
    assert isinstance(make_pubsub(""), MemoryPubSub)
    assert isinstance(make_pubsub("redis://127.0.0.1:6379/0"), RedisPubSub)


async def test_redis_start_fails_with_unavailable_when_redis_is_unreachable() -> None:
    bus = RedisPubSub("redis://127.0.0.1:1/0")
    with pytest.raises(Unavailable):
        await bus.start()
    with pytest.raises(RuntimeError):
        await bus.publish("t", b"x")
