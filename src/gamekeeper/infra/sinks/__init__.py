"""Event sinks: the brokers the outbox relay hands events to (NATS JetStream, AWS SQS FIFO).

A sink reports per event whether the broker accepted it; the relay retries the others later, so
delivery is at least once. Each sink gives the broker the event id as its deduplication key
(NATS ``Nats-Msg-Id``, SQS ``MessageDeduplicationId``), so a redelivery within the broker's
window (2 minutes on JetStream by default, 5 minutes on SQS) is dropped. A consumer that must
never see a duplicate still dedupes on the envelope's ``id``: a retry can come later than that.

``publish`` never raises for a broker failure: it returns one entry per event, in order, ``None``
when the broker accepted it and otherwise a short reason fit for a log line.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol

import msgspec

from gamekeeper.core.events.types import Event
from gamekeeper.settings import Settings

__all__ = ["Body", "Sink", "make_sinks"]

Body = Callable[[Event], dict[str, Any]]
"""Builds the JSON body of an event; ``Event.envelope`` unless a dialect needs its own shape."""


class Sink(Protocol):
    name: str

    async def start(self) -> None:
        """Connect and check the destination; raise ``Unavailable`` if it cannot be reached."""

    async def close(self) -> None: ...

    async def publish(self, events: Sequence[Event]) -> list[str | None]:
        """Per event, in order: ``None`` when the broker accepted it, else why not."""
        ...


def make_sinks(settings: Settings) -> list[Sink]:
    """The sinks configured in ``settings``, not yet started; none by default."""
    sinks: list[Sink] = []
    # Imported here so an installation without sinks never loads the broker clients.
    if settings.nats_url:
        from gamekeeper.infra.sinks.nats import NatsSink

        sinks.append(
            NatsSink(
                settings.nats_url,
                stream=settings.nats_stream,
                subject_prefix=settings.nats_subject_prefix,
            )
        )
    if settings.sqs_queue_url:
        from gamekeeper.infra.sinks.sqs import SqsSink

        sinks.append(
            SqsSink(
                settings.sqs_queue_url,
                endpoint_url=settings.sqs_endpoint_url,
                region=settings.sqs_region,
            )
        )
    return sinks


def encode(body: Body, event: Event) -> bytes:
    return msgspec.json.encode(body(event))


def describe(exc: BaseException) -> str:
    """A one-line reason for a failed delivery."""
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
