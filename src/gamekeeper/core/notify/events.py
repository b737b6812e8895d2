"""Push notification events: a domain event that wakes the push relay, and what games hear."""

from __future__ import annotations

from dataclasses import dataclass

from gamekeeper.core.events.registry import EventType, Payload, register
from gamekeeper.core.uow import DomainEvent


@dataclass(frozen=True, slots=True)
class PushQueued(DomainEvent):
    """Deliveries were committed: the push relay should look for work now."""

    notification_id: str


@dataclass(frozen=True, slots=True)
class PushCredentialsChanged(DomainEvent):
    """A game's provider credentials changed: drop the provider clients built with the old."""

    game_id: str


class NotificationDelivered(Payload):
    notification_id: str
    game_user_id: str
    type: str
    delivered_at: str


class NotificationFailed(Payload):
    notification_id: str
    game_user_id: str
    type: str
    reason: str


class NotificationRead(Payload):
    notification_id: str
    game_user_id: str
    type: str
    read_at: str


register(
    EventType(
        "notification.delivered",
        NotificationDelivered,
        "A push provider accepted the notification for at least one of the player's devices.",
    ),
    EventType(
        "notification.failed",
        NotificationFailed,
        "No device can get the notification (no devices, every device gone or refused).",
    ),
    EventType(
        "notification.read", NotificationRead, "The player's app reported the notification read."
    ),
)
