"""RateLimiter against in-memory storage and a real Redis."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from uuid import uuid4

import pytest
import redis
from structlog.testing import capture_logs

from gamekeeper.infra.metrics import Metrics
from gamekeeper.infra.ratelimit import UNLIMITED, RateDecision, RateLimiter

pytestmark = pytest.mark.anyio

LIMITS = {"ip": "3/minute", "public": "2/minute"}
DEAD_REDIS = "redis://127.0.0.1:1/0"

MakeLimiter = Callable[..., RateLimiter]


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
async def make_limiter(request: pytest.FixtureRequest) -> AsyncIterator[MakeLimiter]:
    """Build limiters on one storage; each test gets its own Redis key namespace, removed after."""
    redis_url = request.getfixturevalue("redis_url") if request.param == "redis" else None
    namespace = f"gktest-{uuid4().hex}"
    made: list[RateLimiter] = []

    def make(limits: dict[str, str] = LIMITS, **kwargs: object) -> RateLimiter:
        limiter = RateLimiter(limits, redis_url=redis_url, namespace=namespace, **kwargs)  # type: ignore[arg-type]
        made.append(limiter)
        return limiter

    yield make
    for limiter in made:
        await limiter.close()
    if redis_url:
        _delete_keys(redis_url, f"{namespace}:*")


def _delete_keys(url: str, pattern: str) -> list[bytes]:
    with redis.Redis.from_url(url) as client:
        keys = list(client.scan_iter(match=pattern))
        if keys:
            client.delete(*keys)
        return keys


async def test_the_request_after_the_limit_is_refused_with_retry_after(
    make_limiter: MakeLimiter,
) -> None:
    limiter = make_limiter()
    answers = [await limiter.hit("ip", "10.0.0.1") for _ in range(4)]

    assert [a.allowed for a in answers] == [True, True, True, False]
    assert [a.remaining for a in answers] == [2, 1, 0, 0]
    refused = answers[-1]
    assert 1 <= refused.reset_after <= 60
    assert refused.headers() == {
        "RateLimit-Limit": "3",
        "RateLimit-Remaining": "0",
        "RateLimit-Reset": str(refused.reset_after),
        "Retry-After": str(refused.reset_after),
    }
    assert "Retry-After" not in answers[0].headers()
    assert answers[0].headers()["RateLimit-Limit"] == "3"


async def test_identities_and_categories_have_separate_counters(make_limiter: MakeLimiter) -> None:
    limiter = make_limiter()
    for _ in range(3):
        await limiter.hit("ip", "alice")

    assert not (await limiter.hit("ip", "alice")).allowed
    assert (await limiter.hit("ip", "bob")).remaining == 2
    public = await limiter.hit("public", "alice")
    assert (public.allowed, public.limit, public.remaining) == (True, 2, 1)


async def test_cost_counts_several_requests_at_once(make_limiter: MakeLimiter) -> None:
    limiter = make_limiter()

    assert (await limiter.hit("ip", "batch", cost=2)).remaining == 1
    assert not (await limiter.hit("ip", "batch", cost=2)).allowed
    assert (await limiter.hit("ip", "batch")).allowed


async def test_check_peeks_without_counting(make_limiter: MakeLimiter) -> None:
    limiter = make_limiter()
    for _ in range(5):
        peek = await limiter.check("ip", "carol")
        assert (peek.allowed, peek.remaining) == (True, 3)
    for _ in range(3):
        await limiter.hit("ip", "carol")

    peek = await limiter.check("ip", "carol")
    assert not peek.allowed
    assert peek.headers()["Retry-After"] == str(peek.reset_after)
    assert peek.reset_after >= 1


async def test_clear_gives_the_identity_a_fresh_window(make_limiter: MakeLimiter) -> None:
    limiter = make_limiter()
    for _ in range(3):
        await limiter.hit("ip", "dave")
        await limiter.hit("ip", "erin")

    await limiter.clear("ip", "dave")

    assert (await limiter.hit("ip", "dave")).remaining == 2
    assert not (await limiter.hit("ip", "erin")).allowed


@pytest.mark.redis
async def test_replicas_sharing_a_redis_share_counts(redis_url: str) -> None:
    namespace = f"gktest-{uuid4().hex}"
    replica_a = RateLimiter(LIMITS, redis_url=redis_url, namespace=namespace)
    replica_b = RateLimiter(LIMITS, redis_url=redis_url, namespace=namespace)
    try:
        await replica_a.hit("ip", "frank")
        await replica_a.hit("ip", "frank")
        assert (await replica_b.hit("ip", "frank")).remaining == 0
        assert not (await replica_a.hit("ip", "frank")).allowed
    finally:
        await replica_a.close()
        await replica_b.close()
        _delete_keys(redis_url, f"{namespace}:*")


async def test_unknown_category_is_a_key_error(make_limiter: MakeLimiter) -> None:
    limiter = make_limiter()
    with pytest.raises(KeyError):
        await limiter.hit("nonsense", "x")


async def test_disabled_limiter_allows_everything(make_limiter: MakeLimiter) -> None:
    limiter = make_limiter(enabled=False)
    answers = [await limiter.hit("ip", "grace") for _ in range(10)]

    assert all(a == UNLIMITED for a in answers)
    assert answers[-1].headers() == {}
    assert (await limiter.check("anything", "grace")).allowed


def test_an_invalid_rate_names_its_category() -> None:
    with pytest.raises(ValueError, match="'public'"):
        RateLimiter({"public": "lots"})


@pytest.mark.redis
async def test_keys_are_namespaced_under_gk(redis_url: str) -> None:
    identity = f"ns-{uuid4().hex}"
    limiter = RateLimiter(LIMITS, redis_url=redis_url)
    try:
        await limiter.hit("ip", identity)
    finally:
        await limiter.close()

    keys = _delete_keys(redis_url, f"*{identity}*")
    assert keys
    assert all(key.startswith(b"gk:") for key in keys)


async def test_dead_redis_fails_open_counts_errors_and_warns_once() -> None:
    metrics = Metrics()
    limiter = RateLimiter(LIMITS, redis_url=DEAD_REDIS, metrics=metrics)
    try:
        with capture_logs() as logs:
            first = await limiter.hit("ip", "henry")
            await limiter.clear("ip", "henry")
            later = [await limiter.hit("ip", "henry") for _ in range(5)]
    finally:
        await limiter.close()

    assert first == UNLIMITED
    assert all(answer.allowed for answer in later)
    errors = metrics.registry.get_sample_value("gamekeeper_ratelimit_storage_errors_total")
    assert errors == 2  # the hit and the clear; later hits skip Redis for a while
    warnings = [entry for entry in logs if entry["log_level"] == "warning"]
    assert [w["event"] for w in warnings] == ["rate_limit_storage_unavailable"]


def test_decision_without_limit_has_no_headers() -> None:
    assert RateDecision(allowed=True, limit=0, remaining=0, reset_after=0).headers() == {}


class _Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


async def test_in_memory_the_previous_window_weighs_as_much_as_still_overlaps() -> None:
    clock = _Clock(600.0)  # the start of a minute window
    limiter = RateLimiter({"ip": "10/minute"}, clock=clock)
    assert [(await limiter.hit("ip", "ivy")).allowed for _ in range(11)] == [True] * 10 + [False]

    clock.now = 600.0 + 60 + 45  # a quarter of the full window still overlaps: 2.5 -> 2 count
    answers = [await limiter.hit("ip", "ivy") for _ in range(9)]
    assert [a.allowed for a in answers] == [True] * 8 + [False]
    assert answers[0].remaining == 7
    assert 1 <= answers[-1].reset_after <= 15  # the previous window's weight fades first

    clock.now = 600.0 + 3 * 60  # two windows later nothing is left of them
    assert (await limiter.hit("ip", "ivy")).remaining == 9


async def test_in_memory_counters_of_past_windows_are_swept() -> None:
    clock = _Clock(600.0)
    limiter = RateLimiter({"ip": "5/minute", "public": "5/second"}, clock=clock)
    memory = limiter._memory
    assert memory is not None
    for n in range(1000):
        await limiter.hit("ip", f"10.0.{n // 256}.{n % 256}")
    assert len(memory) == 1000

    clock.now += 2 * 60 + 1  # past the longest period: the next hit sweeps what has expired
    assert (await limiter.hit("public", "one more")).allowed
    assert len(memory) == 1
