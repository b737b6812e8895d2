"""The append-only audit log of security-relevant events."""

from __future__ import annotations

from typing import Any

from gamekeeper.core.audit.store import AuditUow
from gamekeeper.core.audit.types import SYSTEM, Actor, AuditEntry
from gamekeeper.core.owners.types import Owner

__all__ = ["SYSTEM", "Actor", "AuditEntry", "list_entries", "owned_by", "record"]


async def record(
    uow: AuditUow,
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


def owned_by(owner: Owner) -> dict[str, str]:
    """``record`` keywords naming an owner: the game column for a game, details for others."""
    if owner.game_id is not None:
        return {"game_id": owner.game_id}
    return {"owner_kind": owner.kind.value, "owner_id": owner.id}


async def list_entries(uow: AuditUow, *, limit: int, before: int | None) -> list[AuditEntry]:
    """Entries newest first; ``before`` is the id of the last entry of the previous page."""
    return await uow.audit.list(limit=limit, before=before)
