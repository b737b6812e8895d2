"""The matchmaking engine by example: order, skill, widening, teams, servers, deadlines."""

from __future__ import annotations

import pytest

from gamekeeper.core.matchmaking.engine import (
    Engine,
    EngineConfig,
    Failure,
    Match,
    QueuedRequest,
    ServerSlot,
)
from gamekeeper.core.matchmaking.engine_pool import snake_order

T0 = 1_800_000_000.0
CONFIG = EngineConfig(
    base_gap=2.0, widen_per_second=1.0, tick_interval=0.1, open_before_deadline=1.0
)


def request(
    rid: str,
    rating: float = 25.0,
    *,
    at: float = T0,
    wait: float = 60.0,
    sizes: tuple[int, ...] = (1, 1),
    project: str = "p",
    match_tag: str | None = None,
    server_tag: str | None = None,
) -> QueuedRequest:
    return QueuedRequest(rid, project, sizes, match_tag, server_tag, rating, at, at + wait)


def engine(*requests: QueuedRequest, config: EngineConfig = CONFIG) -> Engine:
    made = Engine(config)
    for r in requests:
        made.add(r)
    return made


def ids(match: Match) -> list[list[str]]:
    return [[r.id for r in team] for team in match.teams]


def members(match: Match) -> set[str]:
    return {r.id for team in match.teams for r in team}


def reasons(failures: list[Failure]) -> dict[str, str]:
    return {f.request.id: f.reason for f in failures}


def test_two_players_of_equal_skill_are_matched_at_once_and_leave_the_queue():
    e = engine(request("a"), request("b"))
    assert len(e) == 2 and "a" in e
    outcome = e.tick(T0)
    assert [members(m) for m in outcome.matches] == [{"a", "b"}]
    assert outcome.matches[0].server is None and outcome.failures == []
    assert len(e) == 0 and "a" not in e
    assert e.tick(T0 + 1).matches == []


def test_the_oldest_requests_are_matched_first():
    e = engine(request("young", at=T0 - 1), request("oldest", at=T0 - 9), request("old", at=T0 - 5))
    [match] = e.tick(T0).matches
    assert members(match) == {"oldest", "old"}
    assert "young" in e


def test_the_anchor_prefers_the_closest_rating_among_acceptable_partners():
    wide = EngineConfig(base_gap=50.0, widen_per_second=0.0)
    e = engine(
        request("anchor", 25.0, at=T0 - 10),
        request("far", 40.0, at=T0 - 8),
        request("near", 27.0, at=T0 - 1),
        request("below", 20.0, at=T0 - 2),
        config=wide,
    )
    first, second = e.tick(T0).matches
    assert members(first) == {"anchor", "near"}
    assert members(second) == {"far", "below"}  # the next oldest anchors with what is left


def test_the_allowed_gap_widens_with_waiting_time():
    e = engine(request("a", 25.0, at=T0), request("b", 33.0, at=T0 + 1))
    assert e.tick(T0 + 1).matches == []  # a accepts 2 + 1 = 3 points, b 2
    assert e.tick(T0 + 5.9).matches == []  # a accepts 7.9
    [match] = e.tick(T0 + 6.0).matches  # a accepts 8: the gap
    assert ids(match) == [["b"], ["a"]]  # strongest in the first team


def test_a_younger_request_with_a_close_partner_matches_while_an_old_one_waits():
    e = engine(
        request("old", 10.0, at=T0 - 3), request("x", 30.0, at=T0), request("y", 31.0, at=T0)
    )
    [match] = e.tick(T0).matches
    assert members(match) == {"x", "y"} and "old" in e


def test_shortly_before_its_deadline_a_request_accepts_anyone():
    e = engine(request("a", 0.0, at=T0, wait=10.0), request("b", 50.0, at=T0, wait=60.0))
    assert e.tick(T0 + 8.9).matches == []  # a accepts 10.9 points
    [match] = e.tick(T0 + 9.0).matches  # one second before a's deadline: anyone
    assert members(match) == {"a", "b"}


def test_a_deadline_before_the_next_tick_opens_the_request_now():
    slow_ticks = EngineConfig(base_gap=2.0, widen_per_second=0.0, tick_interval=5.0)
    assert slow_ticks.open_lead == 5.0
    e = engine(request("a", 0.0, wait=20.0), request("b", 90.0, wait=60.0), config=slow_ticks)
    assert e.tick(T0 + 14.0).matches == []
    assert len(e.tick(T0 + 15.0).matches) == 1


