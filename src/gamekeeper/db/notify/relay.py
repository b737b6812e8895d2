"""The push relay's queries: claim due deliveries under a lease, record outcomes, settle
notifications.

As in the outbox relay (``db/events/relay.py``): a claim bumps ``attempts`` and pushes
``next_attempt_at`` to the end of a lease, then commits, and the sending happens outside any
transaction; a worker that dies leaves its claims to expire and be claimed again (at-least-once,
the same delivery id each time). Outcomes are written only where ``attempts`` still equals the
claimed attempt. On PostgreSQL claims use ``FOR UPDATE SKIP LOCKED``.

A receipt check (Expo) is claimed the same way but is no attempt: its outcome gives the bump
back, and it leaves ``last_attempt_at`` at the send that got the ticket, so the relay knows how
long a receipt has been awaited.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from gamekeeper.core.notify.outcomes import gone_reason
from gamekeeper.core.notify.types import DeliveryStatus, Notification, ProviderName
from gamekeeper.db.notify.store import notification_of
from gamekeeper.db.tables.notify import notification, push_delivery, push_device


@dataclass(frozen=True, slots=True)
class PushJob:
    delivery_id: str
    attempt: int  # the attempt this claim makes; fences the outcome
    provider: ProviderName
    notification: Notification
    device_id: str | None
    game_id: str | None  # whose credentials: the device's app (None: the deployment's)
    token_sealed: str | None  # None: the device was removed or deactivated
    token_hash: str | None
    receipt: str | None = None  # for a receipt check (Expo)
    check: bool = False  # a receipt check, not a send
    last_attempt_at: datetime | None = None  # for a check: when the ticket's send was claimed


@dataclass(frozen=True, slots=True)
class PushOutcome:
    job: PushJob
    status: DeliveryStatus  # pending (retry, or handed back), sent, delivered, failed
    next_attempt_at: datetime
    at: datetime
    http_status: int | None = None
    error: str | None = None
    receipt: str | None = None
    device_gone: bool = False  # deactivate the device
    attempted: bool = True  # False: handed back unsent, its attempt not counted


def _due(status: DeliveryStatus, now: datetime, limit: int, exclude: Collection[str]) -> Any:
    due = (
        select(push_delivery.c.id)
        .where(push_delivery.c.status == status.value, push_delivery.c.next_attempt_at <= now)
        .order_by(push_delivery.c.next_attempt_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    if exclude:
        due = due.where(push_delivery.c.provider.not_in(list(exclude)))
    return due


async def claim(
    conn: AsyncConnection,
    *,
    now: datetime,
    lease: timedelta,
    limit: int,
    exclude: Collection[str] = (),
    receipts: bool = False,
) -> list[PushJob]:
    """Take up to ``limit`` due deliveries (``receipts``: sent ones whose receipt is due)."""
    status = DeliveryStatus.SENT if receipts else DeliveryStatus.PENDING
    values: dict[str, Any] = {"attempts": push_delivery.c.attempts + 1}
    values["next_attempt_at"] = now + lease
    if not receipts:  # a receipt check is no attempt: the ticket's send stays the last
        values["last_attempt_at"] = now
    claimed = (
        await conn.execute(
            update(push_delivery)
            .where(push_delivery.c.id.in_(_due(status, now, limit, exclude).scalar_subquery()))
            .values(**values)
            .returning(
                push_delivery.c.id,
                push_delivery.c.attempts,
                push_delivery.c.provider,
                push_delivery.c.notification_id,
                push_delivery.c.device_id,
                push_delivery.c.receipt,
                push_delivery.c.last_attempt_at,
            )
        )
    ).all()
    if not claimed:
        return []
    notes = await notifications(conn, {row.notification_id for row in claimed})
    devices = await _devices(conn, {row.device_id for row in claimed if row.device_id})
    jobs = []
    for row in claimed:
        device = devices.get(row.device_id) if row.device_id else None
        jobs.append(
            PushJob(
                delivery_id=row.id,
                attempt=row.attempts,
                provider=ProviderName(row.provider),
                notification=notes[row.notification_id],
                device_id=row.device_id,
                game_id=device["game_id"] if device else None,
                token_sealed=device["token_sealed"] if device and device["active"] else None,
                token_hash=device["token_hash"] if device else None,
                receipt=row.receipt,
                check=receipts,
                last_attempt_at=row.last_attempt_at,
            )
        )
    return jobs


async def notifications(conn: AsyncConnection, ids: Collection[str]) -> dict[str, Notification]:
    """The notifications of these ids, as stored now."""
    rows = await conn.execute(select(notification).where(notification.c.id.in_(list(ids))))
    return {row["id"]: notification_of(row) for row in rows.mappings()}


async def _devices(conn: AsyncConnection, ids: set[str]) -> dict[str, Any]:
    if not ids:
        return {}
    rows = await conn.execute(
        select(
            push_device.c.id,
            push_device.c.game_id,
            push_device.c.token_sealed,
            push_device.c.token_hash,
            push_device.c.active,
        ).where(push_device.c.id.in_(ids))
    )
    return {row["id"]: row for row in rows.mappings()}


_RECORD = (
    update(push_delivery)
    .where(
        push_delivery.c.id == bindparam("b_id"), push_delivery.c.attempts == bindparam("b_attempt")
    )
    .values(
        status=bindparam("b_status"),
        attempts=bindparam("b_attempts"),
        next_attempt_at=bindparam("b_next"),
        last_status=bindparam("b_http"),
        last_error=bindparam("b_error"),
        receipt=bindparam("b_receipt"),
        delivered_at=bindparam("b_delivered"),
    )
)


async def record(conn: AsyncConnection, outcomes: Sequence[PushOutcome]) -> None:
    """Write a batch of outcomes and deactivate the devices providers said are gone."""
    rows = [
        {
            "b_id": o.job.delivery_id,
            "b_attempt": o.job.attempt,
            "b_status": o.status.value,
            "b_attempts": o.job.attempt if o.attempted and not o.job.check else o.job.attempt - 1,
            "b_next": o.next_attempt_at,
            "b_http": o.http_status,
            "b_error": o.error[:200] if o.error else None,
            "b_receipt": o.receipt or o.job.receipt,
            "b_delivered": o.at if o.status is DeliveryStatus.DELIVERED else None,
        }
        for o in outcomes
    ]
    if rows:
        await conn.execute(_RECORD, rows)
    gone = {
        o.job.device_id: gone_reason(o.error) for o in outcomes if o.device_gone and o.job.device_id
    }
    for device_id, reason in gone.items():
        await conn.execute(
            update(push_device)
            .where(push_device.c.id == device_id, push_device.c.active.is_(True))
            .values(active=False, deactivated_reason=reason[:64])
        )


async def counts(
    conn: AsyncConnection, notification_ids: Collection[str]
) -> dict[str, dict[DeliveryStatus, int]]:
    """How many deliveries of each notification are in each status."""
    rows = await conn.execute(
        select(push_delivery.c.notification_id, push_delivery.c.status, func.count())
        .where(push_delivery.c.notification_id.in_(list(notification_ids)))
        .group_by(push_delivery.c.notification_id, push_delivery.c.status)
    )
    found: dict[str, dict[DeliveryStatus, int]] = defaultdict(dict)
    for notification_id, status, count in rows:
        found[notification_id][DeliveryStatus(status)] = count
    return found


async def failures(conn: AsyncConnection, notification_id: str) -> Counter[str | None]:
    """The errors of a notification's failed deliveries, with how many had each."""
    rows = await conn.execute(
        select(push_delivery.c.last_error, func.count())
        .where(
            push_delivery.c.notification_id == notification_id,
            push_delivery.c.status == DeliveryStatus.FAILED.value,
        )
        .group_by(push_delivery.c.last_error)
    )
    return Counter({error: count for error, count in rows})


_SET_STATUS = (
    update(notification)
    .where(notification.c.id == bindparam("b_id"))
    .values(
        status=bindparam("b_status"),
        reason=bindparam("b_reason"),
        sent_at=bindparam("b_sent"),
        delivered_at=bindparam("b_delivered"),
    )
)


async def set_statuses(conn: AsyncConnection, changed: Sequence[Notification]) -> None:
    """Store the new status, reason and times of these notifications, in one statement."""
    if changed:
        await conn.execute(
            _SET_STATUS,
            [
                {
                    "b_id": n.id, "b_status": n.status.value, "b_reason": n.reason,
                    "b_sent": n.sent_at, "b_delivered": n.delivered_at,
                }
                for n in changed
            ],
        )  # fmt: skip


async def queue_depth(conn: AsyncConnection) -> int:
    statement = select(func.count()).where(push_delivery.c.status == DeliveryStatus.PENDING.value)
    return int((await conn.execute(statement)).scalar_one())
