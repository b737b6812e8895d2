"""The push relay: takes due deliveries and sends them through the providers.

At-least-once, as the outbox relay: claims are leased and committed before sending, and a relay
killed at any moment leaves its claims to expire and be sent again with the same delivery id
(APNs ``apns-id``, the message identity elsewhere). Claimed deliveries are grouped by provider
and by the credentials of the device's app, sent in the provider's batch size, and their
outcomes written in batches together with the notifications' new status, the devices found
gone, the events games hear and an audit entry when a provider refuses our credentials.

Each provider has its own cap on deliveries held and a circuit breaker: a provider that keeps
failing is skipped by claims for a cool-down, so one slow or dead provider never delays another.
Expo's tickets are settled by a second kind of claim, of ``sent`` deliveries whose receipt is due;
a receipt still unsettled ``receipt_patience`` after its ticket fails the delivery ("no receipt"):
Expo keeps receipts for a day, so one that has not come by then never will.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter, defaultdict
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, cast

import structlog

from gamekeeper.core import audit
from gamekeeper.core.audit import SYSTEM
from gamekeeper.core.events.outbox import NewEvent, record_events
from gamekeeper.core.notify.devices import token_context
from gamekeeper.core.notify.events import NotificationDelivered, NotificationFailed
from gamekeeper.core.notify.outcomes import KEPT, gone, kind, retry_at, settle
from gamekeeper.core.notify.types import DeliveryStatus, Notification, NotificationStatus
from gamekeeper.core.notify.types import ProviderName as Name
from gamekeeper.core.owners.types import Owner
from gamekeeper.core.secrets import SecretBox
from gamekeeper.db.database import Database, SqlUnitOfWork
from gamekeeper.db.notify import relay as queries
from gamekeeper.db.notify.relay import PushJob, PushOutcome
from gamekeeper.infra.lanes import Circuit
from gamekeeper.infra.metrics import Metrics
from gamekeeper.infra.push.base import Outcome, PushMessage, ReceiptChecker, Verdict
from gamekeeper.infra.push.pool import ProviderPool
from gamekeeper.infra.push.waiters import Verdicts
from gamekeeper.settings import Settings

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class PushConfig:
    batch_size: int = 500
    max_in_flight: int = 2000  # deliveries held at once (sending or waiting for a provider)
    per_provider: int = 2000  # deliveries one provider may hold at once
    lease: timedelta = timedelta(seconds=60)
    receipt_delay: timedelta = timedelta(seconds=15)
    receipt_patience: timedelta = timedelta(days=1)
    poll_interval: float = 0.5
    busy_poll_interval: float = 0.05
    flush_interval: float = 0.02
    depth_interval: float = 5.0

    @classmethod
    def from_settings(cls, settings: Settings) -> PushConfig:
        return cls(
            lease=timedelta(seconds=settings.push_lease_seconds),
            receipt_delay=timedelta(seconds=settings.push_receipt_delay),
        )


class PushRelay:
    def __init__(
        self,
        db: Database,
        *,
        pool: ProviderPool,
        box: SecretBox,
        metrics: Metrics,
        verdicts: Verdicts | None = None,
        config: PushConfig = PushConfig(),
    ) -> None:
        self.db = db
        self.pool = pool
        self.box = box
        self.metrics = metrics
        self.verdicts = verdicts or Verdicts()
        self.config = config
        self._wake = asyncio.Event()
        self._outcomes: list[PushOutcome] = []
        self._refused: set[tuple[str | None, Name]] = set()  # credentials refused since a flush
        self._tasks: set[asyncio.Task[None]] = set()
        self._held: Counter[Name] = Counter()
        self._circuits: dict[Name, Circuit] = defaultdict(Circuit)
        self._stopping = False
        self._writing = asyncio.Lock() if db.is_sqlite else contextlib.nullcontext()

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stopping = True
        self._wake.set()

    async def run(self) -> None:
        """Send until ``stop``; then finish what is in flight and write its outcomes."""
        flusher = asyncio.create_task(self._flush_forever(), name="push-flush")
        depth = asyncio.create_task(self._measure_depth_forever(), name="push-depth")
        try:
            while not self._stopping:
                self._wake.clear()
                claimed = await self._round()
                pause = self.config.busy_poll_interval if claimed else self.config.poll_interval
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), pause)
        finally:
            self._stopping = True
            if self._tasks:
                await asyncio.wait(set(self._tasks), timeout=self.config.lease.total_seconds() / 2)
            depth.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await depth
            await flusher
            await self._flush()

    async def run_once(self) -> int:
        """One round by hand (tests, tools): claim, send, write; how many were claimed."""
        claimed = await self._round()
        while self._tasks:
            await asyncio.wait(set(self._tasks))
        await self._flush()
        return claimed

    async def _round(self) -> int:
        now = self.db.clock().timestamp()
        full = {p for p, held in self._held.items() if held >= self.config.per_provider}
        broken = {p for p, c in self._circuits.items() if c.is_open(now)}
        exclude = {p.value for p in full | broken}
        room = min(self.config.batch_size, self.config.max_in_flight - sum(self._held.values()))
        jobs = await self._claim(room, exclude, receipts=False) if room > 0 else []
        receipts = await self._claim(self.config.batch_size, exclude, receipts=True)
        self._start(jobs, check=False)
        self._start(receipts, check=True)
        return len(jobs) + len(receipts)

    async def _claim(self, limit: int, exclude: set[str], *, receipts: bool) -> list[PushJob]:
        try:
            async with self._writing, self.db.transaction() as uow:
                return await queries.claim(
                    uow.conn,
                    now=self.db.clock(),
                    lease=self.config.lease,
                    limit=limit,
                    exclude=exclude,
                    receipts=receipts,
                )
        except Exception:
            log.warning("could not claim push deliveries", exc_info=True)
            return []

    def _start(self, jobs: list[PushJob], *, check: bool) -> None:
        groups: dict[tuple[Name, str | None], list[PushJob]] = defaultdict(list)
        for job in jobs:
            groups[(job.provider, job.game_id)].append(job)
        for (provider, game_id), group in groups.items():
            self._held[provider] += len(group)
            work = (
                self._check(provider, game_id, group)
                if check
                else self._send(provider, game_id, group)
            )
            task = asyncio.create_task(self._guarded(work, group))
            self._tasks.add(task)

            def done(
                task: asyncio.Task[None], provider: Name = provider, n: int = len(group)
            ) -> None:
                self._tasks.discard(task)
                self._held[provider] -= n

            task.add_done_callback(done)

    async def _guarded(self, work: Any, jobs: list[PushJob]) -> None:
        try:
            await work
        except Exception as exc:  # never lose an outcome: a crash counts as a failed attempt
            log.error("push delivery crashed", deliveries=len(jobs), exc_info=True)
            recorded = {o.job.delivery_id for o in self._outcomes}
            for job in jobs:
                if job.delivery_id not in recorded:
                    self._record(
                        job, Verdict(Outcome.RETRY, f"internal error: {type(exc).__name__}")
                    )

    async def _send(self, provider: Name, game_id: str | None, jobs: list[PushJob]) -> None:
        client = await self.pool.get(provider, game_id)
        ready: list[tuple[PushJob, PushMessage]] = []
        for job in jobs:
            if job.token_sealed is None or job.token_hash is None:
                self._record(job, Verdict(Outcome.FAILED, "device removed"))
            elif client is None:
                self._record(job, Verdict(Outcome.FAILED, f"{provider.value} is not configured"))
            else:
                token = self.box.open(job.token_sealed, context=token_context(job.token_hash))
                ready.append((job, _message(job, token)))
        if client is None or not ready:
            return
        for start in range(0, len(ready), client.max_batch):
            chunk = ready[start : start + client.max_batch]
            verdicts = await client.send([message for _, message in chunk])
            for (job, _), verdict in zip(chunk, verdicts, strict=True):
                self._record(job, verdict)

    async def _check(self, provider: Name, game_id: str | None, jobs: list[PushJob]) -> None:
        client = await self.pool.get(provider, game_id)
        if client is None or not hasattr(client, "check_receipts"):
            for job in jobs:
                self._record(job, Verdict(Outcome.FAILED, f"{provider.value} is not configured"))
            return
        checker = cast(ReceiptChecker, client)
        settled = await checker.check_receipts([job.receipt or "" for job in jobs])
        now = self.db.clock()
        for job in jobs:
            verdict = settled.get(job.receipt or "")
            ticket_at = job.last_attempt_at or job.notification.created_at
            if verdict is None and now - ticket_at > self.config.receipt_patience:
                verdict = Verdict(Outcome.FAILED, "no receipt")
            if verdict is None:  # not settled yet: ask again later
                self._give_back(job, now + self.config.receipt_delay)
            else:
                self._record(job, verdict)

    def _record(self, job: PushJob, verdict: Verdict) -> None:
        now = self.db.clock()
        status, due, is_gone = DeliveryStatus.FAILED, now, False
        if verdict.outcome is Outcome.DELIVERED:
            status = DeliveryStatus.DELIVERED
        elif verdict.outcome is Outcome.SENT:
            status, due = DeliveryStatus.SENT, now + self.config.receipt_delay
        elif verdict.outcome is Outcome.RETRY:
            later = retry_at(
                job.attempt - 1 if job.check else job.attempt,  # a check is no attempt
                now,
                retry_after=verdict.retry_after,
                expires_at=_expiry(job.notification),
            )
            if later is not None:
                status, due = DeliveryStatus.PENDING, later
        elif verdict.outcome is Outcome.DEVICE_GONE:
            is_gone = True
        elif verdict.outcome is Outcome.CREDENTIAL_ERROR:
            self._refused.add((job.game_id, job.provider))
        circuit = self._circuits[job.provider]
        if verdict.outcome is Outcome.RETRY:
            circuit.failed(now.timestamp())
        elif verdict.status is not None:
            circuit.succeeded()
        if not job.check:  # a provider's answer to a send (not to a receipt check)
            age = (now - job.notification.created_at).total_seconds()
            self.metrics.push_latency.labels(job.provider.value).observe(max(0.0, age))
        self.metrics.push_deliveries.labels(job.provider.value, verdict.outcome.value).inc()
        error = verdict.reason or None
        if is_gone:  # the detail says the device is gone, and why
            error = gone(error)
        self._outcomes.append(
            PushOutcome(
                job, status, due, now, verdict.status, error,
                receipt=verdict.receipt, device_gone=is_gone,
            )
        )  # fmt: skip

    def _give_back(self, job: PushJob, due: datetime) -> None:
        self.metrics.push_deliveries.labels(job.provider.value, "postponed").inc()
        self._outcomes.append(
            PushOutcome(job, DeliveryStatus.SENT, due, self.db.clock(), attempted=False)
        )

    async def _measure_depth_forever(self) -> None:
        while True:
            try:
                async with self.db.transaction(write=False) as uow:
                    self.metrics.push_queue.set(await queries.queue_depth(uow.conn))
            except Exception:
                log.warning("could not measure the push queue", exc_info=True)
            await asyncio.sleep(self.config.depth_interval)

    async def _flush_forever(self) -> None:
        while not self._stopping:
            await asyncio.sleep(self.config.flush_interval)
            await self._flush()

    async def _flush(self) -> None:
        if not self._outcomes:
            return
        batch, self._outcomes = self._outcomes, []
        refused, self._refused = self._refused, set()
        try:
            async with self._writing, self.db.transaction() as uow:
                await queries.record(uow.conn, batch)
                await self._settle(uow, batch)
                for game_id, provider in refused:  # a game's own, or the deployment's defaults
                    await audit.record(
                        uow, "push.credentials_refused", actor=SYSTEM,
                        target_type="game" if game_id else "deployment", target_id=game_id,
                        game_id=game_id, provider=provider.value,
                    )  # fmt: skip
        except Exception:
            # The claims will expire and the deliveries be sent again: duplicates, not losses.
            log.warning("could not record push outcomes", count=len(batch), exc_info=True)
            return
        self.verdicts.settled({o.job.notification.id for o in batch if o.attempted})

    async def _settle(self, uow: SqlUnitOfWork, batch: list[PushOutcome]) -> None:
        """Bring each touched notification's status in line with its deliveries."""
        notes = await queries.notifications(uow.conn, {o.job.notification.id for o in batch})
        # Delivered and read stay so: a fan-out counts its deliveries only until one arrives.
        open_ = [note for note in notes.values() if note.status not in KEPT]
        counts = await queries.counts(uow.conn, [n.id for n in open_]) if open_ else {}
        changed: list[Notification] = []
        for note in open_:
            status, _ = settle(note.status, counts.get(note.id, {}))
            if status is note.status:
                continue
            reason = None
            if status is NotificationStatus.FAILED:  # why, over all its deliveries
                errors = await queries.failures(uow.conn, note.id)
                _, reason = settle(status, {}, (kind(e) for e in errors.elements()))
            at = uow.now()
            reached = status in (NotificationStatus.SENT, NotificationStatus.DELIVERED)
            changed.append(
                replace(
                    note, status=status, reason=reason,
                    sent_at=(note.sent_at or at) if reached else note.sent_at,
                    delivered_at=at if status is NotificationStatus.DELIVERED else None,
                )
            )  # fmt: skip
        await queries.set_statuses(uow.conn, changed)
        announced = [event for note in changed if (event := _announcement(note)) is not None]
        if announced:
            await record_events(uow, announced)