def test_pools_never_mix():
    e = engine(
        request("a"),
        request("b", match_tag="ranked"),
        request("c", sizes=(2, 2)),
        request("d", project="q"),
        request("e", server_tag="eu"),
    )
    assert e.tick(T0 + 59).matches == []
    assert {f.request.id for f in e.tick(T0 + 60).failures} == {"a", "b", "c", "d", "e"}


def test_teams_are_dealt_in_snake_order_by_rating():
    e = engine(*(request(f"r{x}", float(x), sizes=(2, 2)) for x in (10, 12, 11, 13)))
    [match] = e.tick(T0 + 30).matches
    assert ids(match) == [["r13", "r10"], ["r12", "r11"]]
    assert snake_order((5, 5)) == (0, 1, 1, 0, 0, 1, 1, 0, 0, 1)
    assert snake_order((2, 1)) == (0, 1, 0)
    assert snake_order((1, 1, 1)) == (0, 1, 2)


def test_unequal_and_solo_team_sizes_are_filled_exactly():
    e = engine(
        *(request(f"u{i}", 20.0 + i, sizes=(3, 1)) for i in range(4)),
        request("solo", sizes=(1,)),
    )
    matches = {m.pool[1]: m for m in e.tick(T0).matches}
    assert [len(team) for team in matches[3, 1].teams] == [3, 1]
    assert ids(matches[(1,)]) == [["solo"]]


def test_cancelled_requests_never_match():
    e = engine(request("a"), request("b"), request("c"))
    assert e.cancel("a") is True
    assert e.cancel("a") is False and e.cancel("unknown") is False
    [match] = e.tick(T0).matches
    assert members(match) == {"b", "c"}
    assert e.cancel("b") is False  # matched: no longer waiting


def test_a_waiting_id_cannot_be_added_twice_but_may_come_back_later():
    e = engine(request("a"))
    with pytest.raises(ValueError, match="already waiting"):
        e.add(request("a", 30.0))
    e.cancel("a")
    e.add(request("a", 30.0, at=T0 + 1, wait=5.0))
    assert reasons(e.tick(T0 + 6).failures) == {"a": "timedOut"}
    assert len(e) == 0


@pytest.mark.parametrize("sizes", [(), (0, 1), (2, -1)])
def test_unusable_team_sizes_are_refused(sizes: tuple[int, ...]):
    with pytest.raises(ValueError, match="team sizes"):
        Engine().add(request("a", sizes=sizes))
    with pytest.raises(ValueError, match="rating"):
        Engine().add(request("a", float("nan")))
    with pytest.raises(ValueError, match="base_gap"):
        EngineConfig(base_gap=-1.0)


def test_a_lone_request_times_out_at_its_deadline_not_before():
    e = engine(request("a", wait=30.0))
    assert e.tick(T0 + 29.99).failures == []
    [failure] = e.tick(T0 + 30.0).failures
    assert failure == Failure(request("a", wait=30.0), "timedOut")
    assert "a" not in e and e.tick(T0 + 31).failures == []


def test_a_match_in_a_project_with_servers_takes_a_free_one_and_holds_it():
    e = engine(*(request(x) for x in "abcd"))
    e.register_server(ServerSlot("p", "s1", None, T0 + 1000))
    [match] = e.tick(T0).matches
    assert match.server == "s1" and members(match) == {"a", "b"}
    assert e.tick(T0 + 1).matches == []  # s1 is busy
    e.release_server("p", "s1")
    [match] = e.tick(T0 + 2).matches
    assert match.server == "s1" and members(match) == {"c", "d"}


def test_servers_are_given_out_longest_free_first():
    e = engine(*(request(x) for x in "abcdef"))
    for name in ("s2", "s1", "s3"):
        e.register_server(ServerSlot("p", name, None, T0 + 1000))
    assert [m.server for m in e.tick(T0).matches] == ["s2", "s1", "s3"]
    e.release_server("p", "s1")
    e.release_server("p", "s2")
    e.add(request("g"))
    e.add(request("h"))
    assert [m.server for m in e.tick(T0 + 1).matches] == ["s1"]


def test_server_tags_decide_which_pools_need_which_servers():
    e = engine(
        request("eu1", server_tag="eu"),
        request("eu2", server_tag="eu"),
        request("us1", server_tag="us"),
        request("us2", server_tag="us"),
        request("any1"),
        request("any2"),
    )
    e.register_server(ServerSlot("p", "frankfurt", "eu", T0 + 1000))
    e.register_server(ServerSlot("other", "ohio", "us", T0 + 1000))
    by_pool = {m.pool[3]: m.server for m in e.tick(T0).matches}
    # eu needs an eu server; us has none in this project (peer to peer); untagged takes any
    # server of the project, and frankfurt went to the eu pool first.
    assert by_pool == {"eu": "frankfurt", "us": None}
    assert "any1" in e
    e.release_server("p", "frankfurt")
    assert [m.server for m in e.tick(T0 + 1).matches] == ["frankfurt"]


