"""Sends waiting, briefly, for their notification's first provider verdict in this process."""

from __future__ import annotations

import asyncio
import contextlib
from collections import defaultdict
from collections.abc import Iterable


class Waiter:
    def __init__(self, owner: Verdicts, notification_id: str, seconds: float) -> None:
        self._owner = owner
        self._id = notification_id
        self._seconds = seconds
        self.event = asyncio.Event()

    async def wait(self) -> bool:
        """Wait up to the waiter's time; True if a verdict came."""
        try:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.event.wait(), self._seconds)
            return self.event.is_set()
        finally:
            self.close()

    def close(self) -> None:
        self._owner.forget(self._id, self)


class Verdicts:
    def __init__(self) -> None:
        self._waiting: dict[str, list[Waiter]] = defaultdict(list)

    def expect(self, notification_id: str, seconds: float) -> Waiter:
        """Register before the send commits, so a verdict that comes at once is not missed."""
        waiter = Waiter(self, notification_id, seconds)
        self._waiting[notification_id].append(waiter)
        return waiter

    def forget(self, notification_id: str, waiter: Waiter) -> None:
        waiting = self._waiting.get(notification_id)
        if waiting is not None:
            with contextlib.suppress(ValueError):
                waiting.remove(waiter)
            if not waiting:
                del self._waiting[notification_id]

    def settled(self, notification_ids: Iterable[str]) -> None:
        """Verdicts for these notifications are stored: wake their waiting sends."""
        for notification_id in notification_ids:
            for waiter in self._waiting.get(notification_id, ()):
                waiter.event.set()
