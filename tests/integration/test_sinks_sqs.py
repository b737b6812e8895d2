"""The SQS sink against moto's SQS server on loopback, with dummy credentials.

moto implements FIFO deduplication only against messages still in the queue (AWS: for 5 minutes
after a send, deleted or not), so redelivery is checked before anything is received.
moto never reports a per-entry failure for the entries this sink sends (only for bad
``DelaySeconds``), so ``batch_outcome`` is checked on the response shape AWS documents.
"""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

import pytest
from aiobotocore.session import get_session
from moto.server import ThreadedMotoServer

from gamekeeper.core.errors import Unavailable
from gamekeeper.core.events.types import Event
from gamekeeper.core.owners.types import Owner
from gamekeeper.infra.sinks.sqs import SqsSink, batch_outcome

pytestmark = pytest.mark.anyio

RECEIVE_DEADLINE = 10.0


def start_moto() -> tuple[ThreadedMotoServer, str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    return server, f"http://{host}:{port}"


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    server, url = start_moto()
    yield url
    server.stop()


@pytest.fixture(autouse=True)
def aws_credentials(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    """Dummy credentials, and none of the developer's own AWS configuration."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "aws-credentials"))
    for name in ("AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_PROFILE", "AWS_DEFAULT_PROFILE"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
async def sqs(endpoint: str) -> AsyncIterator[Any]:
    async with get_session().create_client(
        "sqs", region_name="us-east-1", endpoint_url=endpoint
    ) as client:
        yield client


async def create_queue(sqs: Any, *, fifo: bool = True) -> str:
    if not fifo:
        return (await sqs.create_queue(QueueName=f"gktest-{uuid4().hex}"))["QueueUrl"]
    response = await sqs.create_queue(
        QueueName=f"gktest-{uuid4().hex}.fifo",
        Attributes={"FifoQueue": "true", "ContentBasedDeduplication": "false"},
    )
    return response["QueueUrl"]


def make_event(n: int, aggregate: str) -> Event:
    return Event(
        id=str(uuid4()),
        type="player.created",
        owner=Owner.game("game-1"),
        aggregate_id=aggregate,
        payload={"n": n, "name": "Zoë"},
        occurred_at=datetime(2026, 1, 1, 12, 0, n % 60, tzinfo=UTC),
    )


async def waiting(sqs: Any, queue_url: str) -> int:
    response = await sqs.get_queue_attributes(
        QueueUrl=queue_url, AttributeNames=["ApproximateNumberOfMessages"]
    )
    return int(response["Attributes"]["ApproximateNumberOfMessages"])


async def receive_all(sqs: Any, queue_url: str, count: int) -> list[dict[str, Any]]:
    """Receive and delete ``count`` messages, in the order SQS hands them out."""
    received: list[dict[str, Any]] = []
    async with asyncio.timeout(RECEIVE_DEADLINE):
        while len(received) < count:
            response = await sqs.receive_message(
                QueueUrl=queue_url,
                MaxNumberOfMessages=10,
                MessageSystemAttributeNames=["MessageGroupId", "MessageDeduplicationId"],
                WaitTimeSeconds=1,
            )
            for message in response.get("Messages", []):
                received.append(message)
                await sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    return received


async def test_events_arrive_once_per_id_grouped_by_aggregate_in_order(endpoint, sqs):
    queue_url = await create_queue(sqs)
    events = [make_event(n, f"player-{n % 3}") for n in range(25)]
    sink = SqsSink(queue_url, endpoint_url=endpoint)
    await sink.start()
    try:
        assert await sink.publish(events) == [None] * 25
        # The relay retries a batch whose answer it lost: accepted again, queued once.
        assert await sink.publish(events[::-1]) == [None] * 25
    finally:
        await sink.close()

    assert await waiting(sqs, queue_url) == 25
    received = await receive_all(sqs, queue_url, 25)
    assert await waiting(sqs, queue_url) == 0
    by_id = {event.id: event for event in events}
    groups: dict[str, list[str]] = {}
    for message in received:
        event = by_id[message["Attributes"]["MessageDeduplicationId"]]
        assert message["Attributes"]["MessageGroupId"] == event.aggregate_id
        assert json.loads(message["Body"]) == event.envelope()
        groups.setdefault(event.aggregate_id, []).append(event.id)
    assert groups == {
        aggregate: [event.id for event in events if event.aggregate_id == aggregate]
        for aggregate in ("player-0", "player-1", "player-2")
    }


async def test_a_dialect_can_supply_the_body(endpoint, sqs):
    queue_url = await create_queue(sqs)
    event = make_event(0, "tournament-1")
    sink = SqsSink(queue_url, endpoint_url=endpoint, body=lambda e: {"eventId": e.id})
    await sink.start()
    try:
        assert await sink.publish([event]) == [None]
    finally:
        await sink.close()

    [message] = await receive_all(sqs, queue_url, 1)
    assert json.loads(message["Body"]) == {"eventId": event.id}


async def test_start_refuses_a_standard_queue(endpoint, sqs):
    sink = SqsSink(await create_queue(sqs, fifo=False), endpoint_url=endpoint)
    with pytest.raises(Unavailable, match="not a FIFO queue"):
        await sink.start()


async def test_start_fails_as_unavailable_when_nothing_listens():
    with socket.socket() as probe:  # a port that was free a moment ago: nothing listens there
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    endpoint = f"http://127.0.0.1:{port}"
    sink = SqsSink(f"{endpoint}/123456789012/events.fifo", endpoint_url=endpoint, max_attempts=1)

    with pytest.raises(Unavailable, match=r"events\.fifo"):
        await sink.start()
    assert await sink.publish([make_event(0, "a")]) == ["the SQS sink is not started"]


async def test_an_endpoint_going_away_yields_a_reason_per_event():
    server, endpoint = start_moto()
    try:
        async with get_session().create_client(
            "sqs", region_name="us-east-1", endpoint_url=endpoint
        ) as sqs:
            queue_url = await create_queue(sqs)
        sink = SqsSink(queue_url, endpoint_url=endpoint, max_attempts=1)
        await sink.start()
    finally:
        server.stop()
    try:
        outcomes = await sink.publish([make_event(n, f"player-{n % 3}") for n in range(25)])
    finally:
        await sink.close()

    assert len(outcomes) == 25
    assert all(isinstance(reason, str) and reason for reason in outcomes), outcomes


def test_a_batch_response_is_read_per_entry():
    response = {
        "Successful": [{"Id": "0", "MessageId": "m0"}],
        "Failed": [
            {"Id": "1", "SenderFault": False, "Code": "InternalError", "Message": "try again"},
            {"Id": "2", "SenderFault": True, "Code": "InvalidParameterValue"},
        ],
    }
    assert [batch_outcome(response, entry_id) for entry_id in "0123"] == [
        None,
        "InternalError: try again",
        "InvalidParameterValue",
        "SQS reported no result for this message",
    ]
