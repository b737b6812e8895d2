"""The values the matchmaking engine takes and gives; see ``engine`` for the rules."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

PoolKey = tuple[str, tuple[int, ...], str | None, str | None]
"""project_id, team_sizes, match_tag, server_tag: requests match only within one pool."""

FailureReason = Literal["timedOut", "noServer"]


@dataclass(frozen=True, slots=True)
class QueuedRequest:
    """One waiting match request, as the engine sees it."""

    id: str
    project_id: str
    team_sizes: tuple[int, ...]
    match_tag: str | None
    server_tag: str | None
    rating: float  # skill estimate (OpenSkill mu scale, default 25.0)
    enqueued_at: float  # seconds, caller's clock (epoch seconds)
    deadline: float  # enqueued_at + maxMatchTime

    @property
    def pool(self) -> PoolKey:
        return (self.project_id, self.team_sizes, self.match_tag, self.server_tag)


@dataclass(frozen=True, slots=True)
class ServerSlot:
    """A dedicated server's offer to host sessions until ``expires_at``."""

    project_id: str
    name: str
    server_tag: str | None
    expires_at: float


@dataclass(frozen=True, slots=True)
class Match:
    """A session formed by one tick: teams in the order and sizes of the pool's team sizes."""

    pool: PoolKey
    teams: tuple[tuple[QueuedRequest, ...], ...]
    server: str | None  # server name, or None peer-to-peer


@dataclass(frozen=True, slots=True)
class Failure:
    """A request that reached its deadline unmatched."""

    request: QueuedRequest
    reason: FailureReason


@dataclass(frozen=True, slots=True)
class TickOutcome:
    matches: list[Match]
    failures: list[Failure]


@dataclass(frozen=True, slots=True)
class EngineConfig:
    """Tuning knobs; ratings are on the OpenSkill mu scale (25 ± 8.3 for a new player).

    A request accepts partners whose rating is within ``base_gap`` of its own, plus
    ``widen_per_second`` for each second it has waited; from ``open_before_deadline`` seconds
    before its deadline (never less than ``tick_interval``, how often the caller ticks) it
    accepts anyone, so that it is matched rather than failed whenever its pool holds enough
    players at the last tick before its deadline.
    """

    base_gap: float = 2.0
    widen_per_second: float = 0.5
    tick_interval: float = 0.1
    open_before_deadline: float = 1.0
    open_lead: float = field(init=False, repr=False)
    """Seconds before its deadline from which a request accepts any rating."""

    def __post_init__(self) -> None:
        for name in ("base_gap", "widen_per_second", "tick_interval", "open_before_deadline"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value >= 0):
                raise ValueError(f"EngineConfig.{name} must be a finite number >= 0, not {value}")
        object.__setattr__(self, "open_lead", max(self.open_before_deadline, self.tick_interval))

    def allowed_gap(self, request: QueuedRequest, now: float) -> float:
        """The largest rating difference ``request`` accepts in a partner at ``now``."""
        if now >= request.deadline - self.open_lead:
            return math.inf
        if now <= request.enqueued_at:
            return self.base_gap
        return self.base_gap + self.widen_per_second * (now - request.enqueued_at)

    def gap_reached_at(self, request: QueuedRequest, gap: float) -> float:
        """The earliest time at which ``request`` accepts a partner ``gap`` away."""
        opens = request.deadline - self.open_lead
        if gap <= self.base_gap:
            return min(request.enqueued_at, opens)
        if self.widen_per_second <= 0:
            return opens
        return min(request.enqueued_at + (gap - self.base_gap) / self.widen_per_second, opens)
