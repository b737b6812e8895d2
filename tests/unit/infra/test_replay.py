"""The replay guard: a key is let through once until its time is up, in memory or Redis."""

from __future__ import annotations

import time
import uuid

import pytest

from gamekeeper.infra.replay import ReplayGuard

pytestmark = pytest.mark.anyio


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


async def test_in_memory_a_key_passes_once_until_its_time_is_up() -> None:
    clock = Clock()
    guard = ReplayGuard(clock=clock)
    assert await guard.first_use("a", until=clock.now + 10)
    assert not await guard.first_use("a", until=clock.now + 10)
    assert await guard.first_use("b", until=clock.now + 10)
    clock.now += 11
    assert await guard.first_use("a", until=clock.now + 10)


async def test_in_redis_two_guards_share_what_they_saw(redis_url) -> None:
    one, two = ReplayGuard(redis_url), ReplayGuard(redis_url)
    key = uuid.uuid4().hex
    try:
        assert await one.first_use(key, until=time.time() + 30)
        assert not await two.first_use(key, until=time.time() + 30)
    finally:
        await one.close()
        await two.close()


async def test_an_unreachable_redis_lets_signatures_through_and_says_so(capsys) -> None:
    from gamekeeper.infra.logging import configure_logging

    configure_logging("WARNING")
    guard = ReplayGuard("redis://127.0.0.1:1/0")
    try:
        assert await guard.first_use("k", until=time.time() + 30)
        assert await guard.first_use("k", until=time.time() + 30)
    finally:
        await guard.close()
    out = capsys.readouterr().out
    assert out.count("replay_guard_storage_unavailable") == 1  # once per 30 s, not per call
