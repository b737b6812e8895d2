"""Recording events in the transaction of the change that caused them."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from gamekeeper.core.events.events import OutboxRecorded
from gamekeeper.core.events.registry import Payload, payload_of
from gamekeeper.core.events.store import OutboxUow
from gamekeeper.core.events.types import Event
from gamekeeper.core.owners.types import Owner


@dataclass(frozen=True, slots=True)
class NewEvent:
    """An event to record (see ``record_events``)."""

    type: str
    payload: Payload
    owner: Owner | None  # whose webhooks hear it; None: installation sinks only
    aggregate_id: str


async def record_events(uow: OutboxUow, new: Sequence[NewEvent]) -> list[Event]:
    """Record events and a delivery for each subscriber; nothing is sent unless this commits.

    In a few statements whatever their number (a matchmaking tick records one per session):
    one insert of the events, one lookup of webhooks per owner and event type, one insert of
    the deliveries.
    """
    events = [_event(uow, n.type, n.payload, n.owner, n.aggregate_id) for n in new]
    if not events:
        return []
    seqs = await uow.events.add_events(events)
    hooks: dict[tuple[Owner, str], list[str]] = {}
    targets: list[tuple[int, str, str | None]] = []
    for seq, event in zip(seqs, events, strict=True):
        targets += [(seq, sink, None) for sink in uow.events.sinks]
        if event.owner is not None:
            key = (event.owner, event.type)
            if key not in hooks:
                hooks[key] = await uow.events.matching_webhooks(*key)
            targets += [(seq, "webhook", hook_id) for hook_id in hooks[key]]
    await _deliver(uow, targets, events[0].occurred_at)
    return events


async def record_event(
    uow: OutboxUow,
    event_type: str,
    payload: Payload,
    *,
    owner: Owner | None,
    aggregate_id: str,
    only_webhook: str | None = None,
) -> Event:
    """Record one event (see ``record_events``).

    ``only_webhook`` sends it to that webhook alone (a test event), not to sinks or others.
    """
    if only_webhook is None:
        [event] = await record_events(uow, [NewEvent(event_type, payload, owner, aggregate_id)])
        return event
    event = _event(uow, event_type, payload, owner, aggregate_id)
    [seq] = await uow.events.add_events([event])
    await _deliver(uow, [(seq, "webhook", only_webhook)], event.occurred_at)
    return event


def _event(
    uow: OutboxUow, event_type: str, payload: Payload, owner: Owner | None, aggregate_id: str
) -> Event:
    return Event(
        id=str(uuid.uuid4()),
        type=event_type,
        owner=owner,
        aggregate_id=aggregate_id,
        payload=payload_of(event_type, payload),
        occurred_at=uow.now(),
    )


async def _deliver(
    uow: OutboxUow, targets: list[tuple[int, str, str | None]], at: datetime
) -> None:
    if targets:
        await uow.events.add_deliveries(targets, at)
        uow.emit(OutboxRecorded())
