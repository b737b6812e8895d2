"""When to try a delivery again, and when to give up on an endpoint."""

from __future__ import annotations

from datetime import datetime, timedelta

# Attempt 1 goes at once; after each failure the next waits this long; after the last, dead.
RETRY_DELAYS = (
    timedelta(seconds=5),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=5),
    timedelta(hours=10),
    timedelta(hours=10),
)
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1
DISABLE_AFTER = timedelta(days=5)  # an endpoint failing this long is disabled
SUCCESS = range(200, 300)


def next_attempt(attempts: int, now: datetime) -> datetime | None:
    """After ``attempts`` failed attempts: when to try again, or None when the delivery is dead."""
    if attempts >= MAX_ATTEMPTS:
        return None
    return now + RETRY_DELAYS[attempts - 1]


def should_disable(failing_since: datetime | None, now: datetime) -> bool:
    return failing_since is not None and now - failing_since >= DISABLE_AFTER
