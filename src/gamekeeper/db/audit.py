"""The audit store in SQL: insert and read, never update."""

from __future__ import annotations

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from gamekeeper.core.audit import AuditEntry
from gamekeeper.db.tables.audit import audit_entry


class SqlAuditStore:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def append(self, entry: AuditEntry) -> None:
        await self._conn.execute(
            insert(audit_entry).values(
                at=entry.at,
                action=entry.action,
                actor=entry.actor,
                ip=entry.ip,
                target_type=entry.target_type,
                target_id=entry.target_id,
                game_id=entry.game_id,
                details=entry.details,
            )
        )

    async def list(self, *, limit: int, before: int | None) -> list[AuditEntry]:
        statement = select(audit_entry).order_by(audit_entry.c.id.desc()).limit(limit)
        if before is not None:
            statement = statement.where(audit_entry.c.id < before)
        return [AuditEntry(**row) for row in (await self._conn.execute(statement)).mappings()]
