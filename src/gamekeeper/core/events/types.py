"""An event as it leaves Gamekeeper: to webhooks, game callbacks, NATS or SQS."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from gamekeeper.core.owners.types import Owner, OwnerKind

# The envelope names the owner by its kind: ``gameId`` (always present), ``operatorId`` or
# ``platformId`` (only for those owners).
_ENVELOPE_KEYS = {OwnerKind.OPERATOR: "operatorId", OwnerKind.PLATFORM: "platformId"}


@dataclass(frozen=True, slots=True)
class Event:
    id: str  # UUID; the webhook-id, the NATS message id, the SQS deduplication id
    type: str  # e.g. "player.created"; declared in core.events.registry
    owner: Owner | None  # None: an installation-wide event, for sinks only
    aggregate_id: str  # what the event is about; SQS FIFO group id
    payload: dict[str, Any]
    occurred_at: datetime

    @property
    def game_id(self) -> str | None:
        return None if self.owner is None else self.owner.game_id

    def envelope(self) -> dict[str, Any]:
        """The JSON body every JSON sink sends."""
        body: dict[str, Any] = {"id": self.id, "type": self.type, "gameId": self.game_id}
        if self.owner is not None and self.owner.kind in _ENVELOPE_KEYS:
            body[_ENVELOPE_KEYS[self.owner.kind]] = self.owner.id
        body |= {
            "aggregateId": self.aggregate_id,
            "timestamp": self.occurred_at.isoformat().replace("+00:00", "Z"),
            "data": self.payload,
        }
        return body
