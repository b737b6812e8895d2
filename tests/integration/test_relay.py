"""The outbox relay against real storage (SQLite and PostgreSQL) and a receiver on loopback.

The relay runs in the test's event loop; the receivers answer from their own threads, so
waiting on them is done by polling, never by blocking the loop the relay needs. Where a test
must show that nothing more is sent, it drives the relay by hand (``run_once``): when a round
returns, whatever it claimed has been answered, so "nothing more" is a fact, not a wait.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from gamekeeper.core.audit import Actor
from gamekeeper.core.errors import Conflict
from gamekeeper.core.events import webhooks
from gamekeeper.core.events.outbox import record_event
from gamekeeper.core.events.policy import RETRY_DELAYS
from gamekeeper.core.identity import games
from gamekeeper.core.identity.events import GameUpdated
from gamekeeper.core.owners.types import Owner
from gamekeeper.core.secrets import SecretBox
from gamekeeper.db.database import Database
from gamekeeper.db.events import relay as queries
from gamekeeper.db.events.relay import Outcome
from gamekeeper.db.tables.events import delivery, event
from gamekeeper.infra.http import SafeHttpClient
from gamekeeper.infra.lanes import Circuit
from gamekeeper.infra.metrics import Metrics
from gamekeeper.infra.relay import Relay, RelayConfig
from support.loopback import QuietHandler, serving
from support.receiver import receiver
from support.waiting import until

pytestmark = pytest.mark.anyio
ADMIN = Actor("admin")
BOX = SecretBox("relay-test-secret-key-0123456789abcdef")


async def _game_with_webhook(db: Database, url: str) -> str:
    async with db.transaction() as uow:
        game = await games.create_game(uow, name="Relay", box=BOX, actor=ADMIN)
        await webhooks.create_webhook(uow, owner=Owner.game(game.id), url=url, box=BOX, actor=ADMIN)
    return game.id


async def _record(db: Database, game_id: str, count: int = 1) -> list[str]:
    """Record ``count`` game.updated events in one transaction; returns their ids."""
    payload = GameUpdated(game_id=game_id, fields=["name"])
    async with db.transaction() as uow:
        recorded = [
            await record_event(
                uow, "game.updated", payload, owner=Owner.game(game_id), aggregate_id=game_id
            )
            for _ in range(count)
        ]
    return [e.id for e in recorded]


@contextlib.asynccontextmanager
async def _relay(db: Database, config: RelayConfig | None = None) -> AsyncIterator[Relay]:
    """A relay that is not running: the test drives it with ``run_once``."""
    client = SafeHttpClient(allowed_networks=["127.0.0.0/8"])
    try:
        yield Relay(db, client=client, box=BOX, metrics=Metrics(), config=config or RelayConfig())
    finally:
        await client.aclose()


@contextlib.asynccontextmanager
async def _running(db: Database, config: RelayConfig | None = None) -> AsyncIterator[Relay]:
    async with _relay(db, config) as relay:
        task = asyncio.create_task(relay.run())
        try:
            yield relay
        finally:
            relay.stop()
            await task


async def _rows(db: Database, statement) -> list:
    async with db.transaction(write=False) as uow:
        return list(await uow.conn.execute(statement))


def _ids(requests) -> list[str]:
    return [r.headers["webhook-id"] for r in requests]


@pytest.mark.parametrize("failure", [RuntimeError("boom"), Conflict("core error", code="x")])
async def test_an_event_recorded_in_a_rolled_back_transaction_is_never_sent(db, failure):
    with receiver() as hook:
        game = await _game_with_webhook(db, hook.url)
        with pytest.raises(type(failure)):
            async with db.transaction() as uow:
                payload = GameUpdated(game_id=game, fields=["lost"])
                lost = await record_event(
                    uow, "game.updated", payload, owner=Owner.game(game), aggregate_id=game
                )
                raise failure
        assert await _rows(db, select(event.c.id).where(event.c.id == lost.id)) == []
        assert await _rows(db, select(delivery.c.id)) == []
        [sentinel] = await _record(db, game)
        async with _relay(db) as relay:
            assert await relay.run_once() == 1
            assert await relay.run_once() == 0  # nothing else was there to take
    assert _ids(hook.requests) == [sentinel]
    [row] = await _rows(db, select(event.c.id, delivery.c.status).join(event))
    assert tuple(row) == (sentinel, "delivered")


# --- Two relays on one PostgreSQL database ---------------------------------------------------


class InFlight:
    """How many requests are being answered right now, and the most ever seen: per webhook-id
    and in all (``busiest``)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.now: Counter[str] = Counter()
        self.most: Counter[str] = Counter()
        self.arrived: list[str] = []
        self.busiest = 0

    def enter(self, message_id: str) -> None:
        with self.lock:
            self.now[message_id] += 1
            self.most[message_id] = max(self.most[message_id], self.now[message_id])
            self.arrived.append(message_id)
            self.busiest = max(self.busiest, self.now.total())

    def leave(self, message_id: str) -> None:
        with self.lock:
            self.now[message_id] -= 1


