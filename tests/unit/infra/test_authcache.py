"""The credential cache: expiry, invalidation by tag, and no stale writes after invalidation."""

from __future__ import annotations

from gamekeeper.infra.authcache import AuthCache


class Ticks:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_entries_expire_and_are_invalidated_by_tag():
    ticks = Ticks()
    cache = AuthCache(10, clock=ticks)
    cache.put("key:a", "A", tag="credential:1", generation=cache.generation)
    cache.put("key:b", "B", tag="credential:2", generation=cache.generation)
    assert cache.get("key:a") == "A"
    cache.invalidate("credential:1")
    assert cache.get("key:a") is None and cache.get("key:b") == "B"
    ticks.now = 10.0
    assert cache.get("key:b") is None and len(cache) == 0


def test_a_value_read_before_an_invalidation_is_not_cached_after_it():
    cache = AuthCache(10)
    generation = cache.generation  # a request starts reading from the database...
    cache.invalidate("credential:1")  # ...the key is revoked meanwhile...
    cache.put("key:a", "stale", tag="credential:1", generation=generation)
    assert cache.get("key:a") is None  # ...and the stale read is not kept


def test_size_is_bounded_oldest_first():
    cache = AuthCache(10, max_entries=2)
    for name in "abc":
        cache.put(name, name, tag=name, generation=cache.generation)
    assert cache.get("a") is None and cache.get("c") == "c" and len(cache) == 2


def test_zero_ttl_disables_caching():
    cache = AuthCache(0)
    cache.put("a", "A", tag="t", generation=cache.generation)
    assert cache.get("a") is None
