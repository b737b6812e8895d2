"""The relay's queries: claim due deliveries under a lease, load them, record outcomes.

A claim bumps ``attempts`` and pushes ``next_attempt_at`` to the end of a lease, then commits:
the sending happens outside any transaction. A worker that dies leaves its claims to expire and
be claimed again (at-least-once). Outcomes are written only where ``attempts`` still equals the
claimed attempt, so a worker that outlived its lease cannot overwrite a newer attempt. On
PostgreSQL the claim uses ``FOR UPDATE SKIP LOCKED``: concurrent workers never take the same row.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, func, or_, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection

from gamekeeper.core.events.store import WebhookFormat
from gamekeeper.core.events.types import Event
from gamekeeper.core.owners.types import Owner
from gamekeeper.db.events.store import enabled_or_sink
from gamekeeper.db.owners import owner_columns_of, owner_of
from gamekeeper.db.tables.events import delivery, event, webhook


@dataclass(frozen=True, slots=True)
class Target:
    id: str
    owner: Owner
    url: str
    format: WebhookFormat
    sealed_secret: str


@dataclass(frozen=True, slots=True)
class Job:
    delivery_id: str
    attempt: int  # the attempt this claim makes; fences the outcome
    sink: str
    event: Event
    webhook: Target | None


@dataclass(frozen=True, slots=True)
class Outcome:
    job: Job
    status: str  # delivered | pending (retry or postponed) | dead
    next_attempt_at: datetime
    at: datetime
    http_status: int | None = None
    error: str | None = None
    attempted: bool = True  # False: handed back unsent (open circuit, lease running out)


async def claim(
    conn: AsyncConnection,
    *,
    now: datetime,
    lease: timedelta,
    limit: int,
    exclude: Collection[str] = (),
) -> list[Job]:
    """Take up to ``limit`` due deliveries, skipping the webhooks in ``exclude``."""
    due = (
        select(delivery.c.id)
        .where(delivery.c.status == "pending", delivery.c.next_attempt_at <= now, enabled_or_sink())
        .order_by(delivery.c.next_attempt_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    if exclude:
        due = due.where(
            or_(delivery.c.webhook_id.is_(None), delivery.c.webhook_id.not_in(list(exclude)))
        )
    claimed = (
        await conn.execute(
            update(delivery)
            .where(delivery.c.id.in_(due.scalar_subquery()))
            .values(
                attempts=delivery.c.attempts + 1, next_attempt_at=now + lease, last_attempt_at=now
            )
            .returning(
                delivery.c.id,
                delivery.c.attempts,
                delivery.c.sink,
                delivery.c.webhook_id,
                delivery.c.event_seq,
            )
        )
    ).all()
    if not claimed:
        return []
    events = await _events(conn, {row.event_seq for row in claimed})
    targets = await _targets(conn, {row.webhook_id for row in claimed if row.webhook_id})
    return [
        Job(
            delivery_id=row.id,
            attempt=row.attempts,
            sink=row.sink,
            event=events[row.event_seq],
            webhook=targets.get(row.webhook_id) if row.webhook_id else None,
        )
        for row in claimed
    ]


async def _events(conn: AsyncConnection, seqs: set[int]) -> dict[int, Event]:
    rows = await conn.execute(select(event).where(event.c.seq.in_(seqs)))
    return {
        row.seq: Event(
            id=row.id,
            type=row.type,
            owner=owner_of(row._mapping),
            aggregate_id=row.aggregate_id,
            payload=row.payload,
            occurred_at=row.occurred_at,
        )
        for row in rows
    }


async def _targets(conn: AsyncConnection, ids: set[str]) -> dict[str, Target]:
    if not ids:
        return {}
    rows = await conn.execute(
        select(
            webhook.c.id,
            *owner_columns_of(webhook),
            webhook.c.url,
            webhook.c.format,
            webhook.c.secret_sealed,
        ).where(webhook.c.id.in_(ids))
    )
    return {row.id: _target(row._mapping) for row in rows}


def _target(row: RowMapping) -> Target:
    owner = owner_of(row)
    assert owner is not None  # the table's check constraint: exactly one owner
    return Target(row["id"], owner, row["url"], WebhookFormat(row["format"]), row["secret_sealed"])


_RECORD = (
    update(delivery)
    .where(delivery.c.id == bindparam("b_id"), delivery.c.attempts == bindparam("b_attempt"))
    .values(
        status=bindparam("b_status"),
        attempts=bindparam("b_attempts"),
        next_attempt_at=bindparam("b_next"),
        last_status=bindparam("b_http"),
        last_error=bindparam("b_error"),
        delivered_at=bindparam("b_delivered"),
    )
)


# A delivery handed back unsent: its attempt is not counted and its last answer stays.
_GIVE_BACK = (
    update(delivery)
    .where(delivery.c.id == bindparam("b_id"), delivery.c.attempts == bindparam("b_attempt"))
    .values(attempts=bindparam("b_attempts"), next_attempt_at=bindparam("b_next"))
)


async def record(conn: AsyncConnection, outcomes: list[Outcome]) -> None:
    """Write a batch of outcomes and the failing/healthy state of their webhooks."""
    rows: list[dict[str, Any]] = [
        {
            "b_id": o.job.delivery_id,
            "b_attempt": o.job.attempt,
            "b_status": o.status,
            "b_attempts": o.job.attempt,
            "b_next": o.next_attempt_at,
            "b_http": o.http_status,
            "b_error": o.error[:1000] if o.error else None,
            "b_delivered": o.at if o.status == "delivered" else None,
        }
        for o in outcomes
        if o.attempted
    ]
    returned: list[dict[str, Any]] = [
        {
            "b_id": o.job.delivery_id,
            "b_attempt": o.job.attempt,
            "b_attempts": o.job.attempt - 1,
            "b_next": o.next_attempt_at,
        }
        for o in outcomes
        if not o.attempted
    ]
    if rows:
        await conn.execute(_RECORD, rows)
    if returned:
        await conn.execute(_GIVE_BACK, returned)
    healthy = {o.job.webhook.id for o in outcomes if o.job.webhook and o.status == "delivered"}
    failing = {
        o.job.webhook.id: o.at
        for o in outcomes
        if o.job.webhook and o.attempted and o.status != "delivered"
    }
    if healthy:
        await conn.execute(
            update(webhook)
            .where(webhook.c.id.in_(healthy), webhook.c.failing_since.is_not(None))
            .values(failing_since=None)
        )
    for webhook_id, at in failing.items():
        await conn.execute(
            update(webhook)
            .where(webhook.c.id == webhook_id, webhook.c.failing_since.is_(None))
            .values(failing_since=at)
        )


async def disable_failing(
    conn: AsyncConnection, *, ids: Collection[str], since: datetime
) -> list[tuple[str, Owner]]:
    """Disable those webhooks failing since before ``since``; returns (webhook, owner) pairs."""
    if not ids:
        return []
    result = await conn.execute(
        update(webhook)
        .where(
            webhook.c.id.in_(list(ids)),
            webhook.c.enabled.is_(True),
            webhook.c.failing_since <= since,
        )
        .values(enabled=False, disabled_reason="failing")
        .returning(webhook.c.id, *owner_columns_of(webhook))
    )
    return [(row.id, owner) for row in result if (owner := owner_of(row._mapping)) is not None]


async def oldest_pending(conn: AsyncConnection) -> datetime | None:
    """When the oldest undelivered delivery was recorded (for the lag metric)."""
    statement = select(func.min(delivery.c.created_at)).where(
        delivery.c.status == "pending", enabled_or_sink()
    )
    # min() keeps the column's UTCDateTime type, so the value comes back aware.
    value: datetime | None = (await conn.execute(statement)).scalar()
    return value
