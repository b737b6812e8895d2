"""The NATS JetStream sink: one stream per installation, deduplicated by event id.

Each event goes to ``<prefix>.<owner id or _>.<event type>`` (the prefix is the setting
``nats_subject_prefix``, ``gamekeeper`` by default) with its JSON body and a ``Nats-Msg-Id``
header holding the event id, so JetStream drops a redelivery arriving within the stream's
duplicate window. The window is left at the JetStream default, 2 minutes. A PubAck — marked
duplicate or not — means the event is stored.

``start`` creates the stream (subjects ``<prefix>.>``) if it is missing. A stream of that name
with another configuration is an operator's choice: it is left as it is and logged. Publishes
name the expected stream, so an event never lands in some other stream that claims the subject.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from urllib.parse import urlsplit

import structlog
from nats.aio.client import Client
from nats.errors import Error as NatsError
from nats.js import JetStreamContext
from nats.js.errors import BadRequestError

from gamekeeper.core.errors import Unavailable
from gamekeeper.core.events.types import Event
from gamekeeper.infra.sinks.base import Body, describe, encode

__all__ = ["NatsSink"]

CONNECT_TIMEOUT = 5.0
PUBLISH_TIMEOUT = 5.0
MAX_IN_FLIGHT = 256  # publishes of one batch awaiting their PubAck at once
_STREAM_NAME_IN_USE = 10058  # JetStream: the stream exists with a different configuration

log = structlog.get_logger(__name__)


class NatsSink:
    name = "nats"

    def __init__(
        self,
        url: str,
        *,
        stream: str = "GAMEKEEPER",
        subject_prefix: str = "gamekeeper",
        body: Body = Event.envelope,
        connect_timeout: float = CONNECT_TIMEOUT,
        publish_timeout: float = PUBLISH_TIMEOUT,
        max_in_flight: int = MAX_IN_FLIGHT,
    ) -> None:
        self._url = url
        self._stream = stream
        self._prefix = subject_prefix
        self._body = body
        self._connect_timeout = connect_timeout
        self._publish_timeout = publish_timeout
        self._max_in_flight = max_in_flight
        self._client: Client | None = None
        self._js: JetStreamContext | None = None

    async def start(self) -> None:
        if self._client is not None:
            return
        client = Client()
        try:
            # Reconnect for ever once running: the relay outlives broker restarts. The timeout
            # bounds the first connection, which would otherwise retry for ever too.
            async with asyncio.timeout(self._connect_timeout):
                await client.connect(
                    self._url,
                    name="gamekeeper",
                    connect_timeout=max(1, round(self._connect_timeout)),
                    max_reconnect_attempts=-1,
                    error_cb=self._on_error,
                    disconnected_cb=self._on_disconnected,
                    reconnected_cb=self._on_reconnected,
                )
                js = client.jetstream(timeout=self._publish_timeout)
                await self._ensure_stream(js)
        except (OSError, TimeoutError, NatsError) as exc:
            await client.close()
            raise Unavailable(f"NATS JetStream at {_redact(self._url)}: {describe(exc)}") from exc
        self._client, self._js = client, js

    async def close(self) -> None:
        client, self._client, self._js = self._client, None, None
        if client is not None:
            await client.close()

    async def publish(self, events: Sequence[Event]) -> list[str | None]:
        js = self._js
        if js is None:
            return ["the NATS sink is not started"] * len(events)
        in_flight = asyncio.Semaphore(self._max_in_flight)

        async def publish_one(event: Event) -> str | None:
            async with in_flight:
                try:
                    await js.publish(
                        self._subject(event),
                        encode(self._body, event),
                        timeout=self._publish_timeout,
                        stream=self._stream,
                        headers={"Nats-Msg-Id": event.id},
                    )
                except Exception as exc:  # whatever went wrong, the relay retries this event
                    return describe(exc)
                return None

        return list(await asyncio.gather(*(publish_one(event) for event in events)))

    def _subject(self, event: Event) -> str:
        # The owner's id: a game's (as before owners), an operator's or a platform's.
        return f"{self._prefix}.{event.owner.id if event.owner else '_'}.{event.type}"

    async def _ensure_stream(self, js: JetStreamContext) -> None:
        subjects = [f"{self._prefix}.>"]
        try:
            await js.add_stream(name=self._stream, subjects=subjects)
        except BadRequestError as exc:
            if exc.err_code != _STREAM_NAME_IN_USE:
                raise
            info = await js.stream_info(self._stream)
            log.warning(
                "nats_stream_config_differs",
                stream=self._stream,
                subjects=info.config.subjects,
                expected_subjects=subjects,
            )

    async def _on_error(self, exc: Exception) -> None:
        log.warning("nats_error", url=_redact(self._url), error=describe(exc))

    async def _on_disconnected(self) -> None:
        log.warning("nats_disconnected", url=_redact(self._url))

    async def _on_reconnected(self) -> None:
        log.info("nats_reconnected", url=_redact(self._url))


def _redact(url: str) -> str:
    """The URL without credentials, for messages and logs."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname}:{parts.port or 4222}" if parts.hostname else url
