"""Skill ratings per project: OpenSkill's Plackett-Luce model over team ranks.

A rating is a belief about a player's skill: mean ``mu`` and deviation ``sigma``. What players
see is the conservative rating ``mu - CONSERVATIVE_K * sigma``: a new player starts near 0
and climbs as results make the system surer of them, so a lucky first win does not top the
board. The engine matches on ``mu``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from functools import cache

from openskill.models import PlackettLuce

from gamekeeper.core.matchmaking.store import MatchmakingUow
from gamekeeper.core.matchmaking.types import PlayerStats, SkillRating


@cache
def _model() -> PlackettLuce:
    return PlackettLuce()


def default_rating(game_id: str, player_id: str) -> SkillRating:
    """Where a new player starts: the model's default mean and deviation."""
    model = _model()
    return SkillRating(game_id=game_id, player_id=player_id, mu=model.mu, sigma=model.sigma)


def rate(
    teams: Sequence[Sequence[SkillRating]], ranks: Sequence[int], *, at: datetime
) -> list[list[SkillRating]]:
    """New ratings after a game: ``ranks[i]`` is team i's place, 0 first, ties allowed."""
    if len(teams) < 2 or len(ranks) != len(teams):
        raise ValueError("rating needs two or more teams and one rank per team")
    model = _model()
    before = [[model.rating(mu=r.mu, sigma=r.sigma) for r in team] for team in teams]
    after = model.rate(before, ranks=[float(rank) for rank in ranks])
    return [
        [
            replace(old, mu=new.mu, sigma=new.sigma, matches=old.matches + 1, updated_at=at)
            for old, new in zip(team, new_team, strict=True)
        ]
        for team, new_team in zip(teams, after, strict=True)
    ]


async def current_rating(uow: MatchmakingUow, *, game_id: str, player_id: str) -> SkillRating:
    """The player's rating in the project, or the starting rating if they have none yet."""
    stored = await uow.match_results.rating(game_id, player_id)
    return stored or default_rating(game_id, player_id)


async def apply_ranks(
    uow: MatchmakingUow, *, game_id: str, teams: Sequence[Sequence[str]], ranks: Sequence[int]
) -> list[list[SkillRating]]:
    """Rate a finished session's players (ids by team) by their teams' ranks and store it.

    The players' rows are locked first, so two sessions sharing a player rate one after the
    other rather than one overwriting the other.
    """
    now = uow.now()
    starting = [default_rating(game_id, p) for p in sorted({p for team in teams for p in team})]
    stored = await uow.match_results.lock_ratings(starting, now)
    before = [[stored[p] for p in team] for team in teams]
    after = rate(before, ranks, at=now)
    await uow.match_results.save_ratings([r for team in after for r in team])
    return after


async def player_stats(uow: MatchmakingUow, *, game_id: str, player_id: str) -> PlayerStats:
    """The player's conservative rating and place among the project's rated players."""
    stored = await uow.match_results.rating(game_id, player_id)
    if stored is None:
        return PlayerStats(rating=default_rating(game_id, player_id).conservative, rank=None)
    above = await uow.match_results.count_above(game_id, stored.conservative)
    return PlayerStats(rating=stored.conservative, rank=above + 1)
