"""Signatures seen once: refusing a second use of an OGP request signature.

The OGP signature covers method, path and timestamp only, so whoever saw one request could send
another body or query under it while the timestamp is fresh. The guard remembers each
signature of a state-changing request until its timestamp leaves the window: in this process's
memory (embedded mode) or in the Redis the replicas share (``SET NX`` with an expiry), so a
signature used on one replica is refused on the others.

If Redis cannot be reached, signatures are let through (and a warning logged, at most every
30 s), as the rate limiter does: an outage of the cache must not stop every signed write.
"""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Callable

from redis.asyncio import Redis
from redis.exceptions import RedisError

from gamekeeper.infra.logging import get_logger

__all__ = ["ReplayGuard"]

log = get_logger(__name__)
_PREFIX = "gk:seen:"
_REDIS_TIMEOUT = 0.25
_WARN_EVERY = 30.0


class ReplayGuard:
    """``first_use(key, until)``: True the first time ``key`` is seen before ``until``."""

    def __init__(
        self, redis_url: str | None = None, *, clock: Callable[[], float] = time.time
    ) -> None:
        self._clock = clock
        self._seen: dict[bytes, float] = {}  # digest -> until (seconds since 1970)
        self._next_sweep = 0.0
        self._last_warning = -math.inf
        self._redis: Redis | None = None
        if redis_url is not None:
            self._redis = Redis.from_url(
                redis_url,
                socket_timeout=_REDIS_TIMEOUT,
                socket_connect_timeout=_REDIS_TIMEOUT,
            )

    async def first_use(self, key: str, *, until: float) -> bool:
        """Record ``key`` as used until ``until``; False if it was already recorded."""
        digest = hashlib.sha256(key.encode()).digest()[:16]
        now = self._clock()
        if self._redis is None:
            return self._remember(digest, now, until)
        milliseconds = max(1, math.ceil((until - now) * 1000))
        try:
            created = await self._redis.set(_PREFIX + digest.hex(), b"1", nx=True, px=milliseconds)
        except (RedisError, OSError) as exc:
            self._failed(exc)
            return True
        return bool(created)

    async def close(self) -> None:
        if self._redis is not None:
            await self._redis.aclose()

    def _remember(self, digest: bytes, now: float, until: float) -> bool:
        if now >= self._next_sweep:
            self._seen = {k: v for k, v in self._seen.items() if v > now}
            self._next_sweep = now + 60
        seen = self._seen.get(digest)
        if seen is not None and seen > now:
            return False
        self._seen[digest] = until
        return True

    def _failed(self, exc: BaseException) -> None:
        now = time.monotonic()
        if now - self._last_warning >= _WARN_EVERY:
            self._last_warning = now
            log.warning("replay_guard_storage_unavailable", error=f"{type(exc).__name__}: {exc}")
