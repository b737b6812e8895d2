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
from dataclasses import replace
from datetime import date

from gamekeeper.core.catalog.listings import owned_game
from gamekeeper.core.catalog.store import CatalogUow
from gamekeeper.core.catalog.types import Award, Cap, Caps, PointSession, Ranked, Tally

MAX_BATCH = 1000


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
    uow: CatalogUow, *, game_id: str, developer_id: str, entries: Sequence[tuple[str, int]]
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
    uow: CatalogUow, *, game_id: str, developer_id: str, player_id: str
) -> tuple[Tally, date]:
    """The player's tally in the developer's game (zero if they have none), as of today."""
    await owned_game(uow, game_id=game_id, developer_id=developer_id)
    today = uow.now().date()
    found = await uow.points.tally(game_id, player_id)
    return (found or Tally(player_id)).on(today), today


async def leaderboard(
    uow: CatalogUow, *, game_id: str, developer_id: str, limit: int, offset: int
) -> tuple[list[Ranked], int]:
    """A page of the developer's game's players, ranked by all-time points."""
    await owned_game(uow, game_id=game_id, developer_id=developer_id)
    return await uow.points.ranking(game_id, limit=limit, offset=offset)
