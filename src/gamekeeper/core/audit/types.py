"""Audit values: who acted, and one entry of the log."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


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
