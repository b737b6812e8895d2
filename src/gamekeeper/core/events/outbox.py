"""Recording events in the transaction of the change that caused them."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from gamekeeper.core.events.domain import OutboxRecorded
from gamekeeper.core.events.registry import Payload, payload_of
from gamekeeper.core.events.types import Event

if TYPE_CHECKING:
    from gamekeeper.core.uow import UnitOfWork


async def record_event(
    uow: UnitOfWork,
    event_type: str,
    payload: Payload,
    *,
    game_id: str | None,
    aggregate_id: str,
    only_webhook: str | None = None,
) -> Event:
    """Record an event and a delivery for each subscriber; nothing is sent unless this commits.

    ``only_webhook`` sends it to that webhook alone (a test event), not to sinks or others.
    """
    event = Event(
        id=str(uuid.uuid4()),
        type=event_type,
        game_id=game_id,
        aggregate_id=aggregate_id,
        payload=payload_of(event_type, payload),
        occurred_at=uow.now(),
    )
    seq = await uow.events.add_event(event)
    targets: list[tuple[str, str | None]] = [(sink, None) for sink in uow.events.sinks]
    if only_webhook is not None:
        targets = [("webhook", only_webhook)]
    elif game_id is not None:
        hooks = await uow.events.matching_webhooks(game_id, event_type)
        targets += [("webhook", hook_id) for hook_id in hooks]
    if targets:
        await uow.events.add_deliveries(seq, targets, event.occurred_at)
        uow.emit(OutboxRecorded())
    return event
