"""At-least-once through crashes: ``gamekeeper worker`` killed with SIGKILL mid-burst, restarted.

10,000 events are recorded on a fresh PostgreSQL database, then a worker delivers them while the
test kills it at least three times as deliveries come in (condition-based: when the count passes
a mark chosen at random near 1,000, 4,000 and 7,000) and starts a new one. Claims of a killed
worker come back when their lease ends: the workers run with a short one (``LEASE`` seconds,
the ``relay_lease_seconds`` setting) so that a run takes seconds, not minutes.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import secrets
import signal
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from standardwebhooks.webhooks import Webhook as StandardWebhook

from gamekeeper.core.audit import Actor
from gamekeeper.core.events import webhooks
from gamekeeper.core.events.outbox import record_event
from gamekeeper.core.identity import games
from gamekeeper.core.identity.events import GameUpdated
from gamekeeper.core.owners.types import Owner
from gamekeeper.core.secrets import SecretBox
from gamekeeper.db.database import Database
from gamekeeper.db.migrate import upgrade
from gamekeeper.db.tables.events import delivery
from gamekeeper.settings import normalize_database_url
from support.loopback import QuietHandler, serving
from support.processes import clean_env, gamekeeper
from support.required import require_service
from support.waiting import wait_until

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

EVENTS = 10_000
BATCH = 500  # events per transaction
KILL_MARKS = (1_000, 4_000, 7_000)  # a kill happens somewhat after each
LEASE = 6  # seconds a worker owns its claims (default 60)
TIMEOUT = 3  # seconds a receiver has to answer; the lease must be at least twice this
DEADLINE = 240.0  # the whole run, kills and lease expiries included
STREAM_PREFIX = "GKCRASH_"  # this test's streams, deleted at its end
STALE_AFTER = 3600.0  # seconds: a stream of this test older than that was left by an abort
NATS_URL = os.environ.get("GAMEKEEPER_TEST_NATS_URL", "nats://127.0.0.1:4222")
SECRET_KEY = secrets.token_urlsafe(32)  # seals the webhook secret; the worker must share it
ADMIN_TOKEN = "gk_admin_" + secrets.token_urlsafe(24)


# --- The receiver ----------------------------------------------------------------------------


@dataclass
class Arrivals:
    """Every request that reached the receiver: webhook-id, headers, body."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    requests: list[tuple[str, dict[str, str], bytes]] = field(default_factory=list)

    def add(self, headers: dict[str, str], body: bytes) -> None:
        with self.lock:
            self.requests.append((headers["webhook-id"], headers, body))

    def count(self) -> int:
        return len(self.requests)

    def ids(self) -> set[str]:
        with self.lock:
            return {message_id for message_id, _, _ in self.requests}