def _announcement(note: Notification) -> NewEvent | None:
    """What the game hears of a notification that reached a final status."""
    owner = Owner.game(note.game_id)
    if note.status is NotificationStatus.DELIVERED:
        assert note.delivered_at is not None
        delivered = NotificationDelivered(
            notification_id=note.id, game_user_id=note.game_user_id, type=note.content.type,
            delivered_at=note.delivered_at.isoformat(),
        )  # fmt: skip
        return NewEvent("notification.delivered", delivered, owner, note.id)
    if note.status is NotificationStatus.FAILED:
        failed = NotificationFailed(
            notification_id=note.id, game_user_id=note.game_user_id, type=note.content.type,
            reason=note.reason or "failed",
        )  # fmt: skip
        return NewEvent("notification.failed", failed, owner, note.id)
    return None


def _expiry(note: Notification) -> datetime | None:
    ttl = note.content.ttl
    return None if ttl is None else note.created_at + timedelta(seconds=ttl)


def _message(job: PushJob, token: str) -> PushMessage:
    content = job.notification.content
    return PushMessage(
        delivery_id=job.delivery_id,
        token=token,
        title=content.title,
        body=content.body,
        type=content.type,
        notification_id=job.notification.id,
        data=content.data,
        deep_link=content.deep_link,
        ttl=content.ttl,
        collapse_key=content.collapse_key,
        priority=content.priority.value,
    )
