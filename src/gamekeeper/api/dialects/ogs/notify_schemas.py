"""OGS wire structs for push notifications: the spec's camelCase JSON, and the fields of ours."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import msgspec

from gamekeeper.api.dialects.ogs.schemas import In, Out, SparseOut
from gamekeeper.core.notify.types import DeliveryDetail, Device, Notification, StatusReport

Text = Annotated[str, msgspec.Meta(max_length=4096)]
Short = Annotated[str, msgspec.Meta(min_length=1, max_length=255)]


class RegisterIn(In):
    # An APNs/FCM/Expo token, or a Web Push subscription (the object or its JSON text).
    device_token: str | dict[str, Any]
    platform: Annotated[str, msgspec.Meta(max_length=16)]
    topics: (
        Annotated[list[Annotated[str, msgspec.Meta(max_length=64)]], msgspec.Meta(max_length=50)]
        | None
    ) = None
    game_id: Short | None = None  # ours: the game whose app registered the device


class RegisterOut(Out):
    success: bool
    device_id: str


class DeviceOut(Out):
    device_id: str
    platform: str
    provider: str
    topics: list[str] | None
    game_id: str | None
    active: bool
    deactivated_reason: str | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, device: Device) -> DeviceOut:
        return cls(
            device_id=device.id,
            platform=device.platform.value,
            provider=device.provider.value,
            topics=None if device.topics is None else list(device.topics),
            game_id=device.game_id,
            active=device.active,
            deactivated_reason=device.deactivated_reason,
            created_at=device.created_at,
            updated_at=device.updated_at,
        )


class DevicesOut(Out):
    devices: list[DeviceOut]


class VapidKeyOut(Out):
    public_key: str


class RecipientIn(In):
    game_user_id: Short


class NotificationIn(In):
    type: Annotated[str, msgspec.Meta(max_length=64)]
    title: Text
    body: Text
    data: dict[str, Any] | None = None
    deep_link: Text | None = None
    # Ours, beside the spec's fields.
    ttl: int | None = None
    collapse_key: Short | None = None
    priority: Annotated[str, msgspec.Meta(max_length=16)] = "high"


class SendIn(In):
    recipient: RecipientIn
    notification: NotificationIn


class SendOut(SparseOut):
    id: str
    status: str
    delivered_at: datetime | None = None

    @classmethod
    def of(cls, value: Notification) -> SendOut:
        return cls(id=value.id, status=value.status.value, delivered_at=value.delivered_at)


class DeliveryOut(Out):
    id: str
    device_id: str | None
    platform: str
    provider: str
    status: str
    attempts: int
    error: str | None
    delivered_at: datetime | None

    @classmethod
    def of(cls, value: DeliveryDetail) -> DeliveryOut:
        return cls(
            id=value.id,
            device_id=value.device_id,
            platform=value.platform.value,
            provider=value.provider.value,
            status=value.status.value,
            attempts=value.attempts,
            error=value.error,
            delivered_at=value.delivered_at,
        )


class StatusOut(Out):
    id: str
    status: str
    delivered_at: datetime | None
    read_at: datetime | None
    # Ours: why it failed, when it was sent, and the per-device detail (the first 100).
    reason: str | None
    created_at: datetime
    sent_at: datetime | None
    counts: dict[str, int]
    deliveries: list[DeliveryOut]

    @classmethod
    def of(cls, report: StatusReport) -> StatusOut:
        n = report.notification
        return cls(
            id=n.id,
            status=n.status.value,
            delivered_at=n.delivered_at,
            read_at=n.read_at,
            reason=n.reason,
            created_at=n.created_at,
            sent_at=n.sent_at,
            counts={status.value: count for status, count in report.counts.items()},
            deliveries=[DeliveryOut.of(d) for d in report.deliveries],
        )


class InboxItemOut(Out):
    id: str
    type: str
    title: str
    body: str
    data: dict[str, Any] | None
    deep_link: str | None
    status: str
    created_at: datetime
    read_at: datetime | None

    @classmethod
    def of(cls, value: Notification) -> InboxItemOut:
        c = value.content
        return cls(
            id=value.id,
            type=c.type,
            title=c.title,
            body=c.body,
            data=c.data,
            deep_link=c.deep_link,
            status=value.status.value,
            created_at=value.created_at,
            read_at=value.read_at,
        )


class InboxOut(Out):
    notifications: list[InboxItemOut]
    next_cursor: str | None


class ReadOut(Out):
    id: str
    status: str
    read_at: datetime | None
