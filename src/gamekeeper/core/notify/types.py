"""Push notification values: devices, notifications, deliveries and what the relay decides."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class Platform(StrEnum):
    IOS = "ios"
    ANDROID = "android"
    WEB = "web"


class ProviderName(StrEnum):
    APNS = "apns"
    FCM = "fcm"
    EXPO = "expo"
    WEBPUSH = "webpush"


class Priority(StrEnum):
    HIGH = "high"
    NORMAL = "normal"


class NotificationStatus(StrEnum):
    QUEUED = "queued"  # stored, no provider has taken it yet
    SENT = "sent"  # a provider took it, the final word is pending (Expo receipts)
    DELIVERED = "delivered"  # a provider accepted it for at least one device
    READ = "read"  # the player's app reported it read
    FAILED = "failed"  # no device can get it (``reason`` says why)


class DeliveryStatus(StrEnum):
    PENDING = "pending"  # due to be sent (or being sent under a lease)
    SENT = "sent"  # accepted, waiting for a receipt
    DELIVERED = "delivered"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class Device:
    id: str
    player_id: str
    platform: Platform
    provider: ProviderName
    topics: tuple[str, ...] | None  # None: every notification type
    active: bool
    created_at: datetime
    updated_at: datetime
    game_id: str | None = None  # the game whose app registered it; None: the deployment's app
    deactivated_reason: str | None = None

    def admits(self, notification_type: str) -> bool:
        return self.topics is None or notification_type in self.topics


@dataclass(frozen=True, slots=True)
class NewDevice:
    """A registration: the device token is sealed by the caller before it is stored."""

    device: Device
    token_hash: str
    sealed_token: str


@dataclass(frozen=True, slots=True)
class Content:
    """What a notification says, as the game sent it."""

    type: str
    title: str
    body: str
    data: dict[str, Any] | None = None
    deep_link: str | None = None
    ttl: int | None = None  # seconds a provider may keep it
    collapse_key: str | None = None
    priority: Priority = Priority.HIGH


@dataclass(frozen=True, slots=True)
class Notification:
    id: str
    game_id: str
    player_id: str
    game_user_id: str
    content: Content
    status: NotificationStatus
    created_at: datetime
    seq: int = 0  # the inbox order; given by the store
    reason: str | None = None  # why it failed: no_devices, device_gone, …
    sent_at: datetime | None = None
    delivered_at: datetime | None = None
    read_at: datetime | None = None
    idempotency_key: str | None = None


@dataclass(frozen=True, slots=True)
class DeliveryDetail:
    id: str
    device_id: str
    platform: Platform
    provider: ProviderName
    status: DeliveryStatus
    attempts: int
    error: str | None = None
    delivered_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class StatusReport:
    notification: Notification
    counts: dict[DeliveryStatus, int] = field(default_factory=dict)
    deliveries: tuple[DeliveryDetail, ...] = ()  # the first ones, for a look at the detail


@dataclass(frozen=True, slots=True)
class InboxPage:
    notifications: tuple[Notification, ...]
    next_cursor: str | None
