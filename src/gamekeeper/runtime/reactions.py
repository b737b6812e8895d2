"""In-process reactions to committed domain events, subscribed by event type.

A domain event (``uow.emit``) is handed over only after its transaction commits. Each
subscriber names the event types it reacts to and receives, per commit, the events of those
types in the order they were emitted. A new domain subscribes its own reactions in the
composition root; no dispatcher lists every event.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

import structlog

from gamekeeper.core.uow import DomainEvent

Reaction = Callable[[list[DomainEvent]], Awaitable[None]]
log = structlog.get_logger(__name__)


class Reactions:
    def __init__(self) -> None:
        self._by_type: dict[type[DomainEvent], list[Reaction]] = {}

    def on(self, *event_types: type[DomainEvent], react: Reaction) -> None:
        """Call ``react`` after each commit that emitted events of these types."""
        for event_type in event_types:
            self._by_type.setdefault(event_type, []).append(react)

    async def dispatch(self, events: Sequence[DomainEvent]) -> None:
        """Hand one commit's events to their subscribers, one call per subscriber."""
        batches: dict[Reaction, list[DomainEvent]] = {}
        for event in events:
            for react in self._by_type.get(type(event), ()):
                batches.setdefault(react, []).append(event)
        for react, batch in batches.items():
            await react(batch)
