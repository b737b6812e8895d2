"""The event store in SQL: the outbox, webhooks and deliveries."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, or_, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection

from gamekeeper.core.events.store import Delivery, Webhook, WebhookFormat
from gamekeeper.core.events.types import Event
from gamekeeper.core.owners.types import Owner
from gamekeeper.db.owners import owned_by, owner_of, owner_values, without_owner_columns
from gamekeeper.db.tables.events import delivery, event, webhook

_WEBHOOK_COLUMNS = [c for c in webhook.c if c.name != "secret_sealed"]
DELIVERY_COLUMNS = [
    *(c for c in delivery.c if c.name != "event_seq"),
    event.c.id.label("event_id"),
    event.c.type.label("event_type"),
]


def _webhook(row: RowMapping) -> Webhook:
    owner = owner_of(row)
    assert owner is not None  # the table's check constraint: exactly one owner
    fields = without_owner_columns(row)
    fields |= {
        "owner": owner,
        "event_types": tuple(row["event_types"]),
        "format": WebhookFormat(row["format"]),
    }
    return Webhook(**fields)


def delivery_of(row: RowMapping) -> Delivery:
    return Delivery(**{k: row[k] for k in Delivery.__dataclass_fields__})


class SqlEventStore:
    def __init__(self, conn: AsyncConnection, sinks: tuple[str, ...] = ()) -> None:
        self._conn = conn
        self.sinks = sinks

    async def add_events(self, events: Sequence[Event]) -> list[int]:
        rows = [
            {
                "id": value.id,
                "type": value.type,
                **owner_values(value.owner),
                "aggregate_id": value.aggregate_id,
                "payload": value.payload,
                "occurred_at": value.occurred_at,
            }
            for value in events
        ]
        # Matched by id rather than by order: asking for rows in parameter order makes
        # SQLAlchemy insert one row per statement on SQLite.
        statement = insert(event).returning(event.c.id, event.c.seq)
        seqs = {row.id: int(row.seq) for row in await self._conn.execute(statement, rows)}
        return [seqs[value.id] for value in events]

    async def matching_webhooks(self, owner: Owner, event_type: str) -> list[str]:
        rows = await self._conn.execute(
            select(webhook.c.id, webhook.c.event_types).where(owned_by(webhook, owner))
        )
        # Disabled webhooks still collect deliveries: re-enabling one resumes where it stopped.
        return [row.id for row in rows if not row.event_types or event_type in row.event_types]

    async def add_deliveries(
        self, targets: Sequence[tuple[int, str, str | None]], at: datetime
    ) -> None:
        rows: list[dict[str, Any]] = [
            {
                "id": str(uuid.uuid4()),
                "event_seq": event_seq,
                "webhook_id": webhook_id,
                "sink": sink,
                "status": "pending",
                "attempts": 0,
                "next_attempt_at": at,
                "created_at": at,
            }
            for event_seq, sink, webhook_id in targets
        ]
        await self._conn.execute(insert(delivery), rows)

    async def add_webhook(self, value: Webhook, *, sealed_secret: str) -> None:
        await self._conn.execute(
            insert(webhook).values(**_webhook_values(value), secret_sealed=sealed_secret)
        )

    async def get_webhook(self, webhook_id: str) -> Webhook | None:
        row = (
            (await self._conn.execute(select(*_WEBHOOK_COLUMNS).where(webhook.c.id == webhook_id)))
            .mappings()
            .first()
        )
        return None if row is None else _webhook(row)

    async def managed_webhook(self, game_id: str) -> Webhook | None:
        statement = select(*_WEBHOOK_COLUMNS).where(
            webhook.c.game_id == game_id, webhook.c.managed.is_(True)
        )
        row = (await self._conn.execute(statement)).mappings().first()
        return None if row is None else _webhook(row)

    async def list_webhooks(self, owner: Owner) -> list[Webhook]:
        statement = (
            select(*_WEBHOOK_COLUMNS)
            .where(owned_by(webhook, owner))
            .order_by(webhook.c.created_at, webhook.c.id)
        )
        return [_webhook(row) for row in (await self._conn.execute(statement)).mappings()]

    async def update_webhook(self, value: Webhook) -> None:
        values = _webhook_values(value)
        del values["id"], values["created_at"]
        await self._conn.execute(update(webhook).where(webhook.c.id == value.id).values(**values))

    async def delete_webhook(self, webhook_id: str) -> None:
        await self._conn.execute(delete(delivery).where(delivery.c.webhook_id == webhook_id))
        await self._conn.execute(delete(webhook).where(webhook.c.id == webhook_id))

    async def set_webhook_secret(self, webhook_id: str, sealed_secret: str) -> None:
        await self._conn.execute(
            update(webhook).where(webhook.c.id == webhook_id).values(secret_sealed=sealed_secret)
        )

    async def list_deliveries(
        self, webhook_id: str, *, limit: int, before: str | None
    ) -> list[Delivery]:
        statement = (
            select(*DELIVERY_COLUMNS)
            .join(event, event.c.seq == delivery.c.event_seq)
            .where(delivery.c.webhook_id == webhook_id)
            .order_by(delivery.c.event_seq.desc(), delivery.c.id)
            .limit(limit)
        )
        if before is not None:
            anchor = select(delivery.c.event_seq).where(delivery.c.id == before).scalar_subquery()
            statement = statement.where(delivery.c.event_seq < anchor)
        return [delivery_of(row) for row in (await self._conn.execute(statement)).mappings()]

    async def get_delivery(self, delivery_id: str) -> Delivery | None:
        statement = (
            select(*DELIVERY_COLUMNS)
            .join(event, event.c.seq == delivery.c.event_seq)
            .where(delivery.c.id == delivery_id)
        )
        row = (await self._conn.execute(statement)).mappings().first()
        return None if row is None else delivery_of(row)

    async def requeue_delivery(self, delivery_id: str, at: datetime) -> None:
        await self._conn.execute(
            update(delivery)
            .where(delivery.c.id == delivery_id)
            .values(status="pending", attempts=0, next_attempt_at=at, delivered_at=None)
        )


def _webhook_values(value: Webhook) -> dict[str, Any]:
    return {
        "id": value.id,
        **owner_values(value.owner),
        "url": value.url,
        "event_types": list(value.event_types),
        "format": value.format.value,
        "enabled": value.enabled,
        "managed": value.managed,
        "failing_since": value.failing_since,
        "disabled_reason": value.disabled_reason,
        "created_at": value.created_at,
        "updated_at": value.updated_at,
    }


def enabled_or_sink() -> Any:
    """Deliveries the relay may take: to an installation sink or to an enabled webhook."""
    enabled = select(webhook.c.id).where(webhook.c.enabled.is_(True))
    return or_(delivery.c.webhook_id.is_(None), delivery.c.webhook_id.in_(enabled))
