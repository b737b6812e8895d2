"""A webhook's lane: how much a claim may bring it, and when its queue may start a request."""

from __future__ import annotations

from gamekeeper.infra.lanes import Circuit, Lane

BUDGET = 30.0  # half a 60 s lease
BATCH = 200


def test_a_fast_endpoint_may_hold_a_whole_batch_beyond_its_cap() -> None:
    lane = Lane(cap=8, answer_time=15.0)
    assert lane.limit(BUDGET, BATCH) == 8 + 16  # unknown yet: judged by the request timeout
    for _ in range(40):
        lane.answered(0.002)
    assert lane.limit(BUDGET, BATCH) == 8 + BATCH


def test_a_slow_endpoint_holds_only_what_drains_within_the_budget() -> None:
    lane = Lane(cap=8, answer_time=0.002)
    for _ in range(40):
        lane.answered(10.0)
    # 8 at a time, ~10 s each: 24 more drain in 30 s.
    assert lane.limit(BUDGET, BATCH) == 8 + 24
    lane.in_flight = 8
    lane.queued.extend([(None, 0.0)] * 24)  # type: ignore[list-item]
    assert not lane.wants_more(0.0, BUDGET, BATCH)


def test_requests_start_only_under_the_cap_and_never_while_the_circuit_is_open() -> None:
    lane = Lane(cap=2, answer_time=0.01)
    assert lane.may_start(0.0)
    lane.in_flight = 2
    assert not lane.may_start(0.0)
    lane.in_flight = 0
    for _ in range(Circuit.threshold):
        lane.circuit.failed(100.0)
    assert lane.circuit.is_open(100.0)
    assert not lane.may_start(100.0) and not lane.wants_more(100.0, BUDGET, BATCH)


def test_a_half_open_circuit_lets_one_probe_through() -> None:
    lane = Lane(cap=8, answer_time=0.01)
    for _ in range(Circuit.threshold):
        lane.circuit.failed(0.0)
    after = lane.circuit.open_until + 1
    assert lane.may_start(after) and lane.wants_more(after, BUDGET, BATCH)
    lane.in_flight = 1
    assert not lane.may_start(after) and not lane.wants_more(after, BUDGET, BATCH)
    lane.circuit.succeeded()
    assert lane.may_start(after)


def test_a_quiet_lane_is_idle_unless_it_remembers_failures() -> None:
    lane = Lane(cap=8, answer_time=0.01)
    assert lane.idle
    lane.circuit.failed(0.0)
    assert not lane.idle