@contextlib.contextmanager
def _receiver() -> Iterator[tuple[str, Arrivals]]:
    arrivals = Arrivals()

    class Handler(QuietHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            length = int(self.headers.get("content-length", 0))
            body = self.rfile.read(length)
            if len(body) < length:  # the sender died mid-request: nothing was received
                self.close_connection = True
                return
            arrivals.add({k.lower(): v for k, v in self.headers.items()}, body)
            self.reply(200)

    # Quiet errors: connections reset by a killed worker are expected here.
    with serving(Handler, quiet_errors=True) as server:
        yield f"{server.url}/hook", arrivals


# --- The database ----------------------------------------------------------------------------


async def _prepare(url: str, *, webhook_url: str | None, sinks: tuple[str, ...]) -> dict[str, Any]:
    """Migrate, create a game (and its webhook), record the burst; returns ids and the secret."""
    db = Database(url, sinks=sinks)
    try:
        await upgrade(db.engine)
        box, actor = SecretBox(SECRET_KEY), Actor("admin")
        secret = None
        async with db.transaction() as uow:
            game = await games.create_game(uow, name="Crash test", box=box, actor=actor)
            if webhook_url is not None:
                _, secret = await webhooks.create_webhook(
                    uow, owner=Owner.game(game.id), url=webhook_url, box=box, actor=actor
                )
        payload = GameUpdated(game_id=game.id, fields=["name"])
        ids: list[str] = []
        for _ in range(EVENTS // BATCH):
            async with db.transaction() as uow:
                for _ in range(BATCH):
                    recorded = await record_event(
                        uow,
                        "game.updated",
                        payload,
                        owner=Owner.game(game.id),
                        aggregate_id=game.id,
                    )
                    ids.append(recorded.id)
        return {"ids": ids, "secret": secret}
    finally:
        await db.close()


async def _statuses(url: str) -> dict[tuple[str, int], int]:
    """(status, attempts) → number of deliveries."""
    db = Database(url)
    try:
        async with db.transaction(write=False) as uow:
            rows = await uow.conn.execute(
                select(delivery.c.status, delivery.c.attempts, func.count()).group_by(
                    delivery.c.status, delivery.c.attempts
                )
            )
            return {(row[0], row[1]): row[2] for row in rows}
    finally:
        await db.close()


def _delivered(url: str) -> int:
    return sum(n for (status, _), n in asyncio.run(_statuses(url)).items() if status == "delivered")


def _all_delivered(url: str) -> bool:
    return set(asyncio.run(_statuses(url))) <= {("delivered", n) for n in range(1, 9)}


# --- The worker ------------------------------------------------------------------------------


@dataclass
class Workers:
    """``gamekeeper worker`` processes, one at a time; every one is killed at teardown."""

    env: dict[str, str]
    logs: Path
    started: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def current(self) -> subprocess.Popen[bytes]:
        return self.started[-1]

    def start(self) -> None:
        number = len(self.started)
        with (
            (self.logs / f"worker-{number}.out").open("wb") as out,
            (self.logs / f"worker-{number}.err").open("wb") as err,
        ):
            self.started.append(
                subprocess.Popen(
                    [*gamekeeper(), "worker"],
                    env=self.env,
                    stdout=out,
                    stderr=err,
                    start_new_session=True,
                )
            )

    def kill(self) -> None:
        """SIGKILL: no shutdown, in-flight deliveries and unwritten outcomes are lost."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.current.pid, signal.SIGKILL)
        self.current.wait(10)

    def stop(self) -> int:
        """SIGTERM, as an operator stops a worker; its return code."""
        self.current.terminate()
        return self.current.wait(30)

    def alive(self) -> None:
        process = self.current
        if process.poll() is not None:
            err = (self.logs / f"worker-{len(self.started) - 1}.err").read_text()
            pytest.fail(f"the worker exited with {process.returncode}:\n{err[-3000:]}")

    def cleanup(self) -> None:
        for process in self.started:
            if process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait(10)


@pytest.fixture
def workers(fresh_database: str, tmp_path: Path) -> Iterator[Workers]:
    env = clean_env(
        GAMEKEEPER_DATABASE_URL=fresh_database,
        GAMEKEEPER_SECRET_KEY=SECRET_KEY,
        GAMEKEEPER_ADMIN_TOKEN=ADMIN_TOKEN,
        GAMEKEEPER_OUTBOUND_ALLOWED_NETWORKS="127.0.0.0/8",
        GAMEKEEPER_DATA_DIR=str(tmp_path / "data"),
        GAMEKEEPER_LOG_LEVEL="WARNING",
        GAMEKEEPER_RELAY_LEASE_SECONDS=str(LEASE),
        GAMEKEEPER_OUTBOUND_TIMEOUT=str(TIMEOUT),
    )
    pool = Workers(env, tmp_path)
    try:
        yield pool
    finally:
        pool.cleanup()


def _until(
    condition: Callable[[], bool],
    deadline: float,
    workers: Workers,
    what: str,
    every: float = 0.005,
) -> None:
    """Wait for ``condition`` within the run's ``deadline``, failing at once if the worker died."""
    left = deadline - time.monotonic()
    wait_until(condition, what=what, within=left, every=every, check=workers.alive)


def _crash_repeatedly(
    workers: Workers, progress: Callable[[], int], deadline: float, url: str
) -> list[tuple[int, int]]:
    """Start a worker; kill and restart it after each mark.

    Returns, at each kill, (events received, deliveries recorded as delivered): the difference
    went out but the killed worker never wrote so, and will go out again.
    """
    at_kill = []
    workers.start()
    for mark in KILL_MARKS:
        at = mark + random.randrange(500)
        _until(lambda at=at: progress() >= at, deadline, workers, f"{at} deliveries")
        workers.kill()
        at_kill.append((progress(), _delivered(url)))
        workers.start()
    return at_kill


# --- Webhooks --------------------------------------------------------------------------------


def test_webhook_deliveries_survive_a_worker_killed_mid_burst(fresh_database, workers):
    deadline = time.monotonic() + DEADLINE
    url = normalize_database_url(fresh_database)
    with _receiver() as (hook_url, arrivals):
        prepared = asyncio.run(_prepare(url, webhook_url=hook_url, sinks=()))
        recorded: list[str] = prepared["ids"]
        kills = _crash_repeatedly(workers, arrivals.count, deadline, url)
        _until(lambda: len(arrivals.ids()) >= EVENTS, deadline, workers, "every event arrived once")
        # Arrival is not the end: every outcome must be written, or more retries would follow.
        _until(
            lambda: _all_delivered(url), deadline, workers, "every delivery is recorded", every=0.5
        )
        assert workers.stop() == 0
        requests = list(arrivals.requests)
    statuses = asyncio.run(_statuses(url))

    assert {message_id for message_id, _, _ in requests} == set(recorded)
    bodies: dict[str, bytes] = {}
    for message_id, _, body in requests:
        assert bodies.setdefault(message_id, body) == body, "a duplicate changed its body"
    copies = Counter(message_id for message_id, _, _ in requests)
    duplicates = len(requests) - len(copies)
    verifier = StandardWebhook(prepared["secret"])
    sample = [r for r in requests if copies[r[0]] > 1] + random.sample(requests, 200)
    for message_id, headers, body in sample:  # every copy of a duplicate, and 200 others
        assert verifier.verify(body, headers)["id"] == message_id
    assert sum(statuses.values()) == EVENTS
    retried = sum(n for (_, attempts), n in statuses.items() if attempts > 1)
    print(
        f"\n(received, recorded delivered) at each kill: {kills}; {len(requests)} requests for "
        f"{EVENTS} events: {duplicates} duplicates ({max(copies.values())} copies at most); "
        f"{retried} deliveries retried after a lease expired; {len(workers.started)} workers"
    )
    assert len(kills) == len(KILL_MARKS) and retried > 0  # the kills did interrupt deliveries


# --- NATS JetStream --------------------------------------------------------------------------


@pytest.fixture
def nats_url() -> str:
    return require_service("NATS", NATS_URL, 4222)


async def _nats(url: str, action: Callable[[Any], Any]) -> Any:
    import nats

    client = await nats.connect(url)
    try:
        return await action(client.jetstream())
    finally:
        await client.close()


def _stored(url: str, stream: str) -> int:
    async def count(js: Any) -> int:
        from nats.js.errors import NotFoundError

        try:
            return int((await js.stream_info(stream)).state.messages)
        except NotFoundError:
            return 0

    return int(asyncio.run(_nats(url, count)))


def _message_ids(url: str, stream: str) -> list[str]:
    async def read(js: Any) -> list[str]:
        info = await js.stream_info(stream)
        ids = []
        for seq in range(info.state.first_seq, info.state.last_seq + 1):
            message = await js.get_msg(stream, seq)
            ids.append(message.headers["Nats-Msg-Id"])
            assert json.loads(message.data)["id"] == message.headers["Nats-Msg-Id"]
        return ids

    return list(asyncio.run(_nats(url, read)))


def _delete_stale_streams(url: str) -> None:
    """Delete the streams this test left behind when it was interrupted long ago."""

    async def delete(js: Any) -> None:
        for info in await js.streams_info():
            age = (datetime.now(UTC) - info.created).total_seconds() if info.created else 0
            if info.config.name.startswith(STREAM_PREFIX) and age > STALE_AFTER:
                await js.delete_stream(info.config.name)

    asyncio.run(_nats(url, delete))


def test_nats_stores_each_event_once_though_the_worker_is_killed(fresh_database, workers, nats_url):
    url = normalize_database_url(fresh_database)
    run = secrets.token_hex(6)
    stream = f"{STREAM_PREFIX}{run}"
    _delete_stale_streams(nats_url)
    deadline = time.monotonic() + DEADLINE
    workers.env |= {
        "GAMEKEEPER_NATS_URL": nats_url,
        "GAMEKEEPER_NATS_STREAM": stream,
        # Subjects of this run only: other runs on a shared server never claim them.
        "GAMEKEEPER_NATS_SUBJECT_PREFIX": f"gkcrash.{run}",
    }
    try:
        recorded = asyncio.run(_prepare(url, webhook_url=None, sinks=("nats",)))["ids"]
        kills = _crash_repeatedly(workers, lambda: _stored(nats_url, stream), deadline, url)
        _until(
            lambda: _all_delivered(url), deadline, workers, "every delivery is recorded", every=0.5
        )
        assert workers.stop() == 0
        stored = _message_ids(nats_url, stream)
        statuses = asyncio.run(_statuses(url))
    finally:
        with contextlib.suppress(Exception):
            asyncio.run(_nats(nats_url, lambda js: js.delete_stream(stream)))
    assert len(stored) == EVENTS and set(stored) == set(recorded)
    retried = sum(n for (_, attempts), n in statuses.items() if attempts > 1)
    print(
        f"\n(stored, recorded delivered) at each kill: {kills}; {retried} deliveries published "
        "again after their lease ended, each stored once: JetStream dropped the copies"
    )
    assert len(kills) == len(KILL_MARKS) and retried > 0  # the kills did interrupt publishing
    assert sum(statuses.values()) == EVENTS
