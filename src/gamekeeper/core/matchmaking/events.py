"""Matchmaking events: the engine's inputs (in-process) and what games are told."""

from __future__ import annotations

from dataclasses import dataclass

import msgspec

from gamekeeper.core.events.registry import EventType, Payload, register
from gamekeeper.core.matchmaking.types import GameServer, MatchRequest
from gamekeeper.core.uow import DomainEvent


@dataclass(frozen=True, slots=True)
class MatchRequestPlaced(DomainEvent):
    """A match request joined the queue: the engine leading its game must take it in."""

    request: MatchRequest


@dataclass(frozen=True, slots=True)
class MatchRequestCancelled(DomainEvent):
    game_id: str
    request_id: str


@dataclass(frozen=True, slots=True)
class GameServerChanged(DomainEvent):
    """A dedicated server registered, renewed, left (expires now) or finished its session."""

    server: GameServer


class RatedPlayer(msgspec.Struct, rename="camel", kw_only=True):
    player_id: str
    team_index: int
    rating: float | None  # conservative rating after this session; None when unrated


class SessionResult(Payload):
    session_id: str
    status: str  # finished | cancelled
    ranks: list[int] | None  # per team, 0 first; None when cancelled or unrated
    rated: bool
    decided_by: str  # server | clients | timeout (nobody reported in time)
    players: list[RatedPlayer]


class MatchFound(Payload):
    session_id: str
    teams: list[list[str]]  # player ids, team by team
    match_tag: str | None
    server_tag: str | None
    server: str | None  # the dedicated server's name; None peer to peer


class MatchFailed(Payload):
    request_id: str
    player_id: str
    reason: str  # noServer | timedOut


register(
    EventType(
        "session.result",
        SessionResult,
        "A BattlePlace session ended: its result, and the ratings it gave.",
    ),
    EventType("match.found", MatchFound, "The matchmaker formed a session."),
    EventType("match.failed", MatchFailed, "A match request failed: no server, or timed out."),
)
