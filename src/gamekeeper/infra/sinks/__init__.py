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

from gamekeeper.infra.sinks.base import Body, Sink
from gamekeeper.settings import Settings

__all__ = ["Body", "Sink", "make_sinks"]


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
