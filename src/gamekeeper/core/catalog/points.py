"""Points a game's server awards its players, held to the caps the game's listing promises.

Each entry of a batch is one game session. Per player, per game and per UTC day:

- ``max_score_per_session`` clips an entry's points;
- ``max_sessions_per_day`` rejects sessions past it (they award 0 and are not recorded);
- ``max_cumulative_points_per_day`` clips an entry to what the day has left.

A cap of ``None`` is no cap. The caps are checked against the player's tally read under a
lock (``PointsStore.lock_tallies``) and the sessions recorded in the same transaction, so
concurrent batches for one player cannot exceed them together.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Protocol

from gamekeeper.core.catalog.listings import owned_game
from gamekeeper.core.catalog.types import Listing

if TYPE_CHECKING:
    from gamekeeper.core.uow import UnitOfWork

MAX_BATCH = 1000


class Cap(StrEnum):
    """The cap that clipped an entry, as the OGP reports it."""

    SCORE_PER_SESSION = "maxScorePerSession"
    SESSIONS_PER_DAY = "maxSessionsPerDay"
    POINTS_PER_DAY = "maxCumulativePointsPerDay"


@dataclass(frozen=True, slots=True)
class Caps:
    score_per_session: int | None = None
    sessions_per_day: int | None = None
    points_per_day: int | None = None

    @classmethod
    def of(cls, listing: Listing) -> Caps:
        return cls(
            listing.max_score_per_session,
            listing.max_sessions_per_day,
            listing.max_cumulative_points_per_day,
        )


@dataclass(frozen=True, slots=True)
class Tally:
    """A player's points in one game: all time, and on ``day`` (their last day of play)."""

    player_id: str
    points: int = 0
    sessions: int = 0
    day: date | None = None
    day_points: int = 0
    day_sessions: int = 0

    def on(self, today: date) -> Tally:
        """The tally as of ``today``: a new day starts with nothing played."""
        if self.day == today:
            return self
        return replace(self, day=today, day_points=0, day_sessions=0)


@dataclass(frozen=True, slots=True)
class Award:
    """What became of one entry of a batch."""

    player_id: str
    requested: int
    awarded: int
    reason: Cap | None = None
    recorded: bool = True  # False when the session was refused (maxSessionsPerDay)

    @property
    def clipped(self) -> bool:
        return self.awarded < self.requested


@dataclass(frozen=True, slots=True)
class PointSession:
    game_id: str
    player_id: str
    points_requested: int
    points_awarded: int
    day: date
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Ranked:
    rank: int
    player_id: str
    points: int


class PointsStore(Protocol):
    async def lock_tallies(self, game_id: str, player_ids: Sequence[str]) -> dict[str, Tally]:
        """Each player's tally, locked until the transaction ends (created at zero if new)."""
        ...

    async def record(
        self, game_id: str, sessions: Sequence[PointSession], tallies: Sequence[Tally]
    ) -> None:
        """Insert the sessions and store the tallies that account for them."""
        ...

    async def tally(self, game_id: str, player_id: str) -> Tally | None: ...
    async def ranking(self, game_id: str, *, limit: int, offset: int) -> tuple[list[Ranked], int]:
        """Players by points, most first, ties by player id; and how many players there are."""
        ...


def award(caps: Caps, tally: Tally, requested: int) -> tuple[Award, Tally]:
    """Apply the caps to one session of ``requested`` points; return it and the new tally."""
    player = tally.player_id
    if caps.sessions_per_day is not None and tally.day_sessions >= caps.sessions_per_day:
        return Award(player, requested, 0, Cap.SESSIONS_PER_DAY, recorded=False), tally
    points, reason = requested, None
    if caps.score_per_session is not None and points > caps.score_per_session:
        points, reason = caps.score_per_session, Cap.SCORE_PER_SESSION
    if caps.points_per_day is not None:
        left = max(0, caps.points_per_day - tally.day_points)
        if points > left:
            points, reason = left, Cap.POINTS_PER_DAY
    after = replace(
        tally,
        points=tally.points + points,
        sessions=tally.sessions + 1,
        day_points=tally.day_points + points,
        day_sessions=tally.day_sessions + 1,
    )
    return Award(player, requested, points, reason), after


async def save_points(
    uow: UnitOfWork, *, game_id: str, developer_id: str, entries: Sequence[tuple[str, int]]
) -> list[Award]:
    """Record a batch of (player id, points) sessions of the developer's game, capped."""
    game = await owned_game(uow, game_id=game_id, developer_id=developer_id)
    caps, now = Caps.of(game.listing), uow.now()
    today = now.date()
    before = await uow.points.lock_tallies(game_id, sorted({player for player, _ in entries}))
    tallies = {player: found.on(today) for player, found in before.items()}
    awards, sessions = [], []
    for player, requested in entries:
        result, tallies[player] = award(caps, tallies[player], requested)
        awards.append(result)
        if result.recorded:
            sessions.append(PointSession(game_id, player, requested, result.awarded, today, now))
    changed = [tally for player, tally in tallies.items() if tally != before[player]]
    await uow.points.record(game_id, sessions, changed)
    return awards


async def player_points(
    uow: UnitOfWork, *, game_id: str, developer_id: str, player_id: str
) -> tuple[Tally, date]:
    """The player's tally in the developer's game (zero if they have none), as of today."""
    await owned_game(uow, game_id=game_id, developer_id=developer_id)
    today = uow.now().date()
    found = await uow.points.tally(game_id, player_id)
    return (found or Tally(player_id)).on(today), today


async def leaderboard(
    uow: UnitOfWork, *, game_id: str, developer_id: str, limit: int, offset: int
) -> tuple[list[Ranked], int]:
    """A page of the developer's game's players, ranked by all-time points."""
    await owned_game(uow, game_id=game_id, developer_id=developer_id)
    return await uow.points.ranking(game_id, limit=limit, offset=offset)
