"""The catalog read cache: answers live until the catalog changes, or their time is up."""

from __future__ import annotations

from gamekeeper.infra.readcache import ReadCache
from support.waiting import wait_until


def test_an_answer_is_kept_until_the_catalog_changes():
    cache = ReadCache(ttl=60)
    cache.put("/games?limit=5", b"old", generation=cache.generation)
    assert cache.get("/games?limit=5") == b"old"
    cache.invalidate()
    assert cache.get("/games?limit=5") is None


def test_an_answer_read_before_a_change_is_not_kept():
    cache = ReadCache(ttl=60)
    generation = cache.generation  # the handler starts reading...
    cache.invalidate()  # ...a write commits meanwhile...
    cache.put("/games/1?", b"stale", generation=generation)  # ...and its answer is refused
    assert cache.get("/games/1?") is None


def test_answers_expire_and_the_oldest_go_first_beyond_capacity():
    cache = ReadCache(ttl=0.05, capacity=2)
    for key in ("a", "b", "c"):
        cache.put(key, key.encode(), generation=0)
    assert [cache.get(k) for k in ("a", "b", "c")] == [None, b"b", b"c"]
    wait_until(lambda: cache.get("c") is None, what="the newest answer expired", within=5)


def test_a_zero_ttl_turns_it_off():
    cache = ReadCache(ttl=0)
    cache.put("a", b"a", generation=0)
    assert cache.get("a") is None
