"""The AWS SQS sink: a FIFO queue, one message group per aggregate, deduplicated by event id.

Events go out with ``SendMessageBatch``, at most 10 (and ``MAX_BATCH_BYTES``) per request, the
requests one after another so the queue sees each aggregate's events in the order given. When a
request fails outright (transport, credentials, throttling after the client's retries), its
events and all later ones are reported failed: sending the later ones could overtake an
earlier event of the same aggregate. Credentials come from the usual AWS chain (environment,
config files, instance roles); ``endpoint_url`` points at an SQS-compatible server instead of AWS.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import AsyncExitStack
from typing import Any

from aiobotocore.config import AioConfig
from aiobotocore.session import get_session

from gamekeeper.core.errors import Unavailable
from gamekeeper.core.events.types import Event
from gamekeeper.infra.sinks.base import Body, describe, encode

__all__ = ["SqsSink"]

MAX_BATCH_ENTRIES = 10  # the SendMessageBatch limit
# The batch limit was 256 KiB before AWS raised it to 1 MiB; the old one suits every SQS-alike.
# A single larger event still goes, alone in its request.
MAX_BATCH_BYTES = 256 * 1024
TIMEOUT = 10.0
MAX_ATTEMPTS = 3  # per request, by the AWS client; the relay retries after that

Entry = dict[str, str]


class SqsSink:
    name = "sqs"

    def __init__(
        self,
        queue_url: str,
        *,
        endpoint_url: str | None = None,
        region: str = "us-east-1",
        body: Body = Event.envelope,
        timeout: float = TIMEOUT,
        max_attempts: int = MAX_ATTEMPTS,
    ) -> None:
        self._queue_url = queue_url
        self._endpoint_url = endpoint_url
        self._region = region
        self._body = body
        self._config = AioConfig(
            connect_timeout=timeout,
            read_timeout=timeout,
            retries={"mode": "standard", "max_attempts": max_attempts},
        )
        self._client: Any = None
        self._stack: AsyncExitStack | None = None

    async def start(self) -> None:
        if self._client is not None:
            return
        stack = AsyncExitStack()
        try:
            client = await stack.enter_async_context(
                get_session().create_client(
                    "sqs",
                    region_name=self._region,
                    endpoint_url=self._endpoint_url,
                    config=self._config,
                )
            )
            response = await client.get_queue_attributes(
                QueueUrl=self._queue_url, AttributeNames=["FifoQueue"]
            )
        except Exception as exc:
            await stack.aclose()
            raise Unavailable(f"SQS queue {self._queue_url}: {describe(exc)}") from exc
        if response.get("Attributes", {}).get("FifoQueue") != "true":
            await stack.aclose()
            raise Unavailable(f"SQS queue {self._queue_url} is not a FIFO queue")
        self._client, self._stack = client, stack

    async def close(self) -> None:
        stack, self._stack, self._client = self._stack, None, None
        if stack is not None:
            await stack.aclose()

    async def publish(self, events: Sequence[Event]) -> list[str | None]:
        client = self._client
        if client is None:
            return ["the SQS sink is not started"] * len(events)
        outcomes: list[str | None] = [None] * len(events)
        entries: list[Entry] = []
        for index, event in enumerate(events):
            try:
                message = encode(self._body, event).decode()
            except Exception as exc:
                outcomes[index] = f"cannot encode the event: {describe(exc)}"
                continue
            entries.append(
                {
                    "Id": str(index),  # the position in `events`, to map results back
                    "MessageBody": message,
                    "MessageGroupId": event.aggregate_id,
                    "MessageDeduplicationId": event.id,
                }
            )
        chunks = list(_chunks(entries))
        for number, chunk in enumerate(chunks):
            try:
                response = await client.send_message_batch(QueueUrl=self._queue_url, Entries=chunk)
            except Exception as exc:  # whatever went wrong, the relay retries these events
                reason = describe(exc)
                for entry in (entry for later in chunks[number:] for entry in later):
                    outcomes[int(entry["Id"])] = reason
                break
            for entry in chunk:
                outcomes[int(entry["Id"])] = batch_outcome(response, entry["Id"])
        return outcomes


def batch_outcome(response: dict[str, Any], entry_id: str) -> str | None:
    """What a ``SendMessageBatch`` response says of one entry: ``None`` if it was accepted."""
    for failed in response.get("Failed", []):
        if failed.get("Id") == entry_id:
            code, message = failed.get("Code", "Failed"), failed.get("Message")
            return f"{code}: {message}" if message else code
    if any(done.get("Id") == entry_id for done in response.get("Successful", [])):
        return None
    return "SQS reported no result for this message"


def _chunks(entries: list[Entry]) -> Iterator[list[Entry]]:
    chunk: list[Entry] = []
    size = 0
    for entry in entries:
        length = len(entry["MessageBody"].encode())
        if chunk and (len(chunk) == MAX_BATCH_ENTRIES or size + length > MAX_BATCH_BYTES):
            yield chunk
            chunk, size = [], 0
        chunk.append(entry)
        size += length
    if chunk:
        yield chunk
