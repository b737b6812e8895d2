"""What the audit log needs from storage; ``gamekeeper.db.audit`` implements it."""

from __future__ import annotations

from typing import Protocol

from gamekeeper.core.audit.types import AuditEntry
from gamekeeper.core.uow import UnitOfWork


class AuditStore(Protocol):
    async def append(self, entry: AuditEntry) -> None: ...

    async def list(self, *, limit: int, before: int | None) -> list[AuditEntry]: ...


class AuditUow(UnitOfWork, Protocol):
    @property
    def audit(self) -> AuditStore: ...
