"""Wire shapes of the admin API's webhook calls."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec

from gamekeeper.api.dialects.admin.schemas import UNSET, Unset, Url, Wire
from gamekeeper.core.events.store import Delivery, Webhook

EventTypes = Annotated[
    list[Annotated[str, msgspec.Meta(max_length=64)]], msgspec.Meta(max_length=100)
]
Format = Literal["standard", "form"]
Secret = Annotated[str, msgspec.Meta(max_length=256)]


class WebhookCreate(Wire):
    url: Url
    event_types: EventTypes | None = None
    format: Format = "standard"
    secret: Secret | None = None


class WebhookUpdate(Wire):
    url: Url | Unset = UNSET
    event_types: EventTypes | Unset | None = UNSET
    format: Format | Unset = UNSET
    enabled: bool | Unset = UNSET


class WebhookOut(Wire):
    id: str
    owner_kind: str
    owner_id: str
    game_id: str | None  # the owner, when it is a game
    url: str
    event_types: list[str]
    format: str
    enabled: bool
    managed: bool
    failing_since: datetime | None
    disabled_reason: str | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, value: Webhook) -> WebhookOut:
        return cls(
            id=value.id,
            owner_kind=value.owner.kind.value,
            owner_id=value.owner.id,
            game_id=value.owner.game_id,
            url=value.url,
            event_types=list(value.event_types),
            format=value.format.value,
            enabled=value.enabled,
            managed=value.managed,
            failing_since=value.failing_since,
            disabled_reason=value.disabled_reason,
            created_at=value.created_at,
            updated_at=value.updated_at,
        )


class WebhookCreated(WebhookOut):
    secret: str


class WebhookList(Wire):
    items: list[WebhookOut]


class SecretRotate(Wire):
    secret: Secret | None = None


class SecretOut(Wire):
    secret: str


class DeliveryOut(Wire):
    id: str
    event_id: str
    event_type: str
    status: str
    attempts: int
    next_attempt_at: datetime | None
    last_attempt_at: datetime | None
    last_status: int | None
    last_error: str | None
    delivered_at: datetime | None
    created_at: datetime

    @classmethod
    def of(cls, value: Delivery) -> DeliveryOut:
        return cls(
            id=value.id,
            event_id=value.event_id,
            event_type=value.event_type,
            status=value.status,
            attempts=value.attempts,
            next_attempt_at=value.next_attempt_at if value.status == "pending" else None,
            last_attempt_at=value.last_attempt_at,
            last_status=value.last_status,
            last_error=value.last_error,
            delivered_at=value.delivered_at,
            created_at=value.created_at,
        )


class DeliveryPage(Wire):
    items: list[DeliveryOut]
    next_before: str | None


class TestSent(Wire):
    event_id: str
