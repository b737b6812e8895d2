"""Rate limits per category and identity, counted in memory or in a Redis shared by replicas."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from limits import RateLimitItem, parse
from limits.aio.storage import RedisStorage, Storage
from limits.aio.strategies import SlidingWindowCounterRateLimiter
from limits.errors import StorageError

from gamekeeper.infra.logging import get_logger

if TYPE_CHECKING:
    from gamekeeper.infra.metrics import Metrics

__all__ = ["NAMESPACE", "UNLIMITED", "RateDecision", "RateLimiter"]

NAMESPACE = "gk"
# A rate limiter must not slow requests down when Redis is slow: short timeouts, and after a
# failure skip Redis for a while rather than make every request wait for the next timeout.
_REDIS_TIMEOUT = 0.25
_BYPASS_AFTER_ERROR = 5.0
_WARN_EVERY = 30.0

log = get_logger(__name__)


@dataclass(frozen=True, slots=True)
class RateDecision:
    """The answer to one request: allowed or not, and the numbers a client may show."""

    allowed: bool
    limit: int
    remaining: int
    reset_after: int

    def headers(self) -> dict[str, str]:
        """Return the RateLimit-* headers, with Retry-After when refused; none when unlimited."""
        if not self.limit:
            return {}
        headers = {
            "RateLimit-Limit": str(self.limit),
            "RateLimit-Remaining": str(self.remaining),
            "RateLimit-Reset": str(self.reset_after),
        }
        if not self.allowed:
            headers["Retry-After"] = str(self.reset_after)
        return headers


UNLIMITED = RateDecision(allowed=True, limit=0, remaining=0, reset_after=0)


class RateLimiter:
    """Counts requests per (category, identity) against limits such as ``60/minute``."""

    def __init__(
        self,
        limits: Mapping[str, str],
        *,
        redis_url: str | None = None,
        enabled: bool = True,
        metrics: Metrics | None = None,
        namespace: str = NAMESPACE,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.enabled = enabled
        self._items = {category: _parse(category, text) for category, text in limits.items()}
        self._metrics = metrics
        self._memory: MemoryWindows | None = None
        self._storage: Storage | None = None
        self._storage_errors: tuple[type[BaseException], ...] = ()
        if redis_url is None:
            self._memory = MemoryWindows(clock)
        else:
            from coredis.exceptions import ConnectionError as RedisConnectionError
            from coredis.retry import ConstantRetryPolicy

            self._storage = RedisStorage(
                "async+" + redis_url,
                wrap_exceptions=True,
                key_prefix=namespace,
                connect_timeout=_REDIS_TIMEOUT,
                stream_timeout=_REDIS_TIMEOUT,
                # One immediate retry replaces a pooled connection that Redis closed; more
                # retries would only delay the request when Redis is really down.
                retry_policy=ConstantRetryPolicy((RedisConnectionError,), 1, 0.0),  # type: ignore[arg-type]
            )
            self._storage_errors = (StorageError, OSError, *_as_tuple(self._storage))
        # Sliding window counter: two integers per key in either storage, so memory stays flat
        # under a 6000/minute limit, where a moving window keeps one list entry per request.
        # Its count is an estimate (the previous window is weighted linearly), which is fine
        # for abuse protection, and unlike a fixed window it does not allow 2N at a boundary.
        self._strategy = (
            None if self._storage is None else SlidingWindowCounterRateLimiter(self._storage)
        )
        self._bypass_until = 0.0
        self._last_warning = -math.inf

    async def hit(self, category: str, identity: str, cost: int = 1) -> RateDecision:
        """Count ``cost`` requests for ``identity`` and say whether they are allowed."""
        if not self.enabled:
            return UNLIMITED
        item = self._items[category]
        if self._memory is not None:
            return self._memory.hit(item, identity, cost)
        if self._bypass_until and time.monotonic() < self._bypass_until:
            return UNLIMITED
        assert self._strategy is not None
        try:
            allowed = await self._strategy.hit(item, identity, cost=cost)
            stats = await self._strategy.get_window_stats(item, identity)
        except self._storage_errors as exc:
            self._storage_failed(exc)
            return UNLIMITED
        return _decision(allowed, item.amount, stats.remaining, stats.reset_time)

    async def check(self, category: str, identity: str) -> RateDecision:
        """Say whether one more request would be allowed, without counting it."""
        if not self.enabled:
            return UNLIMITED
        item = self._items[category]
        if self._memory is not None:
            return self._memory.check(item, identity)
        if self._bypass_until and time.monotonic() < self._bypass_until:
            return UNLIMITED
        assert self._strategy is not None
        try:
            stats = await self._strategy.get_window_stats(item, identity)
        except self._storage_errors as exc:
            self._storage_failed(exc)
            return UNLIMITED
        return _decision(stats.remaining > 0, item.amount, stats.remaining, stats.reset_time)

    async def clear(self, category: str, identity: str) -> None:
        """Forget what ``identity`` has used in ``category``."""
        item = self._items[category]
        if self._memory is not None:
            self._memory.clear(item, identity)
            return
        assert self._strategy is not None
        try:
            await self._strategy.clear(item, identity)
        except self._storage_errors as exc:
            self._storage_failed(exc)

    async def close(self) -> None:
        """Release connections and timers; call once on shutdown."""
        if isinstance(self._storage, RedisStorage):
            self._storage.bridge.storage.connection_pool.disconnect()  # type: ignore[attr-defined]

    def _storage_failed(self, exc: BaseException) -> None:
        now = time.monotonic()
        self._bypass_until = now + _BYPASS_AFTER_ERROR
        if self._metrics is not None:
            self._metrics.ratelimit_errors.inc()
        if now - self._last_warning >= _WARN_EVERY:
            self._last_warning = now
            log.warning(
                "rate_limit_storage_unavailable",
                error=f"{type(exc).__name__}: {exc}",
                allowing_for_seconds=_BYPASS_AFTER_ERROR,
            )


class MemoryWindows:
    """Sliding-window counters in this process's memory, for embedded mode.

    The arithmetic of ``limits``' sliding window counter (windows aligned on multiples of the
    period; the previous window's count weighted by how much of it still overlaps), in one
    synchronous call per hit whatever the number of keys. ``limits``' memory storage takes
    several awaited calls per hit and starts a task on each that scans every key. Counters
    of windows that have passed are swept once per longest period.
    """

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        # key -> [window index, count in it, count in the window before, period in seconds]
        self._counts: dict[str, list[int]] = {}
        self._next_sweep = 0.0

    def __len__(self) -> int:
        return len(self._counts)

    def hit(self, item: RateLimitItem, identity: str, cost: int = 1) -> RateDecision:
        now = self._clock()
        period = item.get_expiry()
        counts = self._window(item.key_for(identity), period, now)
        allowed = cost <= item.amount and (
            math.floor(_weighted(counts, period, now)) + cost <= item.amount
        )
        if allowed:
            counts[1] += cost
        return self._decide(allowed, item, counts, period, now)

    def check(self, item: RateLimitItem, identity: str) -> RateDecision:
        now = self._clock()
        period = item.get_expiry()
        counts = self._window(item.key_for(identity), period, now)
        return self._decide(None, item, counts, period, now)

    def clear(self, item: RateLimitItem, identity: str) -> None:
        self._counts.pop(item.key_for(identity), None)

    def _window(self, key: str, period: int, now: float) -> list[int]:
        if now >= self._next_sweep:
            self._sweep(now)
        index = int(now // period)
        counts = self._counts.get(key)
        if counts is None or counts[0] < index - 1:
            counts = self._counts[key] = [index, 0, 0, period]
        elif counts[0] == index - 1:
            counts[:] = [index, 0, counts[1], period]
        return counts

    def _sweep(self, now: float) -> None:
        longest = 1
        for key, (index, _, _, period) in list(self._counts.items()):
            longest = max(longest, period)
            if index < int(now // period) - 1:
                del self._counts[key]
        self._next_sweep = now + longest

    @staticmethod
    def _decide(
        allowed: bool | None, item: RateLimitItem, counts: list[int], period: int, now: float
    ) -> RateDecision:
        remaining = max(0, item.amount - math.floor(_weighted(counts, period, now)))
        _, current, previous, _ = counts
        reset_in = math.inf
        if previous:
            reset_in = (period - now % period) % (period / previous)
        if current:
            reset_in = min(reset_in, (2 * period - now % period) % period)
        reset_time = now if reset_in == math.inf else now + reset_in
        if allowed is None:  # a peek: would one more request pass?
            allowed = remaining > 0
        return _decision(allowed, item.amount, remaining, reset_time, now)


def _weighted(counts: list[int], period: int, now: float) -> float:
    _, current, previous, _ = counts
    return previous * (period - now % period) / period + current


def _parse(category: str, text: str) -> RateLimitItem:
    try:
        item = parse(text)
    except ValueError as exc:
        raise ValueError(
            f"rate limit {category!r}: {text!r} is not a rate such as 60/minute"
        ) from exc
    # The category is the key's namespace, so categories never share a counter.
    return type(item)(item.amount, item.multiples, namespace=category)


def _decision(
    allowed: bool, limit: int, remaining: int, reset_time: float, now: float | None = None
) -> RateDecision:
    wait = math.ceil(reset_time - (time.time() if now is None else now))
    return RateDecision(
        allowed=allowed,
        limit=limit,
        remaining=max(0, remaining),
        reset_after=max(0, wait) if allowed else max(1, wait),
    )


def _as_tuple(storage: Storage) -> tuple[type[BaseException], ...]:
    errors = storage.base_exceptions
    return errors if isinstance(errors, tuple) else (errors,)
