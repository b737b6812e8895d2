"""Cast events: domain events that reach the live receivers, and what games hear."""

from __future__ import annotations

from dataclasses import dataclass

from gamekeeper.core.events.registry import EventType, Payload, register
from gamekeeper.core.uow import DomainEvent


@dataclass(frozen=True, slots=True)
class CastInputRecorded(DomainEvent):
    """An input was stored: hand it to the session's receiver, wherever it is attached."""

    session_id: str
    seq: int


@dataclass(frozen=True, slots=True)
class CastSessionEnded(DomainEvent):
    """A session ended: close its receiver and controllers."""

    session_id: str


@dataclass(frozen=True, slots=True)
class CastControllerSeated(DomainEvent):
    """A player joined a session and took a seat: show it to the session's receiver."""

    session_id: str
    seat: int


class CastSessionStarted(Payload):
    session_id: str


class CastSessionFinished(Payload):
    session_id: str
    reason: str  # ended (by the game) | idle


class CastControllerJoined(Payload):
    session_id: str
    seat: int
    ogs_user_id: str


register(
    EventType(
        "cast.session.started",
        CastSessionStarted,
        "A cast session became active: its receiver attached or the first input arrived.",
    ),
    EventType(
        "cast.session.ended", CastSessionFinished, "A cast session ended (by the game, or idle)."
    ),
    EventType("cast.controller.joined", CastControllerJoined, "A player joined a cast session."),
)
