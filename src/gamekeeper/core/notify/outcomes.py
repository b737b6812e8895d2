"""What a notification's status is, given its deliveries: the one rule the push relay applies.

- any delivery delivered → ``delivered`` (kept once reached; ``read`` stays ``read``);
- else any sent (waiting for a receipt) → ``sent``;
- else any still pending → ``queued``;
- else every delivery failed → ``failed``, with the reason most of them failed for.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta

from gamekeeper.core.notify.types import DeliveryStatus, NotificationStatus

KEPT = frozenset({NotificationStatus.DELIVERED, NotificationStatus.READ})
GONE = "device_gone"


def gone(reason: str | None) -> str:
    """The error of a delivery whose device the provider says is gone: ``device_gone: why``."""
    return f"{GONE}: {reason}" if reason else GONE


def gone_reason(error: str | None) -> str:
    """Why a device is gone, from its delivery's error (what the device row keeps)."""
    return (error or GONE).removeprefix(f"{GONE}: ")


def kind(error: str | None) -> str:
    """A failed delivery's error in a word: device_gone, or the provider's code."""
    return (error or "failed").split(":")[0].strip()[:64]


def settle(
    current: NotificationStatus,
    counts: Mapping[DeliveryStatus, int],
    failures: Iterable[str] = (),
) -> tuple[NotificationStatus, str | None]:
    """The notification's status and failure reason after its deliveries changed."""
    if current in KEPT:
        return current, None
    if counts.get(DeliveryStatus.DELIVERED):
        return NotificationStatus.DELIVERED, None
    if counts.get(DeliveryStatus.SENT):
        return NotificationStatus.SENT, None
    if counts.get(DeliveryStatus.PENDING):
        return NotificationStatus.QUEUED, None
    reasons = Counter(failures)
    return NotificationStatus.FAILED, reasons.most_common(1)[0][0] if reasons else "failed"


# A push is worth little late: after each failed attempt the next waits this long, then give up.
RETRY_DELAYS = (
    timedelta(seconds=5),
    timedelta(seconds=30),
    timedelta(minutes=2),
    timedelta(minutes=10),
    timedelta(minutes=30),
    timedelta(hours=1),
)
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1
MAX_RETRY_AFTER = timedelta(hours=1)


def retry_at(
    attempts: int, now: datetime, *, retry_after: float | None, expires_at: datetime | None
) -> datetime | None:
    """After ``attempts`` failed attempts: when to try again (the provider's ``Retry-After``
    if later, bounded), or None to give up (out of attempts, or past the notification's TTL)."""
    if attempts >= MAX_ATTEMPTS:
        return None
    due = now + RETRY_DELAYS[attempts - 1]
    if retry_after is not None:
        due = max(due, now + min(timedelta(seconds=max(0.0, retry_after)), MAX_RETRY_AFTER))
    if expires_at is not None and due > expires_at:
        return None
    return due
