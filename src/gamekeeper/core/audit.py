"""The append-only audit log of security-relevant events."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gamekeeper.core.uow import UnitOfWork


@dataclass(frozen=True, slots=True)
class Actor:
    """Who caused an event: admin, key, developer, player, anonymous or system."""

    kind: str
    id: str | None = None
    ip: str | None = None

    @property
    def label(self) -> str:
        return f"{self.kind}:{self.id}" if self.id else self.kind


SYSTEM = Actor("system")


@dataclass(frozen=True, slots=True)
class AuditEntry:
    action: str
    actor: str
    at: datetime
    ip: str | None = None
    target_type: str | None = None
    target_id: str | None = None
    game_id: str | None = None
    details: dict[str, Any] = field(default_factory=dict)
    id: int | None = None


async def record(
    uow: UnitOfWork,
    action: str,
    *,
    actor: Actor,
    target_type: str | None = None,
    target_id: str | None = None,
    game_id: str | None = None,
    **details: Any,
) -> None:
    """Append an audit entry in the caller's transaction."""
    entry = AuditEntry(
        action=action,
        actor=actor.label,
        ip=actor.ip,
        at=uow.now(),
        target_type=target_type,
        target_id=target_id,
        game_id=game_id,
        details=details,
    )
    await uow.audit.append(entry)


async def list_entries(uow: UnitOfWork, *, limit: int, before: int | None) -> list[AuditEntry]:
    """Entries newest first; ``before`` is the id of the last entry of the previous page."""
    return await uow.audit.list(limit=limit, before=before)
