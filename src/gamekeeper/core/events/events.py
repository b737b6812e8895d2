"""Events of the events domain itself: the outbox's wake-up and the webhook test."""

from __future__ import annotations

from dataclasses import dataclass

from gamekeeper.core.events.registry import EventType, Payload, register
from gamekeeper.core.uow import DomainEvent


@dataclass(frozen=True, slots=True)
class OutboxRecorded(DomainEvent):
    """Deliveries are waiting: wake the relay."""


class WebhookTest(Payload):
    webhook_id: str
    message: str


register(EventType("webhook.test", WebhookTest, "Sent on request, to check an endpoint."))
