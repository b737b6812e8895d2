"""The NATS JetStream sink against a real server (GAMEKEEPER_TEST_NATS_URL, required in CI).

Each test gets its own stream and subject prefix and deletes the stream afterwards, so tests
never see each other's messages nor the installation's own ``GAMEKEEPER`` stream.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from urllib.parse import urlsplit
from uuid import uuid4

import nats
import pytest
from nats.js import JetStreamContext
from nats.js.errors import NotFoundError
from structlog.testing import capture_logs

from gamekeeper.core.errors import Unavailable
from gamekeeper.core.events.types import Event
from gamekeeper.core.owners.types import Owner
from gamekeeper.infra.sinks import make_sinks
from gamekeeper.infra.sinks.nats import NatsSink
from gamekeeper.settings import load_settings
from support.loopback import free_port
from support.required import require_service

pytestmark = pytest.mark.anyio

NATS_URL = os.environ.get("GAMEKEEPER_TEST_NATS_URL", "nats://127.0.0.1:4222")
RECONNECT_DEADLINE = 15.0  # the client retries every 2 seconds


def _address(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    return parts.hostname or "127.0.0.1", parts.port or 4222


@pytest.fixture(scope="session")
def nats_url() -> str:
    return require_service("NATS", NATS_URL, 4222, hint="start it (with -js) to run this test")


@pytest.fixture
async def js(nats_url: str) -> AsyncIterator[JetStreamContext]:
    client = await nats.connect(nats_url)
    yield client.jetstream()
    await client.close()


@pytest.fixture
async def stream(js: JetStreamContext) -> AsyncIterator[tuple[str, str]]:
    """A fresh (stream name, subject prefix), the stream deleted after the test."""
    suffix = uuid4().hex[:12]
    name, prefix = f"GKTEST_{suffix}", f"gktest{suffix}"
    yield name, prefix
    with contextlib.suppress(NotFoundError):
        await js.delete_stream(name)


def make_event(
    n: int = 0, *, game_id: str | None = "game-1", type_: str = "player.created"
) -> Event:
    return Event(
        id=str(uuid4()),
        type=type_,
        owner=None if game_id is None else Owner.game(game_id),
        aggregate_id=f"player-{n}",
        payload={"n": n, "name": "Zoë"},
        occurred_at=datetime(2026, 1, 1, 12, 0, n, tzinfo=UTC),
    )


async def stored(js: JetStreamContext, name: str) -> dict[str, tuple[str, dict]]:
    """Every message of the stream: event id → (subject, body)."""
    info = await js.stream_info(name)
    messages = {}
    for seq in range(info.state.first_seq, info.state.last_seq + 1):
        msg = await js.get_msg(name, seq)
        assert msg.headers is not None and msg.subject is not None and msg.data is not None
        messages[msg.headers["Nats-Msg-Id"]] = (msg.subject, json.loads(msg.data))
    assert len(messages) == info.state.messages
    return messages


async def test_events_arrive_with_their_subject_and_envelope(nats_url, js, stream):
    name, prefix = stream
    sink = NatsSink(nats_url, stream=name, subject_prefix=prefix)
    await sink.start()
    events = [
        make_event(0),
        make_event(1, type_="item.granted"),
        make_event(2, game_id=None, type_="key.revoked"),
    ]
    try:
        assert await sink.publish(events) == [None, None, None]
    finally:
        await sink.close()

    assert await stored(js, name) == {
        events[0].id: (f"{prefix}.game-1.player.created", events[0].envelope()),
        events[1].id: (f"{prefix}.game-1.item.granted", events[1].envelope()),
        events[2].id: (f"{prefix}._.key.revoked", events[2].envelope()),
    }


async def test_a_redelivered_event_is_stored_once(nats_url, js, stream):
    name, prefix = stream
    sink = NatsSink(nats_url, stream=name, subject_prefix=prefix)
    await sink.start()
    events = [make_event(n) for n in range(20)]
    try:
        assert await sink.publish(events) == [None] * 20
        # The relay retries a batch whose acknowledgement it lost: accepted again, stored once.
        assert await sink.publish([*events[5:], events[0], events[0]]) == [None] * 17
    finally:
        await sink.close()

    assert set(await stored(js, name)) == {event.id for event in events}


async def test_a_dialect_can_supply_the_body(nats_url, js, stream):
    name, prefix = stream
    sink = NatsSink(nats_url, stream=name, subject_prefix=prefix, body=lambda e: {"eventId": e.id})
    await sink.start()
    event = make_event()
    try:
        assert await sink.publish([event]) == [None]
    finally:
        await sink.close()

    assert (await stored(js, name))[event.id][1] == {"eventId": event.id}


async def test_an_existing_stream_is_left_as_the_operator_configured_it(nats_url, js, stream):
    name, prefix = stream
    await js.add_stream(name=name, subjects=[f"{prefix}.>"], max_msgs=1000)
    sink = NatsSink(nats_url, stream=name, subject_prefix=prefix)
    with capture_logs() as logs:
        await sink.start()
    try:
        assert await sink.publish([make_event()]) == [None]
    finally:
        await sink.close()

    info = await js.stream_info(name)
    assert info.config.max_msgs == 1000
    assert info.state.messages == 1
    assert [entry["event"] for entry in logs] == ["nats_stream_config_differs"]


async def test_start_fails_as_unavailable_when_no_server_listens():
    port = free_port()  # a port that was free a moment ago: nothing listens there
    sink = NatsSink(f"nats://user:secret@127.0.0.1:{port}", connect_timeout=0.5)

    with capture_logs(), pytest.raises(Unavailable) as caught:
        await sink.start()

    assert f"127.0.0.1:{port}" in caught.value.message
    assert "secret" not in caught.value.message
    assert await sink.publish([make_event()]) == ["the NATS sink is not started"]


class CuttableLink:
    """A TCP relay to the NATS server; cutting it looks like the broker going away."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.port = 0
        self._server: asyncio.Server | None = None
        self._writers: list[asyncio.StreamWriter] = []
        self._tasks: set[asyncio.Task] = set()

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    async def open(self) -> None:
        self._server = await asyncio.start_server(self._relay, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def cut(self) -> None:
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()
        for writer in self._writers:
            writer.close()
        async with asyncio.timeout(5):
            await asyncio.gather(*self._tasks)
        self._writers.clear()

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._tasks.add(asyncio.current_task())  # type: ignore[arg-type]
        upstream_reader, upstream_writer = await asyncio.open_connection(*self.target)
        self._writers += [writer, upstream_writer]
        await asyncio.gather(
            _pipe(reader, upstream_writer), _pipe(upstream_reader, writer), return_exceptions=True
        )


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    finally:
        writer.close()


async def test_a_broker_going_away_yields_reasons_and_a_retry_stores_each_event_once(
    nats_url, js, stream
):
    name, prefix = stream
    link = CuttableLink(_address(nats_url))
    await link.open()
    sink = NatsSink(link.url, stream=name, subject_prefix=prefix, publish_timeout=0.5)
    await sink.start()
    before, during = [make_event(n) for n in range(3)], [make_event(n) for n in range(3, 8)]
    with capture_logs():
        try:
            assert await sink.publish(before) == [None] * 3
            await link.cut()

            outcomes = await sink.publish(during)
            assert all(isinstance(reason, str) and reason for reason in outcomes), outcomes

            # The broker comes back on the same address; the relay retries until accepted.
            await link.open()
            async with asyncio.timeout(RECONNECT_DEADLINE):
                while await sink.publish(during) != [None] * len(during):
                    pass
        finally:
            await sink.close()
            await link.cut()

    # The publishes of the outage, flushed on reconnection, did not add duplicates.
    assert set(await stored(js, name)) == {event.id for event in before + during}


def test_make_sinks_builds_only_the_configured_sinks():
    assert make_sinks(load_settings(env={})) == []
    settings = load_settings(
        env={},
        nats_url="nats://127.0.0.1:4222",
        sqs_queue_url="https://sqs.eu-west-1.amazonaws.com/123456789012/events.fifo",
    )
    assert [sink.name for sink in make_sinks(settings)] == ["nats", "sqs"]


async def test_the_subject_prefix_setting_reaches_the_subjects(nats_url, js, stream):
    name, prefix = stream
    env = {
        "GAMEKEEPER_NATS_URL": nats_url,
        "GAMEKEEPER_NATS_STREAM": name,
        "GAMEKEEPER_NATS_SUBJECT_PREFIX": f"{prefix}.events",
    }
    [sink] = make_sinks(load_settings(env=env))
    await sink.start()
    event = make_event(0)
    try:
        assert await sink.publish([event]) == [None]
    finally:
        await sink.close()
    assert (await js.stream_info(name)).config.subjects == [f"{prefix}.events.>"]
    assert await stored(js, name) == {
        event.id: (f"{prefix}.events.game-1.player.created", event.envelope())
    }
