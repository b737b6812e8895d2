"""Key usage, remembered in memory and written in batches off the hot path.

A key's uses are written every ``every`` seconds, except its first use in this process, which
wakes the writer at once: a key that was used never reads "last used: -" (a listing right after
the first call shows it), and later times are at most ``every`` seconds behind.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from datetime import datetime

import structlog

from gamekeeper.db.database import Database

log = structlog.get_logger(__name__)

# Keys this process remembers having written: past this many it starts afresh (a few more
# prompt writes, never a missed one).
_WRITTEN_MAX = 100_000


@dataclass
class UsageRecorder:
    """Remembers when keys were last used and writes it in batches, off the hot path."""

    pending: dict[str, datetime] = field(default_factory=dict)
    _written: set[str] = field(default_factory=set)
    _first_use: asyncio.Event = field(default_factory=asyncio.Event)

    def saw(self, credential_id: str, at: datetime) -> None:
        self.pending[credential_id] = at
        if credential_id not in self._written:
            self._first_use.set()

    async def flush(self, db: Database) -> None:
        if not self.pending:
            return
        batch, self.pending = self.pending, {}
        try:
            async with db.transaction() as uow:
                await uow.identity.touch_credentials(batch)
        except Exception:
            log.warning("could not record key usage", keys=len(batch), exc_info=True)
            return
        if len(self._written) + len(batch) > _WRITTEN_MAX:
            self._written.clear()
        self._written.update(batch)

    async def run(self, db: Database, *, every: float) -> None:
        """Write every ``every`` seconds, and at once after a key's first use; until cancelled."""
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._first_use.wait(), timeout=every)
            self._first_use.clear()
            await self.flush(db)
