"""What event services need from storage; ``gamekeeper.db.events`` implements it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from gamekeeper.core.audit.store import AuditUow
from gamekeeper.core.events.types import Event
from gamekeeper.core.owners.types import Owner
from gamekeeper.core.uow import UnitOfWork


class WebhookFormat(StrEnum):
    STANDARD = "standard"  # JSON body, Standard Webhooks signature headers
    FORM = "form"  # Kongregate-style form callback carrying api_key


@dataclass(frozen=True, slots=True)
class Webhook:
    id: str
    owner: Owner
    url: str
    event_types: tuple[str, ...]  # empty: every event
    format: WebhookFormat
    enabled: bool
    managed: bool  # a game's callbackUrl: created, changed and removed with the game
    created_at: datetime
    updated_at: datetime
    failing_since: datetime | None = None
    disabled_reason: str | None = None


@dataclass(frozen=True, slots=True)
class Delivery:
    id: str
    event_id: str
    event_type: str
    webhook_id: str | None
    sink: str  # "webhook", or the name of an installation sink ("nats", "sqs")
    status: str  # pending | delivered | dead
    attempts: int
    next_attempt_at: datetime
    created_at: datetime
    last_attempt_at: datetime | None = None
    last_status: int | None = None
    last_error: str | None = None
    delivered_at: datetime | None = None


class EventStore(Protocol):
    @property
    def sinks(self) -> tuple[str, ...]:
        """Installation sinks every event also goes to."""
        ...

    async def add_events(self, events: Sequence[Event]) -> list[int]:
        """Store events; their sequence numbers, in the same order."""
        ...

    async def matching_webhooks(self, owner: Owner, event_type: str) -> list[str]: ...
    async def add_deliveries(
        self, targets: Sequence[tuple[int, str, str | None]], at: datetime
    ) -> None:
        """Pending deliveries, each ``(event seq, sink, webhook id or None)``."""
        ...

    async def add_webhook(self, webhook: Webhook, *, sealed_secret: str) -> None: ...
    async def get_webhook(self, webhook_id: str) -> Webhook | None: ...
    async def managed_webhook(self, game_id: str) -> Webhook | None: ...
    async def list_webhooks(self, owner: Owner) -> list[Webhook]: ...
    async def update_webhook(self, webhook: Webhook) -> None: ...
    async def delete_webhook(self, webhook_id: str) -> None: ...
    async def set_webhook_secret(self, webhook_id: str, sealed_secret: str) -> None: ...

    async def list_deliveries(
        self, webhook_id: str, *, limit: int, before: str | None
    ) -> list[Delivery]: ...
    async def get_delivery(self, delivery_id: str) -> Delivery | None: ...
    async def requeue_delivery(self, delivery_id: str, at: datetime) -> None: ...


class OutboxUow(UnitOfWork, Protocol):
    """A unit of work that records events and their deliveries."""

    @property
    def events(self) -> EventStore: ...


class WebhookUow(OutboxUow, AuditUow, Protocol):
    """Webhook management: the outbox and the audit log."""
