"""The matchmaking engine against a model, over random sequences of calls with time moving on.

The model keeps what the engine promises: who is waiting, which servers are registered and
busy. After every tick the outcome must keep every rule of ``engine``'s docstring, and the
tick must have formed every match the rules allow (no anchor left with enough partners
within its gap while its pool can get a server).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from gamekeeper.core.matchmaking import engine_pool
from gamekeeper.core.matchmaking.engine import (
    Engine,
    EngineConfig,
    PoolKey,
    QueuedRequest,
    ServerSlot,
    TickOutcome,
)

T0 = 1_800_000_000.0
PROJECTS = ("p", "q")
SERVER_TAGS = (None, "eu", "us")
# Few pools, so that requests meet: untagged and tagged, shared servers, odd team sizes.
POOLS: tuple[PoolKey, ...] = (
    ("p", (1, 1), None, None),
    ("p", (2, 2), None, None),
    ("p", (1, 1), "ranked", "eu"),
    ("p", (2, 1), None, "eu"),
    ("p", (1,), None, "us"),
    ("q", (1, 1), None, None),
)
NAMES = ("s1", "s2", "s3")
ratings = st.one_of(
    st.sampled_from([20.0, 25.0, 25.0, 26.5, 30.0]),  # equal ratings are common: new players
    st.floats(0.0, 50.0, allow_nan=False),
)
configs = st.builds(
    EngineConfig,
    base_gap=st.sampled_from([0.0, 1.0, 3.0]),
    widen_per_second=st.sampled_from([0.0, 0.7, 5.0]),
    tick_interval=st.sampled_from([0.1, 1.0]),
    open_before_deadline=st.sampled_from([0.0, 1.0, 4.0]),
)


@dataclass
class ModelServer:
    tag: str | None
    expires_at: float
    busy: bool = False


def qualifies(server_key: tuple[str, str], server: ModelServer, pool: PoolKey) -> bool:
    return server_key[0] == pool[0] and (pool[3] is None or server.tag == pool[3])


class EngineMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.now = T0
        self.serial = 0
        self.waiting: dict[str, QueuedRequest] = {}
        self.gone: set[str] = set()
        self.servers: dict[tuple[str, str], ModelServer] = {}
        self.engine = Engine()

    @initialize(config=configs)
    def start(self, config: EngineConfig) -> None:
        self.engine = Engine(config)

    @rule(
        pool=st.sampled_from(POOLS),
        rating=ratings,
        waited=st.floats(0.0, 5.0),
        max_time=st.floats(0.5, 20.0),
        copies=st.integers(1, 4),
    )
    def add(
        self, pool: PoolKey, rating: float, waited: float, max_time: float, copies: int
    ) -> None:
        project, sizes, match_tag, server_tag = pool
        for _ in range(copies):
            self.serial += 1
            enqueued_at = self.now - waited
            request = QueuedRequest(
                f"r{self.serial}",
                project,
                sizes,
                match_tag,
                server_tag,
                rating,
                enqueued_at,
                enqueued_at + max_time,
            )
            self.engine.add(request)
            self.waiting[request.id] = request

    @precondition(lambda self: self.waiting or self.gone)
    @rule(data=st.data())
    def cancel(self, data: st.DataObject) -> None:
        request_id = data.draw(st.sampled_from(sorted(self.waiting.keys() | self.gone)))
        assert self.engine.cancel(request_id) is (request_id in self.waiting)
        self.waiting.pop(request_id, None)
        self.gone.add(request_id)

    @rule(
        project=st.sampled_from(PROJECTS),
        name=st.sampled_from(NAMES),
        tag=st.sampled_from(SERVER_TAGS),
        ttl=st.floats(0.5, 30.0),
    )
    def register_server(self, project: str, name: str, tag: str | None, ttl: float) -> None:
        self.engine.register_server(ServerSlot(project, name, tag, self.now + ttl))
        known = self.servers.get((project, name))
        self.servers[project, name] = ModelServer(
            tag, self.now + ttl, known is not None and known.busy
        )

    @rule(project=st.sampled_from(PROJECTS), name=st.sampled_from(NAMES))
    def remove_server(self, project: str, name: str) -> None:
        self.engine.remove_server(project, name)
        self.servers.pop((project, name), None)

    @rule(project=st.sampled_from(PROJECTS), name=st.sampled_from(NAMES))
    def release_server(self, project: str, name: str) -> None:
        self.engine.release_server(project, name)
        if (project, name) in self.servers:
            self.servers[project, name].busy = False

    @rule(project=st.sampled_from(PROJECTS), name=st.sampled_from(NAMES))
    def occupy_server(self, project: str, name: str) -> None:
        self.engine.occupy_server(project, name)
        if (project, name) in self.servers:
            self.servers[project, name].busy = True

    @rule(steps=st.lists(st.one_of(st.just(0.0), st.floats(0.01, 3.0)), min_size=1, max_size=4))
    def tick(self, steps: list[float]) -> None:
        """A few ticks in a row: only widening gaps and deadlines can make matches between."""
        for step in steps:
            self.tick_once(step)

    def tick_once(self, step: float) -> None:
        self.now += step
        self.servers = {k: s for k, s in self.servers.items() if s.expires_at > self.now}
        outcome = self.engine.tick(self.now)
        self.check_failures(outcome)
        self.check_matches(outcome)
        self.check_nothing_left_to_match()
        assert all(r.deadline > self.now for r in self.waiting.values())

    def needs_server(self, pool: PoolKey) -> bool:
        return any(qualifies(k, s, pool) for k, s in self.servers.items())

    def has_free(self, pool: PoolKey) -> bool:
        return any(qualifies(k, s, pool) and not s.busy for k, s in self.servers.items())

    def pool_of(self, pool: PoolKey) -> list[QueuedRequest]:
        return [r for r in self.waiting.values() if r.pool == pool]

    def check_failures(self, outcome: TickOutcome) -> None:
        overdue = {i: r for i, r in self.waiting.items() if r.deadline <= self.now}
        assert {f.request.id for f in outcome.failures} == overdue.keys()
        assert len(outcome.failures) == len(overdue)
        for failure in outcome.failures:
            pool = failure.request.pool
            could_match = len(self.pool_of(pool)) >= sum(pool[1])
            blocked = self.needs_server(pool) and not self.has_free(pool)
            assert failure.reason == ("noServer" if could_match and blocked else "timedOut")
            assert failure.request == overdue[failure.request.id]
        for request_id in overdue:
            del self.waiting[request_id]
            self.gone.add(request_id)

    def check_matches(self, outcome: TickOutcome) -> None:
        for match in outcome.matches:
            assert tuple(len(team) for team in match.teams) == match.pool[1]
            people = [r for team in match.teams for r in team]
            assert all(r.pool == match.pool for r in people)
            for r in people:  # waiting until now: never matched twice, after cancel or failure
                assert self.waiting.pop(r.id) == r
                self.gone.add(r.id)
            allowed_gap = self.engine.config.allowed_gap
            assert any(  # some member anchored it: everyone is within its allowed gap
                all(abs(r.rating - a.rating) <= allowed_gap(a, self.now) for r in people)
                for a in people
            )
            if self.needs_server(match.pool):
                assert match.server is not None
                server = self.servers[match.pool[0], match.server]
                assert qualifies((match.pool[0], match.server), server, match.pool)
                assert not server.busy  # a busy server never gets a second session
                server.busy = True
            else:
                assert match.server is None

    def check_nothing_left_to_match(self) -> None:
        allowed_gap = self.engine.config.allowed_gap
        pools: dict[PoolKey, list[QueuedRequest]] = {}
        for r in self.waiting.values():
            pools.setdefault(r.pool, []).append(r)
        for pool, requests in pools.items():
            if self.needs_server(pool) and not self.has_free(pool):
                continue
            for anchor in requests:
                gap = allowed_gap(anchor, self.now)
                near = [r for r in requests if abs(r.rating - anchor.rating) <= gap]
                assert len(near) < sum(pool[1]), (anchor, gap, near)

    @invariant()
    def the_engine_holds_exactly_the_waiting_requests(self) -> None:
        assert len(self.engine) == len(self.waiting)
        assert all(request_id in self.engine for request_id in self.waiting)
        assert not any(request_id in self.engine for request_id in self.gone)


# How the pools handle changes: as tuned; small pools placing every change one by one (as large
# pools do with few changes); and also walking only the anchors a pass must walk.
PATHS = {"as tuned": None, "one by one": (0, 4), "few at a time": (0, 0)}


@contextlib.contextmanager
def paths(name: str) -> Iterator[None]:
    saved = engine_pool._ONE_BY_ONE, engine_pool._MOST
    if PATHS[name] is not None:
        engine_pool._ONE_BY_ONE, engine_pool._MOST = PATHS[name]
    try:
        yield
    finally:
        engine_pool._ONE_BY_ONE, engine_pool._MOST = saved


class OneByOneMachine(EngineMachine):
    paths = "one by one"

    def __init__(self) -> None:
        super().__init__()
        self._paths = paths(self.paths)
        self._paths.__enter__()

    def teardown(self) -> None:
        self._paths.__exit__(None, None, None)


class FewAtATimeMachine(OneByOneMachine):
    paths = "few at a time"


for machine in (EngineMachine, OneByOneMachine, FewAtATimeMachine):
    machine.TestCase.settings = settings(max_examples=150, stateful_step_count=40, deadline=None)
test_engine_against_the_model = EngineMachine.TestCase
test_engine_against_the_model_one_by_one = OneByOneMachine.TestCase
test_engine_against_the_model_few_at_a_time = FewAtATimeMachine.TestCase


@pytest.mark.parametrize("path", PATHS)
@settings(max_examples=200, deadline=None)
@given(
    config=configs,
    pool=st.sampled_from(POOLS[:2]),
    arrivals=st.lists(
        st.tuples(ratings, st.floats(0.0, 5.0), st.floats(0.5, 20.0), st.integers(0, 3)),
        max_size=12,
    ),
    steps=st.lists(st.floats(0.01, 3.0), min_size=4, max_size=10),
)
def test_requests_without_servers_match_as_soon_as_their_gaps_allow(
    path: str,
    config: EngineConfig,
    pool: PoolKey,
    arrivals: list[tuple[float, float, float, int]],
    steps: list[float],
) -> None:
    """No servers: only widening gaps and arrivals (before tick 0 to 3) make matches."""
    with paths(path):
        machine = EngineMachine()
        machine.start(config)
        for tick, step in enumerate(steps):
            for rating, waited, max_time, _ in (a for a in arrivals if a[3] == tick):
                machine.add(pool, rating, waited, max_time, 1)
            machine.tick([step])