def test_no_free_server_at_the_deadline_fails_with_no_server():
    e = engine(request("a"), request("b"), request("c", wait=10.0), request("d", wait=10.0))
    e.register_server(ServerSlot("p", "s1", None, T0 + 1000))
    assert members(e.tick(T0).matches[0]) == {"a", "b"}
    assert e.tick(T0 + 9.5).matches == []  # c and d accept each other, but s1 is busy
    assert reasons(e.tick(T0 + 10).failures) == {"c": "noServer", "d": "noServer"}


def test_too_few_players_times_out_even_when_servers_are_busy():
    e = engine(request("a"), request("b"), request("c", wait=10.0))
    e.register_server(ServerSlot("p", "s1", None, T0 + 1000))
    e.tick(T0)
    assert reasons(e.tick(T0 + 10).failures) == {"c": "timedOut"}


def test_a_server_free_at_the_deadline_means_timed_out():
    e = engine(request("a", 0.0, wait=10.0), request("b", 90.0, wait=10.0))
    e.register_server(ServerSlot("p", "s1", None, T0 + 1000))
    # Nobody ticked while they accepted anyone; the server was there: they timed out.
    assert reasons(e.tick(T0 + 10).failures) == {"a": "timedOut", "b": "timedOut"}


def test_expired_servers_are_dropped_and_the_project_plays_peer_to_peer():
    e = engine(request("a"), request("b"), request("c"), request("d"))
    e.register_server(ServerSlot("p", "s1", None, T0 + 5))
    assert e.tick(T0).matches[0].server == "s1"
    assert e.tick(T0 + 4.9).matches == []  # s1 busy and still registered
    [match] = e.tick(T0 + 5).matches  # s1 expired while busy: gone
    assert match.server is None
    e.release_server("p", "s1")  # its session ends after it is gone: nothing happens
    e.add(request("e"))
    e.add(request("f"))
    assert e.tick(T0 + 6).matches[0].server is None


def test_a_renewal_keeps_a_busy_server_busy_and_moves_its_expiry():
    e = engine(*(request(x) for x in "abcd"))
    e.register_server(ServerSlot("p", "s1", None, T0 + 5))
    assert e.tick(T0).matches[0].server == "s1"
    e.register_server(ServerSlot("p", "s1", None, T0 + 50))
    assert e.tick(T0 + 10).matches == []  # renewed, so not expired, and still busy
    e.release_server("p", "s1")
    assert e.tick(T0 + 11).matches[0].server == "s1"


def test_a_server_known_to_host_a_session_is_occupied_until_released():
    e = engine(request("a"), request("b"))
    e.register_server(ServerSlot("p", "s1", None, T0 + 100))
    e.occupy_server("p", "s1")
    e.occupy_server("p", "unknown")
    assert e.tick(T0).matches == []
    e.release_server("p", "s1")
    assert e.tick(T0 + 1).matches[0].server == "s1"


def test_a_removed_server_no_longer_hosts():
    e = engine(request("a"), request("b"))
    e.register_server(ServerSlot("p", "s1", "eu", T0 + 100))
    e.register_server(ServerSlot("p", "s2", "eu", T0 + 100))
    e.remove_server("p", "s1")
    e.remove_server("p", "never-registered")
    assert e.tick(T0).matches[0].server == "s2"


def test_a_renewal_may_change_the_server_tag():
    e = engine(request("a", server_tag="eu"), request("b", server_tag="eu"))
    e.register_server(ServerSlot("p", "s1", "us", T0 + 100))
    e.register_server(ServerSlot("p", "s1", "eu", T0 + 100))
    assert e.tick(T0).matches[0].server == "s1"


def test_a_registered_server_wakes_a_pool_that_had_none_free():
    e = engine(request("a"), request("b"), request("c"), request("d"))
    e.register_server(ServerSlot("p", "s1", None, T0 + 100))
    e.tick(T0)
    assert e.tick(T0 + 1).matches == []
    e.register_server(ServerSlot("p", "s2", None, T0 + 100))
    assert [m.server for m in e.tick(T0 + 1.1).matches] == ["s2"]


def test_a_large_pool_matches_everyone_who_can_be_matched_in_one_tick():
    e = engine(*(request(f"r{i}", 25.0 + (i % 7) * 0.1, sizes=(5, 5)) for i in range(1005)))
    outcome = e.tick(T0)
    assert len(outcome.matches) == 100
    assert len(e) == 5
    seen = [r.id for m in outcome.matches for team in m.teams for r in team]
    assert len(seen) == len(set(seen)) == 1000
