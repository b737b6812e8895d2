"""The outbox relay: takes due deliveries and sends them to webhooks and sinks.

At-least-once: a delivery is marked delivered only after the receiver said so (2xx, or a broker
acknowledgement); a relay killed at any moment leaves its claims to expire and be retried, and a
retried webhook carries the same ``webhook-id``. Each webhook has its own concurrency limit and
circuit breaker, and claims skip webhooks that are saturated or broken, so one slow or dead
endpoint never delays the others. Outcomes are written in batches.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import defaultdict
from collections.abc import Coroutine, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import structlog

from gamekeeper.core import audit
from gamekeeper.core.audit import SYSTEM
from gamekeeper.core.events.policy import DISABLE_AFTER, SUCCESS, next_attempt
from gamekeeper.core.identity.secrets import SecretBox
from gamekeeper.db import relay as queries
from gamekeeper.db.database import Database
from gamekeeper.db.relay import Job, Outcome
from gamekeeper.infra.http import OutboundFailed, OutboundRefused, SafeHttpClient
from gamekeeper.infra.metrics import Metrics
from gamekeeper.infra.sinks import Sink
from gamekeeper.infra.webhook_request import build

log = structlog.get_logger(__name__)
RESPONSE_LIMIT = 64 * 1024  # a webhook's answer matters only by its status


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


@dataclass(frozen=True, slots=True)
class RelayConfig:
    batch_size: int = 200
    max_in_flight: int = 512
    per_webhook: int = 8
    lease: timedelta = timedelta(seconds=60)
    poll_interval: float = 0.5
    flush_interval: float = 0.02
    timeout: float = 15.0
    lag_interval: float = 5.0


class Relay:
    def __init__(
        self,
        db: Database,
        *,
        client: SafeHttpClient,
        box: SecretBox,
        metrics: Metrics,
        sinks: Sequence[Sink] = (),
        config: RelayConfig = RelayConfig(),
    ) -> None:
        self.db = db
        self.client = client
        self.box = box
        self.metrics = metrics
        self.sinks = {sink.name: sink for sink in sinks}
        self.config = config
        self._wake = asyncio.Event()
        self._outcomes: list[Outcome] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self._per_webhook: dict[str, int] = defaultdict(int)  # deliveries in flight
        self._circuits: dict[str, Circuit] = defaultdict(Circuit)
        self._secrets: dict[str, str] = {}
        self._stopping = False

    def wake(self) -> None:
        """New deliveries are due: look now rather than at the next poll."""
        self._wake.set()

    async def run(self) -> None:
        """Deliver until ``stop``; then finish what is in flight and write its outcomes."""
        flusher = asyncio.create_task(self._flush_forever(), name="relay-flush")
        lag = asyncio.create_task(self._measure_lag_forever(), name="relay-lag")
        try:
            while not self._stopping:
                # Cleared before claiming: a wake-up during the claim must not be lost.
                self._wake.clear()
                free = self.config.max_in_flight - len(self._tasks)
                want = min(free, self.config.batch_size)
                jobs = await self._claim(want) if want > 0 else []
                self._start(jobs)
                if len(jobs) < want or want == 0:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._wake.wait(), self.config.poll_interval)
        finally:
            self._stopping = True  # also when the loop ended by an error: the flusher ends too
            if self._tasks:
                await asyncio.wait(set(self._tasks), timeout=self.config.timeout + 5)
            lag.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await lag
            # Not cancelled: a flush cut short would lose its batch, and the deliveries in it
            # would be sent again once their lease ends.
            await flusher
            await self._flush()

    def stop(self) -> None:
        self._stopping = True
        self._wake.set()

    def _seconds(self) -> float:
        # The database clock, not the loop's: tests that move time move the breakers too.
        return self.db.clock().timestamp()

    async def _claim(self, limit: int) -> list[Job]:
        now = self._seconds()
        exclude = {hook for hook, n in self._per_webhook.items() if n >= self.config.per_webhook}
        for hook, circuit in self._circuits.items():
            if circuit.is_open(now) or (circuit.half_open(now) and self._per_webhook.get(hook)):
                exclude.add(hook)
        self.metrics.circuits_open.set(sum(c.is_open(now) for c in self._circuits.values()))
        try:
            async with self.db.transaction() as uow:
                return await queries.claim(
                    uow.conn,
                    now=self.db.clock(),
                    lease=self.config.lease,
                    limit=limit,
                    exclude=exclude,
                )
        except Exception:
            log.warning("could not claim deliveries", exc_info=True)
            return []

    def _start(self, jobs: list[Job]) -> None:
        """One task per webhook delivery; one task per sink for its whole share of the batch."""
        by_sink: dict[str, list[Job]] = defaultdict(list)
        for job in jobs:
            if job.webhook is None:
                by_sink[job.sink].append(job)
            else:
                self._per_webhook[job.webhook.id] += 1
                self._spawn(self._to_webhook(job), [job])
        for sink_jobs in by_sink.values():
            self._spawn(self._to_sink(sink_jobs), sink_jobs)

    def _spawn(self, work: Coroutine[Any, Any, None], jobs: list[Job]) -> None:
        task = asyncio.create_task(self._guarded(work, jobs))
        self._tasks.add(task)

        def done(task: asyncio.Task[None]) -> None:
            # Wake the claim loop only when this frees something a claim may use: a slot when
            # all were taken, or a webhook back under its limit (or idle: a half-open probe
            # ended). Waking on every completion would run a claim per delivery.
            freed = len(self._tasks) >= self.config.max_in_flight
            self._tasks.discard(task)
            for job in jobs:
                if job.webhook is not None:
                    left = self._per_webhook[job.webhook.id] - 1
                    self._per_webhook[job.webhook.id] = left
                    if left <= 0:
                        del self._per_webhook[job.webhook.id]
                    freed = freed or left in (0, self.config.per_webhook - 1)
            if freed:
                self._wake.set()

        task.add_done_callback(done)

    async def _guarded(self, work: Coroutine[Any, Any, None], jobs: list[Job]) -> None:
        try:
            await work
        except Exception as exc:  # never lose an outcome: a crash counts as a failed attempt
            log.error("delivery crashed", deliveries=len(jobs), exc_info=True)
            recorded = {o.job.delivery_id for o in self._outcomes}
            for job in jobs:
                if job.delivery_id not in recorded:
                    self._record(job, ok=False, error=f"internal error: {type(exc).__name__}")

    async def _to_sink(self, jobs: list[Job]) -> None:
        sink = self.sinks.get(jobs[0].sink)
        if sink is None:
            for job in jobs:
                self._record(job, ok=False, error=f"sink {job.sink!r} is not configured here")
            return
        errors = await sink.publish([job.event for job in jobs])
        for job, error in zip(jobs, errors, strict=True):
            self._record(job, ok=error is None, error=error)

    async def _to_webhook(self, job: Job) -> None:
        assert job.webhook is not None
        target = job.webhook
        secret = self._secrets.get(target.sealed_secret)
        if secret is None:
            secret = self.box.open(target.sealed_secret, context=target.id)
            self._secrets[target.sealed_secret] = secret
        body, headers = build(job.event, target.format, secret, self.db.clock())
        circuit = self._circuits[target.id]
        try:
            response = await self.client.request(
                "POST",
                target.url,
                headers=headers,
                content=body,
                max_bytes=RESPONSE_LIMIT,
                timeout=self.config.timeout,
            )
        except (OutboundRefused, OutboundFailed) as exc:
            circuit.failed(self._seconds())
            self._record(job, ok=False, error=str(exc))
            return
        ok = response.status in SUCCESS
        circuit.succeeded() if ok else circuit.failed(self._seconds())
        self._record(
            job, ok=ok, http_status=response.status, error=None if ok else "non-2xx answer"
        )

    def _record(
        self, job: Job, *, ok: bool, http_status: int | None = None, error: str | None = None
    ) -> None:
        now = self.db.clock()
        if ok:
            outcome = Outcome(job, "delivered", now, now, http_status)
            self.metrics.delivery_latency.labels(job.sink).observe(
                max(0.0, (now - job.event.occurred_at).total_seconds())
            )
        else:
            retry_at = next_attempt(job.attempt, now)
            status = "dead" if retry_at is None else "pending"
            outcome = Outcome(job, status, retry_at or now, now, http_status, error)
        label = {"delivered": "delivered", "pending": "retry", "dead": "dead"}[outcome.status]
        self.metrics.deliveries.labels(job.sink, label).inc()
        self._outcomes.append(outcome)
        if len(self._outcomes) >= self.config.batch_size:
            self._wake.set()

    async def _flush_forever(self) -> None:
        while not self._stopping:
            await asyncio.sleep(self.config.flush_interval)
            await self._flush()

    async def _flush(self) -> None:
        if not self._outcomes:
            return
        batch, self._outcomes = self._outcomes, []
        failing = {o.job.webhook.id for o in batch if o.job.webhook and o.status != "delivered"}
        try:
            async with self.db.transaction() as uow:
                await queries.record(uow.conn, batch)
                disabled = await queries.disable_failing(
                    uow.conn, ids=failing, since=self.db.clock() - DISABLE_AFTER
                )
                for webhook_id, game_id in disabled:
                    await audit.record(
                        uow, "webhook.disabled", actor=SYSTEM, target_type="webhook",
                        target_id=webhook_id, game_id=game_id, reason="failing for 5 days",
                    )  # fmt: skip
        except Exception:
            # The claims will expire and the deliveries be retried: duplicates, not losses.
            log.warning("could not record delivery outcomes", count=len(batch), exc_info=True)

    async def _measure_lag_forever(self) -> None:
        while True:
            try:
                async with self.db.transaction(write=False) as uow:
                    oldest = await queries.oldest_pending(uow.conn)
                lag = 0.0 if oldest is None else (self.db.clock() - oldest).total_seconds()
                self.metrics.outbox_lag.set(max(0.0, lag))
            except Exception:
                log.warning("could not measure outbox lag", exc_info=True)
            await asyncio.sleep(self.config.lag_interval)
