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


CONSERVATIVE_K = 3.0
"""Deviations below the mean for the public rating: 99.7 % sure the skill is at least that."""


@dataclass(frozen=True, slots=True)
class SkillRating:
    game_id: str
    player_id: str
    mu: float
    sigma: float
    matches: int = 0  # rated sessions played
    updated_at: datetime | None = None  # None: never rated

    @property
    def conservative(self) -> float:
        return self.mu - CONSERVATIVE_K * self.sigma


@dataclass(frozen=True, slots=True)
class PlayerStats:
    rating: float  # conservative
    rank: int | None  # 1 + players of the project rated strictly higher; None if never rated


ReportStatus = Literal["finished", "cancelled"]


SessionStatus = Literal["open", "finished", "cancelled"]


@dataclass(frozen=True, slots=True)
class Report:
    status: ReportStatus
    ranks: tuple[int, ...] | None  # dense; None for a cancelled report without ranks

    def agrees_with(self, other: Report) -> bool:
        if self.status == "cancelled" or other.status == "cancelled":
            return self.status == other.status
        return self.ranks == other.ranks


@dataclass(frozen=True, slots=True)
class Member:
    request_id: str
    player_id: str
    team_index: int


@dataclass(frozen=True, slots=True)
class OpenSession:
    """A session as results see it, read under lock."""

    id: str
    game_id: str
    team_count: int
    server_name: str | None
    status: SessionStatus
    members: tuple[Member, ...]


@dataclass(frozen=True, slots=True)
class Outcome:
    status: Literal["finished", "cancelled"]
    ranks: tuple[int, ...] | None
    decided_by: Literal["server", "clients", "timeout"]
