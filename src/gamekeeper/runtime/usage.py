"""Key usage, remembered in memory and written in batches off the hot path."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import structlog

from gamekeeper.db.database import Database

log = structlog.get_logger(__name__)


@dataclass
class UsageRecorder:
    """Remembers when keys were last used and writes it in batches, off the hot path."""

    pending: dict[str, datetime] = field(default_factory=dict)

    def saw(self, credential_id: str, at: datetime) -> None:
        self.pending[credential_id] = at

    async def flush(self, db: Database) -> None:
        if not self.pending:
            return
        batch, self.pending = self.pending, {}
        try:
            async with db.transaction() as uow:
                await uow.identity.touch_credentials(batch)
        except Exception:
            log.warning("could not record key usage", keys=len(batch), exc_info=True)
