"""Matchmaking records as the core sees them: plain, immutable values."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

RequestState = Literal["waiting", "matched", "failed"]
FailureReason = Literal["cancelled", "noServer", "timedOut"]


@dataclass(frozen=True, slots=True)
class MatchRequest:
    id: str  # the match token
    game_id: str
    player_id: str
    team_sizes: tuple[int, ...]
    match_tag: str | None
    server_tag: str | None
    info: Any
    rating: float
    status: RequestState
    reason: FailureReason | None
    session_id: str | None
    created_at: datetime
    deadline_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class Participant:
    request_id: str
    player_id: str
    team_index: int
    mate_index: int
    info: Any


@dataclass(frozen=True, slots=True)
class MatchSession:
    id: str  # externalSessionId
    game_id: str
    team_sizes: tuple[int, ...]
    match_tag: str | None
    server_tag: str | None
    server_name: str | None
    server_info: Any
    members: tuple[Participant, ...]  # by team, then by place in the team
    created_at: datetime


@dataclass(frozen=True, slots=True)
class GameServer:
    game_id: str
    name: str
    server_tag: str | None
    info: Any
    expires_at: datetime
    session_id: str | None  # the session it hosts; free when None
    registered_at: datetime
    updated_at: datetime
