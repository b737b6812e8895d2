"""An event as it leaves Gamekeeper: to webhooks, game callbacks, NATS or SQS."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class Event:
    id: str  # UUID; the webhook-id, the NATS message id, the SQS deduplication id
    type: str  # e.g. "player.created"; declared in core.events.registry
    game_id: str | None
    aggregate_id: str  # what the event is about; SQS FIFO group id
    payload: dict[str, Any]
    occurred_at: datetime

    def envelope(self) -> dict[str, Any]:
        """The JSON body every JSON sink sends."""
        return {
            "id": self.id,
            "type": self.type,
            "gameId": self.game_id,
            "aggregateId": self.aggregate_id,
            "timestamp": self.occurred_at.isoformat().replace("+00:00", "Z"),
            "data": self.payload,
        }
