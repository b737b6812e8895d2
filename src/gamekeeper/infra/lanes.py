"""One webhook's share of a relay: its concurrency cap, its queue, its circuit breaker.

A claim takes due deliveries of many webhooks at once and cannot take "at most n of each", so a
claimed delivery that finds its webhook at the cap waits in the lane's queue. It waits only
while at least half its lease is left: past that it is handed back (a postponed attempt), since
a delivery sent after its lease ended may be claimed and sent by another worker at the same
time. How many deliveries a lane may hold follows how fast the endpoint answers, so that what is
queued drains well within half a lease: a slow endpoint holds few, a fast one a whole batch.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from gamekeeper.db.events.relay import Job

_SMOOTHING = 0.2  # weight of the newest answer time in the moving average
_FASTEST = 0.001  # seconds: answer times below this are taken as this


@dataclass
class Circuit:
    """Consecutive failures of one endpoint; open (skipped) for a cool-down after too many."""

    failures: int = 0
    open_until: float = 0.0

    threshold = 5
    base_cooldown = 10.0
    max_cooldown = 300.0

    def succeeded(self) -> None:
        self.failures = 0
        self.open_until = 0.0

    def failed(self, now: float) -> None:
        self.failures += 1
        if self.failures >= self.threshold:
            extra = self.failures - self.threshold
            cooldown = min(self.max_cooldown, self.base_cooldown * 2 ** min(extra, 10))
            self.open_until = now + cooldown

    def is_open(self, now: float) -> bool:
        return now < self.open_until

    def half_open(self, now: float) -> bool:
        """Past the cool-down after failures: let a single probe through."""
        return self.failures >= self.threshold and not self.is_open(now)


@dataclass
class Lane:
    """Deliveries of one webhook held by this relay: in flight (≤ ``cap``) and queued."""

    cap: int
    answer_time: float  # seconds, moving average; starts pessimistic (the request timeout)
    in_flight: int = 0
    queued: deque[tuple[Job, float]] = field(default_factory=deque)  # (job, start by)
    circuit: Circuit = field(default_factory=Circuit)

    @property
    def held(self) -> int:
        return self.in_flight + len(self.queued)

    @property
    def idle(self) -> bool:
        """Nothing held and nothing to remember: the relay may forget this lane."""
        return self.held == 0 and self.circuit.failures == 0

    def limit(self, budget: float, batch: int) -> int:
        """How many deliveries this lane may hold before claims skip it.

        ``budget``: seconds a queued delivery may wait (half a lease); ``batch``: a claim's size.
        """
        drains = self.cap * budget / max(self.answer_time, _FASTEST)
        return self.cap + min(batch, int(drains))

    def may_start(self, now: float) -> bool:
        """Under the cap, and not probing a half-open circuit with a request already out."""
        if self.circuit.half_open(now):
            return self.in_flight == 0
        return self.in_flight < self.cap and not self.circuit.is_open(now)

    def answered(self, seconds: float) -> None:
        self.answer_time += _SMOOTHING * (seconds - self.answer_time)

    def wants_more(self, now: float, budget: float, batch: int) -> bool:
        """Whether a claim may bring this lane more deliveries."""
        if self.circuit.is_open(now) or (self.circuit.half_open(now) and self.held):
            return False
        return self.held < self.limit(budget, batch)
