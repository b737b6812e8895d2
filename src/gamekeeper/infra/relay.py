"""The outbox relay: takes due deliveries and sends them to webhooks and sinks.

At-least-once: a delivery is marked delivered only after the receiver said so (2xx, or a broker
acknowledgement); a relay killed at any moment leaves its claims to expire and be retried, and a
retried webhook carries the same ``webhook-id``. Each webhook has a lane (``lanes.py``): at most
``per_webhook`` requests in flight, the rest of what a claim took queued behind them (and handed
back if it would wait past half its lease), and a circuit breaker. Claims skip webhooks whose
lane is full or broken, so one slow or dead endpoint never delays the others. Outcomes are
written in batches.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import defaultdict
from collections.abc import Coroutine, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog

from gamekeeper.core import audit
from gamekeeper.core.audit import SYSTEM
from gamekeeper.core.events.policy import DISABLE_AFTER, SUCCESS, next_attempt
from gamekeeper.core.secrets import SecretBox
from gamekeeper.db.database import Database
from gamekeeper.db.events import relay as queries
from gamekeeper.db.events.relay import Job, Outcome
from gamekeeper.infra.http import OutboundFailed, OutboundRefused, SafeHttpClient
from gamekeeper.infra.lanes import Lane
from gamekeeper.infra.metrics import Metrics
from gamekeeper.infra.sinks import Sink
from gamekeeper.infra.webhook_request import build
from gamekeeper.settings import Settings

log = structlog.get_logger(__name__)
RESPONSE_LIMIT = 64 * 1024  # a webhook's answer matters only by its status


@dataclass(frozen=True, slots=True)
class RelayConfig:
    batch_size: int = 200
    max_in_flight: int = 512  # deliveries held at once: sending, queued behind a cap, publishing
    per_webhook: int = 8  # requests in flight to one webhook
    lease: timedelta = timedelta(seconds=60)
    poll_interval: float = 0.5  # between claims when the last one found nothing
    busy_poll_interval: float = 0.05  # between claims while deliveries keep coming
    flush_interval: float = 0.02
    timeout: float = 15.0
    lag_interval: float = 5.0

    @classmethod
    def from_settings(cls, settings: Settings) -> RelayConfig:
        return cls(
            lease=timedelta(seconds=settings.relay_lease_seconds),
            timeout=settings.outbound_timeout,
        )


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
        self._lanes: dict[str, Lane] = {}
        self._held = 0  # deliveries claimed and not yet settled (sending, queued, publishing)
        self._skipped: set[str] = set()  # webhooks the last claim left out for being full
        self._starved = False  # the last round had too few free slots to claim
        self._budget = config.lease.total_seconds() / 2  # longest wait in a lane's queue
        self._low_water = max(1, config.batch_size // 4)  # smallest claim made while busy
        self._secrets: dict[str, str] = {}
        self._stopping = False
        # SQLite has one writer at a time: our claims and outcome batches take turns here
        # instead of meeting in SQLite's busy handler, which sleeps up to 100 ms per retry.
        self._writing = asyncio.Lock() if db.is_sqlite else contextlib.nullcontext()

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
                jobs, want = await self._claim_round()
                if len(jobs) < want or self._starved:
                    # Without wake-ups (no Redis), a steady flow is found within 50 ms, not 0.5 s.
                    pause = self.config.busy_poll_interval if jobs else self.config.poll_interval
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._wake.wait(), pause)
        finally:
            self._stopping = True  # also when the loop ended by an error: the flusher ends too
            for lane in self._lanes.values():
                self._pump(lane)  # hands every queued delivery back
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

    async def run_once(self) -> int:
        """Claim what is due now, deliver it and write the outcomes; return how many were claimed.

        One round of ``run`` driven by hand (tests, tools) and awaited to the end: when it
        returns, every claimed delivery was sent or handed back and its outcome is stored.
        Not for use while ``run`` is running.
        """
        jobs, _ = await self._claim_round()
        while self._tasks:  # a finished delivery may start the next one queued in its lane
            await asyncio.wait(set(self._tasks))
        await self._flush()
        return len(jobs)

    async def _claim_round(self) -> tuple[list[Job], int]:
        """Claim as many due deliveries as there is room for; returns them and that room."""
        free = self.config.max_in_flight - self._held
        want = min(free, self.config.batch_size)
        self._starved = want < self._low_water and self._held > 0
        jobs = await self._claim(want) if want > 0 and not self._starved else []
        return jobs, want

    def _seconds(self) -> float:
        # The database clock, not the loop's: tests that move time move the breakers too.
        return self.db.clock().timestamp()

    async def _claim(self, limit: int) -> list[Job]:
        now = self._seconds()
        batch = self.config.batch_size
        self._skipped = {
            hook
            for hook, lane in self._lanes.items()
            if not lane.wants_more(now, self._budget, batch)
        }
        self.metrics.circuits_open.set(sum(x.circuit.is_open(now) for x in self._lanes.values()))
        try:
            async with self._writing, self.db.transaction() as uow:
                jobs = await queries.claim(
                    uow.conn,
                    now=self.db.clock(),
                    lease=self.config.lease,
                    limit=limit,
                    exclude=self._skipped,
                )
        except Exception:
            log.warning("could not claim deliveries", exc_info=True)
            return []
        self._start(jobs, start_by=now + self._budget)
        return jobs

    def _start(self, jobs: list[Job], *, start_by: float) -> None:
        """Webhook deliveries into their lanes; one task per sink for its share of the batch."""
        self._held += len(jobs)
        by_sink: dict[str, list[Job]] = defaultdict(list)
        lanes: dict[str, Lane] = {}
        for job in jobs:
            if job.webhook is None:
                by_sink[job.sink].append(job)
                continue
            lane = self._lanes.get(job.webhook.id)
            if lane is None:
                lane = Lane(cap=self.config.per_webhook, answer_time=self.config.timeout)
                self._lanes[job.webhook.id] = lane
            lane.queued.append((job, start_by))
            lanes[job.webhook.id] = lane
        for lane in lanes.values():
            self._pump(lane)
        for sink_jobs in by_sink.values():
            self._spawn(self._to_sink(sink_jobs), sink_jobs, None)

    def _pump(self, lane: Lane) -> None:
        """Start queued deliveries while the lane allows; hand back those that cannot wait."""
        now = self._seconds()
        while lane.queued:
            job, start_by = lane.queued[0]
            if self._stopping or now > start_by:
                lane.queued.popleft()
                self._give_back(job, self.db.clock())
            elif lane.circuit.is_open(now):
                lane.queued.popleft()
                self._give_back(job, datetime.fromtimestamp(lane.circuit.open_until, UTC))
            elif lane.may_start(now):
                lane.queued.popleft()
                lane.in_flight += 1
                self._spawn(self._to_webhook(job, lane), [job], lane)
            else:
                break

    def _spawn(self, work: Coroutine[Any, Any, None], jobs: list[Job], lane: Lane | None) -> None:
        task = asyncio.create_task(self._guarded(work, jobs))
        self._tasks.add(task)

        def done(task: asyncio.Task[None]) -> None:
            self._tasks.discard(task)
            self._held -= len(jobs)
            if lane is not None:
                lane.in_flight -= 1
                self._pump(lane)
                self._settled(jobs[0], lane)
            # Wake the claim loop only when this frees something a claim may use; waking on
            # every completion would run a claim per delivery.
            if self._starved and self.config.max_in_flight - self._held >= self._low_water:
                self._starved = False
                self._wake.set()

        task.add_done_callback(done)

    def _settled(self, job: Job, lane: Lane) -> None:
        """A delivery of ``lane`` ended: wake the claim loop if the lane can take more now."""
        assert job.webhook is not None
        hook = job.webhook.id
        if lane.idle:
            del self._lanes[hook]  # an endpoint's counters are not kept once it is quiet
        if hook in self._skipped and (
            lane.held == 0 or lane.wants_more(self._seconds(), self._budget, self.config.batch_size)
        ):
            self._skipped.discard(hook)
            self._wake.set()

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

    async def _to_webhook(self, job: Job, lane: Lane) -> None:
        assert job.webhook is not None
        target = job.webhook
        secret = self._secrets.get(target.sealed_secret)
        if secret is None:
            secret = self.box.open(target.sealed_secret, context=target.id)
            self._secrets[target.sealed_secret] = secret
        body, headers = build(job.event, target.format, secret, self.db.clock())
        started = time.monotonic()
        try:
            response = await self.client.request(
                "POST",
                target.url,
                headers=headers,
                content=body,
                max_bytes=RESPONSE_LIMIT,
                timeout=self.config.timeout,
            )
        except OutboundRefused as exc:
            # Nothing was sent and no retry can change the verdict under these settings.
            self._record(job, ok=False, error=f"refused, not retried: {exc.reason}", final=True)
            return
        except OutboundFailed as exc:
            lane.answered(time.monotonic() - started)
            lane.circuit.failed(self._seconds())
            self._record(job, ok=False, error=str(exc))
            return
        lane.answered(time.monotonic() - started)
        ok = response.status in SUCCESS
        lane.circuit.succeeded() if ok else lane.circuit.failed(self._seconds())
        self._record(
            job, ok=ok, http_status=response.status, error=None if ok else "non-2xx answer"
        )

    def _record(
        self,
        job: Job,
        *,
        ok: bool,
        http_status: int | None = None,
        error: str | None = None,
        final: bool = False,
    ) -> None:
        """Keep the outcome of one attempt; a failure is retried on the schedule unless
        ``final``."""
        now = self.db.clock()
        if ok:
            outcome = Outcome(job, "delivered", now, now, http_status)
            self.metrics.delivery_latency.labels(job.sink).observe(
                max(0.0, (now - job.event.occurred_at).total_seconds())
            )
        else:
            retry_at = None if final else next_attempt(job.attempt, now)
            status = "dead" if retry_at is None else "pending"
            outcome = Outcome(job, status, retry_at or now, now, http_status, error)
        label = {"delivered": "delivered", "pending": "retry", "dead": "dead"}[outcome.status]
        self.metrics.deliveries.labels(job.sink, label).inc()
        self._outcomes.append(outcome)

    def _give_back(self, job: Job, due: datetime) -> None:
        """Release a claimed delivery unsent: due again at ``due``, its attempt not counted."""
        self._held -= 1
        self._outcomes.append(Outcome(job, "pending", due, self.db.clock(), attempted=False))

    async def _flush_forever(self) -> None:
        while not self._stopping:
            await asyncio.sleep(self.config.flush_interval)
            await self._flush()

    async def _flush(self) -> None:
        if not self._outcomes:
            return
        batch, self._outcomes = self._outcomes, []
        failing = {
            o.job.webhook.id
            for o in batch
            if o.job.webhook and o.attempted and o.status != "delivered"
        }
        try:
            async with self._writing, self.db.transaction() as uow:
                await queries.record(uow.conn, batch)
                disabled = await queries.disable_failing(
                    uow.conn, ids=failing, since=self.db.clock() - DISABLE_AFTER
                )
                for webhook_id, owner in disabled:
                    await audit.record(
                        uow, "webhook.disabled", actor=SYSTEM, target_type="webhook",
                        target_id=webhook_id, reason="failing for 5 days", **audit.owned_by(owner),
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
