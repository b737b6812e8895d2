"""The caps on one session, and the day a tally counts from."""

from __future__ import annotations

from datetime import date

from gamekeeper.core.catalog.points import award
from gamekeeper.core.catalog.types import Award, Cap, Caps, Tally

TODAY = date(2026, 1, 1)


def test_no_caps_award_everything():
    result, after = award(Caps(), Tally("p", day=TODAY), 10**12)
    assert result == Award("p", 10**12, 10**12)
    assert (after.points, after.day_points, after.day_sessions) == (10**12, 10**12, 1)


def test_the_tightest_cap_is_reported():
    caps = Caps(score_per_session=50, points_per_day=100)
    result, _ = award(caps, Tally("p", day=TODAY, day_points=70), 80)
    assert (result.awarded, result.reason, result.clipped) == (30, Cap.POINTS_PER_DAY, True)
    result, _ = award(caps, Tally("p", day=TODAY, day_points=10), 80)
    assert (result.awarded, result.reason) == (50, Cap.SCORE_PER_SESSION)


def test_a_session_past_the_daily_count_is_refused_and_changes_nothing():
    tally = Tally("p", points=9, sessions=3, day=TODAY, day_points=9, day_sessions=3)
    result, after = award(Caps(sessions_per_day=3), tally, 5)
    assert (result.awarded, result.reason, result.recorded) == (0, Cap.SESSIONS_PER_DAY, False)
    assert after == tally


def test_a_session_clipped_to_nothing_still_counts():
    tally = Tally("p", day=TODAY, day_points=100, day_sessions=1)
    result, after = award(Caps(points_per_day=100), tally, 5)
    assert (result.awarded, result.recorded, after.day_sessions) == (0, True, 2)


def test_a_new_day_starts_from_nothing_but_keeps_the_totals():
    tally = Tally("p", points=40, sessions=4, day=TODAY, day_points=40, day_sessions=4)
    assert tally.on(TODAY) is tally
    fresh = tally.on(date(2026, 1, 2))
    assert (fresh.points, fresh.sessions, fresh.day_points, fresh.day_sessions) == (40, 4, 0, 0)
    assert Tally("p").on(TODAY).day == TODAY
