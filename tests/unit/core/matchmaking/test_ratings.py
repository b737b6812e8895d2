"""Ratings and result rules without storage: OpenSkill updates, report checks, decisions."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from gamekeeper.core.matchmaking.ratings import (
    current_rating,
    default_rating,
    player_stats,
    rate,
)
from gamekeeper.core.matchmaking.results import InvalidResult, check_report, decide
from gamekeeper.core.matchmaking.types import (
    CONSERVATIVE_K,
    Member,
    OpenSession,
    Report,
    SkillRating,
)

AT = datetime(2026, 1, 1, tzinfo=UTC)
pytestmark = pytest.mark.anyio


def _players(*names: str) -> list[SkillRating]:
    return [default_rating("g", name) for name in names]


def test_new_players_start_at_the_model_defaults_with_a_conservative_rating_of_zero():
    start = default_rating("g", "p")
    assert (start.mu, start.sigma, start.matches) == (25.0, pytest.approx(25 / 3), 0)
    assert start.conservative == pytest.approx(start.mu - CONSERVATIVE_K * start.sigma)
    assert start.conservative == pytest.approx(0.0)


def test_the_winner_gains_the_loser_loses_and_both_grow_surer():
    [winner], [loser] = rate([_players("w"), _players("l")], [0, 1], at=AT)
    assert winner.mu > 25 > loser.mu
    assert winner.sigma < 25 / 3 and loser.sigma < 25 / 3
    assert winner.conservative > loser.conservative
    assert (winner.matches, winner.updated_at) == (1, AT)


def test_a_tie_moves_no_mean_and_an_upset_moves_more_than_the_expected_result():
    strong = SkillRating("g", "s", mu=35.0, sigma=3.0)
    weak = SkillRating("g", "w", mu=15.0, sigma=3.0)
    [[tied_a], [tied_b]] = rate(
        [[default_rating("g", "a")], [default_rating("g", "b")]], [0, 0], at=AT
    )
    assert tied_a.mu == pytest.approx(25.0) == tied_b.mu
    [expected], _ = rate([[strong], [weak]], [0, 1], at=AT)
    [upset], _ = rate([[strong], [weak]], [1, 0], at=AT)
    assert abs(upset.mu - strong.mu) > abs(expected.mu - strong.mu)


def test_teams_of_different_sizes_and_three_teams_are_rated_by_place():
    first, second, third = rate(
        [_players("a", "b"), _players("c"), _players("d", "e", "f")], [1, 0, 2], at=AT
    )
    assert all(r.mu < 25 for r in third)
    assert second[0].mu > max(r.mu for r in first)
    assert [r.player_id for r in first] == ["a", "b"]


def test_rating_needs_two_teams_and_a_rank_each():
    with pytest.raises(ValueError):
        rate([_players("solo")], [0], at=AT)
    with pytest.raises(ValueError):
        rate([_players("a"), _players("b")], [0], at=AT)


class _FakeRatings:
    def __init__(self, ratings: list[SkillRating]) -> None:
        self.stored = {(r.game_id, r.player_id): r for r in ratings}

    async def rating(self, game_id: str, player_id: str) -> SkillRating | None:
        return self.stored.get((game_id, player_id))

    async def count_above(self, game_id: str, conservative: float) -> int:
        return sum(
            1
            for r in self.stored.values()
            if r.game_id == game_id and r.conservative > conservative
        )


class _FakeUow:
    def __init__(self, ratings: list[SkillRating]) -> None:
        self.match_results = _FakeRatings(ratings)


async def test_current_rating_and_stats_per_project():
    top = SkillRating("g", "top", mu=30.0, sigma=2.0, matches=4, updated_at=AT)
    mid = SkillRating("g", "mid", mu=26.0, sigma=2.0, matches=4, updated_at=AT)
    elsewhere = SkillRating("h", "mid", mu=40.0, sigma=1.0, matches=9, updated_at=AT)
    uow = _FakeUow([top, mid, elsewhere])
    assert await current_rating(uow, game_id="g", player_id="mid") == mid
    assert await current_rating(uow, game_id="g", player_id="new") == default_rating("g", "new")
    stats = await player_stats(uow, game_id="g", player_id="mid")
    assert (stats.rating, stats.rank) == (pytest.approx(20.0), 2)
    new = await player_stats(uow, game_id="g", player_id="new")
    assert (new.rating, new.rank) == (pytest.approx(0.0), None)


# --- Reports and which result stands ---------------------------------------------------------


def test_reports_are_checked_against_the_team_count_and_made_dense():
    assert check_report("finished", [5, 0, 5], teams=3) == Report("finished", (1, 0, 1))
    assert check_report("cancelled", None, teams=2) == Report("cancelled", None)
    assert check_report("cancelled", [1, 0], teams=2) == Report("cancelled", None)
    for status, ranks in [("finished", None), ("finished", [0]), ("finished", [0, -2])]:
        with pytest.raises(InvalidResult):
            check_report(status, ranks, teams=2)


def _session(server: str | None = None, members: int = 3) -> OpenSession:
    seats = tuple(Member(f"r{i}", f"p{i}", i) for i in range(members))
    return OpenSession("s", "g", members, server, "open", seats)


FIRST = Report("finished", (0, 1, 2))
OTHER = Report("finished", (2, 1, 0))
CANCELLED = Report("cancelled", None)


def test_the_server_decides_alone_and_at_once():
    hosted = _session(server="eu-1")
    assert decide(hosted, {"r0": FIRST, "r1": FIRST, "r2": FIRST}) is None
    outcome = decide(hosted, {"r0": FIRST, "server": OTHER})
    assert outcome is not None and (outcome.ranks, outcome.decided_by) == ((2, 1, 0), "server")


def test_clients_decide_when_all_agree_and_a_disagreement_ends_it_unrated():
    p2p = _session()
    assert decide(p2p, {}) is None
    assert decide(p2p, {"r0": FIRST, "r1": FIRST}) is None
    agreed = decide(p2p, {"r0": FIRST, "r1": FIRST, "r2": FIRST})
    assert agreed is not None and (agreed.status, agreed.ranks) == ("finished", (0, 1, 2))
    split = decide(p2p, {"r0": FIRST, "r1": OTHER})
    assert split is not None and (split.status, split.ranks) == ("finished", None)
    mixed = decide(p2p, {"r0": FIRST, "r1": CANCELLED})
    assert mixed is not None and mixed.ranks is None
    cancelled = decide(p2p, {"r0": CANCELLED, "r1": CANCELLED, "r2": CANCELLED})
    assert cancelled is not None and cancelled.status == "cancelled"