@contextlib.contextmanager
def _in_flight_receiver(delay: float) -> Iterator[tuple[str, InFlight]]:
    seen = InFlight()

    class Handler(QuietHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            message_id = self.headers["webhook-id"]
            seen.enter(message_id)
            self.rfile.read(int(self.headers.get("content-length", 0)))
            time.sleep(delay)  # widens the window in which a second copy would overlap
            seen.leave(message_id)
            self.reply(200)

    with serving(Handler) as server:
        yield f"{server.url}/hook", seen


@pytest.mark.postgres
async def test_two_relays_on_one_database_never_send_a_delivery_twice(pg_database_url, clock):
    first, second = Database(pg_database_url, clock=clock), Database(pg_database_url, clock=clock)
    try:
        async with first.transaction() as uow:  # this test alone owns the session's database
            await uow.conn.execute(delivery.delete())
            await uow.conn.execute(event.delete())
        with _in_flight_receiver(delay=0.002) as (url, seen):
            game = await _game_with_webhook(first, url)
            recorded = [i for _ in range(4) for i in await _record(first, game, 500)]
            async with _running(first) as a, _running(second) as b:
                await until(
                    lambda: len(seen.arrived) >= len(recorded), what="all arrived", within=60
                )
            # Both stopped, so what they sent has been answered; and nothing is left to send.
            async with _relay(first) as third:
                assert await third.run_once() == 0
        delivered = await _rows(
            first, select(delivery.c.status, delivery.c.attempts, func.count()).group_by(
                delivery.c.status, delivery.c.attempts
            ),
        )  # fmt: skip
    finally:
        await first.close()
        await second.close()
    assert len(seen.arrived) == len(recorded) == 2000  # no duplicates at all without a crash
    assert set(seen.arrived) == set(recorded)
    assert max(seen.most.values()) == 1
    assert [tuple(row) for row in delivered] == [("delivered", 1, 2000)]
    shares = [_delivered(relay) for relay in (a, b)]
    assert sum(shares) == 2000 and min(shares) > 0, f"one relay did all the work: {shares}"


def _delivered(relay: Relay) -> int:
    labels = {"sink": "webhook", "outcome": "delivered"}
    return int(relay.metrics.registry.get_sample_value("gamekeeper_deliveries_total", labels) or 0)


# --- Leases and fenced outcomes ---------------------------------------------------------------


async def _claim(db: Database, lease: timedelta) -> list[queries.Job]:
    async with db.transaction() as uow:
        return await queries.claim(uow.conn, now=db.clock(), lease=lease, limit=10)


async def test_a_claim_left_by_a_dead_worker_is_sent_again_after_its_lease(db, clock):
    lease = timedelta(seconds=30)
    with receiver() as hook:
        game = await _game_with_webhook(db, hook.url)
        [orphan] = await _record(db, game)
        [dead_claim] = await _claim(db, lease)  # its worker dies before sending or recording
        assert dead_claim.event.id == orphan and dead_claim.attempt == 1
        async with _relay(db, RelayConfig(lease=lease)) as relay:
            [sentinel] = await _record(db, game)
            assert await relay.run_once() == 1
            assert _ids(hook.requests) == [sentinel]  # still leased to the dead worker
            clock.advance(lease.total_seconds() - 1)
            assert await relay.run_once() == 0
            assert _ids(hook.requests) == [sentinel]
            clock.advance(1)
            assert await relay.run_once() == 1
            assert await _is_recorded(db, dead_claim.delivery_id)
    assert _ids(hook.requests) == [sentinel, orphan]  # the same webhook-id a retry would carry
    [row] = await _rows(db, select(delivery).where(delivery.c.id == dead_claim.delivery_id))
    assert (row.status, row.attempts, row.last_status) == ("delivered", 2, 200)


async def _is_recorded(db: Database, delivery_id: str) -> bool:
    [row] = await _rows(db, select(delivery.c.status).where(delivery.c.id == delivery_id))
    return bool(row.status == "delivered")


async def test_an_outcome_of_an_expired_claim_does_not_overwrite_a_newer_attempt(db, clock):
    lease = timedelta(seconds=30)
    game = await _game_with_webhook(db, "http://127.0.0.1:9/never-called")
    await _record(db, game)
    [stale] = await _claim(db, lease)
    clock.advance(lease.total_seconds())
    [current] = await _claim(db, lease)
    assert (current.delivery_id, current.attempt) == (stale.delivery_id, stale.attempt + 1)
    now = clock()

    async def write(outcome: Outcome) -> None:
        async with db.transaction() as uow:
            await queries.record(uow.conn, [outcome])

    retry_at = now + timedelta(minutes=5)
    # The newer attempt failed; then the slow first worker reports success: it must not count.
    await write(Outcome(current, "pending", retry_at, now, http_status=503, error="non-2xx"))
    await write(Outcome(stale, "delivered", now, now, http_status=200))
    [row] = await _rows(db, select(delivery))
    assert (row.status, row.attempts, row.last_status) == ("pending", 2, 503)
    assert row.next_attempt_at == retry_at and row.delivered_at is None
    # Nor may a stale failure undo a newer success.
    clock.advance(timedelta(minutes=5).total_seconds())
    [newest] = await _claim(db, lease)
    assert newest.attempt == 3
    await write(Outcome(newest, "delivered", clock(), clock(), http_status=200))
    await write(Outcome(current, "dead", clock(), clock(), http_status=500, error="late"))
    [row] = await _rows(db, select(delivery))
    assert (row.status, row.attempts, row.last_status) == ("delivered", 3, 200)
    assert await _claim(db, lease) == []


# --- Stopping -------------------------------------------------------------------------------


async def test_a_stopped_relay_records_the_outcome_of_everything_it_sent(db):
    """A graceful stop (a worker restarted) must not leave sent deliveries to be sent again."""
    with _in_flight_receiver(delay=0.001) as (url, seen):
        game = await _game_with_webhook(db, url)
        recorded = await _record(db, game, 400)
        async with _running(db, RelayConfig(batch_size=50, max_in_flight=50)):
            await until(lambda: len(seen.arrived) >= 150, what="150 arrived")
        sent = set(seen.arrived)
    rows = await _rows(db, select(event.c.id, delivery.c.status).join(event))
    status = dict(rows)
    assert set(status) == set(recorded)
    assert {status[event_id] for event_id in sent} == {"delivered"}
    assert len(sent) < len(recorded)  # stopped mid-burst indeed


# --- Per-webhook concurrency ----------------------------------------------------------------


async def test_one_webhook_never_has_more_than_per_webhook_requests_in_flight(db):
    with _in_flight_receiver(delay=0.02) as (url, seen):
        game = await _game_with_webhook(db, url)
        recorded = await _record(db, game, 120)
        # One claim takes all 120; only 4 may be out at once, the rest wait in the relay.
        async with _running(db, RelayConfig(per_webhook=4, batch_size=200)):
            await until(lambda: len(seen.arrived) >= len(recorded), what="all arrived", within=30)
            await until(lambda: _all_recorded(db, len(recorded)), what="all are recorded")
    assert sorted(seen.arrived) == sorted(recorded)
    assert seen.busiest == 4


async def _all_recorded(db: Database, count: int) -> bool:
    rows = await _rows(db, select(delivery.c.status, delivery.c.attempts))
    return len(rows) == count and {tuple(row) for row in rows} == {("delivered", 1)}


async def test_a_delivery_queued_past_half_its_lease_is_handed_back_unsent(db, clock):
    lease = timedelta(seconds=30)
    with _in_flight_receiver(delay=0.5) as (url, seen):
        game = await _game_with_webhook(db, url)
        recorded = await _record(db, game, 3)
        claimed_at = clock()
        config = RelayConfig(per_webhook=1, lease=lease, poll_interval=0.05)
        async with _running(db, config):
            await until(lambda: len(seen.arrived) == 1, what="the first arrived")
            # While the first is answered, the other two wait their turn; half the lease passes.
            clock.advance(lease.total_seconds() / 2 + 1)
            await until(lambda: len(seen.arrived) == 3, what="all three arrived")
            await until(lambda: _all_recorded(db, 3), what="all three are recorded")
    first, *queued = seen.arrived
    assert sorted(seen.arrived) == sorted(recorded)
    rows = await _rows(db, select(event.c.id, delivery.c.last_attempt_at).join(event))
    sent_at = dict(rows)
    # Claimed again after the hand-back (so sent under a fresh lease), one attempt each.
    assert sent_at[first] == claimed_at
    assert all(sent_at[event_id] == clock() for event_id in queued)


async def test_a_stopped_relay_hands_queued_deliveries_back_at_once(db, clock):
    with _in_flight_receiver(delay=0.3) as (url, seen):
        game = await _game_with_webhook(db, url)
        recorded = await _record(db, game, 10)
        async with _running(db, RelayConfig(per_webhook=1)):
            await until(lambda: len(seen.arrived) == 1, what="the first arrived")
        [sent] = seen.arrived
    rows = await _rows(
        db,
        select(event.c.id, delivery.c.status, delivery.c.attempts, delivery.c.next_attempt_at).join(
            event
        ),
    )
    state = {row.id: (row.status, row.attempts) for row in rows}
    assert state.pop(sent) == ("delivered", 1)
    assert set(state) == set(recorded) - {sent}
    assert set(state.values()) == {("pending", 0)}  # not an attempt
    # Due now, not when the lease would have ended: another worker takes them at once.
    assert {row.next_attempt_at for row in rows if row.id != sent} == {clock()}


async def test_an_open_circuit_hands_queued_deliveries_back_until_it_closes(db, clock):
    with receiver(lambda r: setattr(r, "status", 503)) as failing:
        game = await _game_with_webhook(db, failing.url)
        await _record(db, game, 8)
        async with _relay(db, RelayConfig(per_webhook=1)) as relay:
            assert await relay.run_once() == 8  # five sent, the rest handed back unsent
            assert await _pending_counts(db, {0: 3, 1: 5})
            assert await relay.run_once() == 0  # nothing due: retries and the breaker wait
    assert len(failing.requests) == Circuit.threshold  # the breaker opened after five failures
    rows = await _rows(db, select(delivery.c.attempts, delivery.c.next_attempt_at))
    due = {row.attempts: row.next_attempt_at for row in rows}
    assert due[1] == clock() + RETRY_DELAYS[0]  # failed: the retry schedule
    assert due[0] == clock() + timedelta(seconds=Circuit.base_cooldown)  # unsent: the breaker


async def _pending_counts(db: Database, expected: dict[int, int]) -> bool:
    rows = await _rows(
        db,
        select(delivery.c.attempts, func.count())
        .where(delivery.c.status == "pending")
        .group_by(delivery.c.attempts),
    )
    return dict(tuple(row) for row in rows) == expected
