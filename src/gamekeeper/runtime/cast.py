"""TV casting in a running process: the live-connection hub and the expiry loop.

The hub (``infra/live.py``) holds the receivers and controllers connected to this process and
hears the committed cast events. The expiry loop (``Loop.CAST``, in every ``serve`` and
``worker``) idles and ends sessions without activity every ``cast_expire_every`` seconds; the
processes share that work through the database (each session ends once), and a session ended
anywhere closes its sockets everywhere through the hub.
"""

from __future__ import annotations

import asyncio
import contextlib

import structlog

from gamekeeper.core.cast import sessions
from gamekeeper.core.clock import Clock
from gamekeeper.db.database import Database
from gamekeeper.infra.live import LiveHub
from gamekeeper.infra.metrics import Metrics
from gamekeeper.infra.pubsub import PubSub
from gamekeeper.settings import Settings

log = structlog.get_logger(__name__)


class Cast:
    def __init__(
        self, settings: Settings, db: Database, *, pubsub: PubSub, metrics: Metrics, clock: Clock
    ) -> None:
        self.settings = settings
        self.db = db
        self.hub = LiveHub(db, pubsub, metrics=metrics, clock=clock)
        self._expiry: asyncio.Task[None] | None = None

    def start(self, *, expiry: bool) -> None:
        if expiry:
            self._expiry = asyncio.create_task(self._expire_forever(), name="cast-expiry")

    async def stop(self) -> None:
        if self._expiry is not None:
            self._expiry.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._expiry
            self._expiry = None
        await self.hub.stop()

    async def expire(self) -> int:
        """Idle and end the sessions without activity; how many ended."""
        async with self.db.transaction() as uow:
            return await sessions.expire(
                uow,
                idle_after=self.settings.cast_idle_after,
                end_after=self.settings.cast_end_after,
            )

    async def _expire_forever(self) -> None:
        while True:
            await asyncio.sleep(self.settings.cast_expire_every)
            try:
                ended = await self.expire()
            except Exception:  # the database is away: next time
                log.warning("cast.expiry_failed", exc_info=True)
            else:
                if ended:
                    log.info("cast.sessions_expired", ended=ended)
