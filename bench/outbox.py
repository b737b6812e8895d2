"""Outbox: events recorded → delivered to a webhook on loopback, by one ``gamekeeper worker``.

Two measurements on a throwaway database (SQLite file, or a new PostgreSQL database):

- throughput: ``--events`` events are recorded up front (500 per transaction, through the
  core's ``record_event``), then one worker process starts; deliveries per second from the first
  arrival to the last. Target on PostgreSQL: >= 2,000/s.
- latency: events at a steady ``--rate`` for ``--duration`` seconds while the worker runs
  (``--per-transaction`` to a commit, 5 by default: one commit every 10 ms at 500/s); arrival
  time at the receiver minus the event's ``occurred_at`` (both the wall clock of this machine).
  Target: p99 < 1 s at 500 events/s. Also reported from the end of each commit, which leaves
  out the recorder's own transaction (slow when the machine is busy; the relay cannot see an
  event before its commit).

The receiver is a separate process (asyncio + httptools, HTTP/1.1 keep-alive) answering 200 at
once and noting the first arrival of each ``webhook-id``.

    python bench/outbox.py [--database sqlite|postgres] [--events 20000] [--rate 500]
                           [--duration 20] [--per-transaction 5] [--redis-url URL]
                           [--postgres-url URL] [--json] [--worker-command CMD]

``--worker-command`` runs something else in the worker's place, with the same environment: a
profiler around it (``"py-spy record -o relay.svg -- gamekeeper worker"``) or a variant.
``--redis-url`` wakes the worker through Redis on every commit, as ``serve`` replicas do in a
cluster; without it the worker finds new events by polling (every 0.5 s when idle). The exit
status is 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import platform
import secrets
import shlex
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx

THROUGHPUT_TARGET = 2_000.0  # deliveries/s, PostgreSQL, one worker
P99_TARGET = 1.0  # seconds, at 500 events/s
BATCH = 500
RECORDER_POOL = 20  # database connections of the recording side (one on SQLite, see Store)
SECRET_KEY = secrets.token_urlsafe(32)
ADMIN_TOKEN = "gk_admin_" + secrets.token_urlsafe(24)
DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/postgres"


# --- the receiver, in its own process ---------------------------------------------------------


def serve_receiver(port: int) -> None:
    """Answer every POST with 200 and note the first arrival of each webhook-id.

    ``GET /count`` answers ``{"requests": n, "unique": n}``; ``GET /arrivals`` the first arrival
    (Unix time) of each id; ``GET /reset`` forgets everything.
    """
    import httptools

    first: dict[str, float] = {}
    totals = {"requests": 0}
    ok = b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n"

    def answer(transport: Any, path: bytes) -> None:
        if path == b"/reset":
            first.clear()
            totals["requests"] = 0
        body = json.dumps(
            first
            if path == b"/arrivals"
            else {"requests": totals["requests"], "unique": len(first)}
        ).encode()
        head = f"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {len(body)}"
        transport.write(head.encode() + b"\r\n\r\n" + body)

    class Connection(asyncio.Protocol):
        def __init__(self) -> None:
            self.parser = httptools.HttpRequestParser(self)
            self.transport: Any = None
            self.message_id: str | None = None
            self.path = b""

        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            self.transport = transport  # uvloop's transports are not asyncio.Transport

        def data_received(self, data: bytes) -> None:
            try:
                self.parser.feed_data(data)
            except httptools.HttpParserError:
                self.transport.close()

        def on_message_begin(self) -> None:
            self.message_id, self.path = None, b""

        def on_url(self, url: bytes) -> None:
            self.path += url

        def on_header(self, name: bytes, value: bytes) -> None:
            if name.lower() == b"webhook-id":
                self.message_id = value.decode()

        def on_message_complete(self) -> None:
            arrived = time.time()
            if self.parser.get_method() == b"GET":
                answer(self.transport, self.path)
            else:
                totals["requests"] += 1
                if self.message_id is not None:
                    first.setdefault(self.message_id, arrived)
                self.transport.write(ok)
            if not self.parser.should_keep_alive():
                self.transport.close()

    async def main() -> None:
        server = await asyncio.get_running_loop().create_server(
            Connection, "127.0.0.1", port, backlog=4096
        )
        async with server:
            await server.serve_forever()

    with contextlib.suppress(ImportError):
        import uvloop

        uvloop.install()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main())


@dataclass
class Process:
    """A child process started by the benchmark, stopped (and reaped) by it."""

    proc: subprocess.Popen[bytes]

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def _spawn(argv: list[str], env: dict[str, str] | None = None) -> Process:
    # Output to stderr: --json leaves stdout to the result alone.
    return Process(subprocess.Popen(argv, env=env, stdout=sys.stderr))


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


async def _wait_listening(url: str) -> None:
    deadline = time.monotonic() + 20
    async with httpx.AsyncClient() as client:
        while True:
            with contextlib.suppress(httpx.TransportError):
                await client.get(url + "/count")
                return
            if time.monotonic() > deadline:
                raise RuntimeError("the receiver did not start")
            await asyncio.sleep(0.05)


# --- the database -----------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def throwaway_database(kind: str, postgres_url: str) -> AsyncIterator[dict[str, str]]:
    """The worker's ``GAMEKEEPER_*`` database settings, for a database removed afterwards."""
    if kind == "sqlite":
        with tempfile.TemporaryDirectory(prefix="gk-bench-outbox-") as data_dir:
            yield {"GAMEKEEPER_DATA_DIR": data_dir}
        return
    import asyncpg

    parts = urlsplit(postgres_url)
    admin_dsn = urlunsplit(parts._replace(scheme="postgresql"))
    name = "gk_bench_outbox_" + secrets.token_hex(6)
    conn = await asyncpg.connect(admin_dsn)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
        try:
            url = urlunsplit(parts._replace(scheme="postgresql", path="/" + name))
            with tempfile.TemporaryDirectory(prefix="gk-bench-outbox-") as data_dir:
                yield {"GAMEKEEPER_DATABASE_URL": url, "GAMEKEEPER_DATA_DIR": data_dir}
        finally:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


class Store:
    """This process's side: provisioning and recording through the core, as a server would."""

    def __init__(self, settings_env: dict[str, str], redis_url: str | None) -> None:
        from gamekeeper.core.audit import Actor
        from gamekeeper.core.secrets import SecretBox
        from gamekeeper.db.database import Database
        from gamekeeper.infra.pubsub import PubSub, RedisPubSub
        from gamekeeper.settings import load_settings

        env = {**settings_env, "GAMEKEEPER_SECRET_KEY": SECRET_KEY}
        settings = load_settings(env={**env, "GAMEKEEPER_ADMIN_TOKEN": ADMIN_TOKEN})
        self.pubsub: PubSub | None = RedisPubSub(redis_url) if redis_url else None
        # SQLite takes one writer at a time: twenty of the recorder's, waiting in SQLite's busy
        # handler, would starve the worker's claims rather than deliver anything sooner.
        self.writers = 1 if settings.embedded else RECORDER_POOL
        self.db = Database(settings.sqlalchemy_url, pool_size=self.writers, on_commit=self._wake)
        self.box = SecretBox(SECRET_KEY)
        self.actor = Actor("admin")
        self.game_id = ""

    async def _wake(self, events: list[Any]) -> None:
        """What ``serve`` does after a commit that recorded deliveries: wake the workers."""
        from gamekeeper.core.events.events import OutboxRecorded
        from gamekeeper.runtime import WAKE_TOPIC

        if self.pubsub is not None and any(isinstance(e, OutboxRecorded) for e in events):
            await self.pubsub.publish(WAKE_TOPIC, b"")

    async def setup(self, webhook_url: str) -> None:
        from gamekeeper.core.events import webhooks
        from gamekeeper.core.identity import games
        from gamekeeper.core.owners.types import Owner
        from gamekeeper.db.migrate import upgrade

        await upgrade(self.db.engine)
        if self.pubsub is not None:
            await self.pubsub.start()
        async with self.db.transaction() as uow:
            game = await games.create_game(uow, name="Bench", box=self.box, actor=self.actor)
            await webhooks.create_webhook(
                uow, owner=Owner.game(game.id), url=webhook_url, box=self.box, actor=self.actor
            )
        self.game_id = game.id

    async def record(self, count: int) -> list[tuple[str, float]]:
        """Record ``count`` events in one transaction: (id, occurred_at as Unix time)."""
        from gamekeeper.core.events.outbox import record_event
        from gamekeeper.core.identity.events import GameUpdated
        from gamekeeper.core.owners.types import Owner

        payload = GameUpdated(game_id=self.game_id, fields=["name"])
        owner = Owner.game(self.game_id)
        async with self.db.transaction() as uow:
            events = [
                await record_event(
                    uow, "game.updated", payload, owner=owner, aggregate_id=self.game_id
                )
                for _ in range(count)
            ]
        return [(e.id, e.occurred_at.timestamp()) for e in events]

    async def pending(self) -> int:
        from sqlalchemy import func, select

        from gamekeeper.db.tables.events import delivery

        async with self.db.transaction(write=False) as uow:
            statement = select(func.count()).where(delivery.c.status != "delivered")
            return int((await uow.conn.execute(statement)).scalar_one())

    async def close(self) -> None:
        if self.pubsub is not None:
            await self.pubsub.close()
        await self.db.close()


async def _until_empty(store: Store, within: float = 120) -> None:
    """Until every outcome is written: the next run starts on an empty outbox."""
    deadline = time.monotonic() + within
    while await store.pending():
        if time.monotonic() > deadline:
            raise RuntimeError(f"deliveries still pending after {within:.0f} s")
        await asyncio.sleep(0.1)


# --- the measurements -------------------------------------------------------------------------


@dataclass
class Result:
    database: str
    events: int
    record_per_s: float  # events recorded per second up front (500 per transaction)
    deliveries_per_s: float
    throughput_target: float
    throughput_duplicates: int
    worker_us_per_delivery: float  # CPU the worker spent per delivery
    worker_cores: float  # share of a core the worker used while delivering
    machine_cores: float  # cores busy on the machine meanwhile (everything, ours included)
    rate: float  # events/s asked for in the latency run
    rate_achieved: float
    per_transaction: int  # events per commit in the latency run
    redis_wake: bool  # the worker was woken through Redis on each commit (else it polled)
    latency_events: int
    p50_s: float
    p99_s: float
    max_s: float
    p50_after_commit_s: float  # from the end of the commit to arrival
    p99_after_commit_s: float
    p99_target: float
    latency_duplicates: int
    cpus: int
    python: str
    machine: str


async def _count(client: httpx.AsyncClient) -> dict[str, int]:
    response = await client.get("/count")
    return dict(response.json())


async def _until_arrived(client: httpx.AsyncClient, ids: set[str], within: float) -> None:
    deadline = time.monotonic() + within
    while (await _count(client))["unique"] < len(ids):
        if time.monotonic() > deadline:
            got = (await _count(client))["unique"]
            raise RuntimeError(f"only {got} of {len(ids)} events arrived within {within:.0f} s")
        await asyncio.sleep(0.05)


@dataclass(frozen=True)
class Cpu:
    """CPU seconds so far (Linux /proc): one process's, and all CPUs' busy time."""

    process: float
    machine: float
    at: float

    @classmethod
    def read(cls, pid: int) -> Cpu:
        tick = os.sysconf("SC_CLK_TCK")
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
            cpu = [int(x) for x in Path("/proc/stat").read_text().split(maxsplit=9)[1:9]]
        except (OSError, ValueError):
            return cls(math.nan, math.nan, time.monotonic())
        return cls(
            process=(int(fields[11]) + int(fields[12])) / tick,  # utime + stime
            machine=(sum(cpu) - cpu[3] - cpu[4]) / tick,  # all but idle and iowait
            at=time.monotonic(),
        )


@dataclass(frozen=True)
class Throughput:
    recorded_per_s: float
    delivered_per_s: float
    duplicates: int
    worker_us: float  # worker CPU per delivery, microseconds
    worker_cores: float  # share of one core the worker used while delivering
    machine_cores: float  # cores busy on the whole machine meanwhile


async def measure_throughput(
    store: Store, client: httpx.AsyncClient, start_worker: Any, events: int
) -> Throughput:
    """Record ``events`` up front, then start the worker and time the deliveries."""
    started = time.monotonic()
    ids: set[str] = set()
    for offset in range(0, events, BATCH):
        ids.update(i for i, _ in await store.record(min(BATCH, events - offset)))
    recorded_per_s = events / (time.monotonic() - started)
    worker = start_worker()
    deadline = time.monotonic() + 600
    first: tuple[Cpu, int] | None = None
    while (unique := (await _count(client))["unique"]) < len(ids):
        if first is None and unique:  # CPU from the first delivery on: startup left out
            first = (Cpu.read(worker.proc.pid), unique)
        if time.monotonic() > deadline:
            raise RuntimeError(f"only {unique} of {len(ids)} events arrived within 600 s")
        await asyncio.sleep(0.02)
    last = Cpu.read(worker.proc.pid)
    (cpu, done) = first or (last, 0)
    arrivals: dict[str, float] = (await client.get("/arrivals")).json()
    counts = await _count(client)
    times = sorted(arrivals[i] for i in ids)
    wall = last.at - cpu.at
    return Throughput(
        recorded_per_s=recorded_per_s,
        delivered_per_s=(len(times) - 1) / (times[-1] - times[0]),
        duplicates=counts["requests"] - counts["unique"],
        worker_us=(last.process - cpu.process) / max(1, len(ids) - done) * 1e6,
        worker_cores=(last.process - cpu.process) / wall if wall else math.nan,
        machine_cores=(last.machine - cpu.machine) / wall if wall else math.nan,
    )


async def measure_latency(
    store: Store, client: httpx.AsyncClient, rate: float, duration: float, per_transaction: int
) -> tuple[float, list[float], list[float], int]:
    """Events at ``rate``/s, ``per_transaction`` to a commit.

    Returns the achieved rate, the latencies from ``occurred_at`` and from the end of the commit
    (what the relay controls: it cannot see an event before), and the duplicates.
    """
    occurred: dict[str, float] = {}
    committed: dict[str, float] = {}
    commits = int(rate * duration / per_transaction)
    tasks: set[asyncio.Task[None]] = set()
    # At most one commit per pooled connection: a recorder that falls behind (a busy machine)
    # shows as a lower achieved rate instead of failing on the pool's checkout timeout.
    connections = asyncio.Semaphore(store.writers)

    async def commit() -> None:
        async with connections:
            recorded = await store.record(per_transaction)
        at = time.time()
        occurred.update(recorded)
        committed.update((event_id, at) for event_id, _ in recorded)

    started = time.monotonic()
    for n in range(commits):
        delay = started + n * per_transaction / rate - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        task = asyncio.create_task(commit())
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    if tasks:
        await asyncio.gather(*tasks)
    achieved = commits * per_transaction / (time.monotonic() - started)
    await _until_arrived(client, set(occurred), within=120)
    arrivals: dict[str, float] = (await client.get("/arrivals")).json()
    counts = await _count(client)
    latencies = sorted(arrivals[i] - at for i, at in occurred.items())
    after_commit = sorted(arrivals[i] - at for i, at in committed.items())
    return achieved, latencies, after_commit, counts["requests"] - counts["unique"]


def _percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=1000, method="inclusive")[round(q * 1000) - 1]


async def run(args: argparse.Namespace) -> Result:
    port = _free_port()
    receiver = _spawn([sys.executable, __file__, "--receiver-port", str(port)])
    worker: Process | None = None
    try:
        base = f"http://127.0.0.1:{port}"
        await _wait_listening(base)
        async with (
            throwaway_database(args.database, args.postgres_url) as db_env,
            httpx.AsyncClient(base_url=base) as client,
        ):
            env = {
                **{k: v for k, v in os.environ.items() if not k.startswith("GAMEKEEPER_")},
                **db_env,
                "GAMEKEEPER_SECRET_KEY": SECRET_KEY,
                "GAMEKEEPER_ADMIN_TOKEN": ADMIN_TOKEN,
                "GAMEKEEPER_OUTBOUND_ALLOWED_NETWORKS": "127.0.0.0/8",
                "GAMEKEEPER_LOG_LEVEL": "WARNING",
            }
            if args.redis_url:
                env["GAMEKEEPER_REDIS_URL"] = args.redis_url
            gamekeeper = Path(sys.executable).with_name("gamekeeper")
            command = shlex.split(args.worker_command) or [str(gamekeeper), "worker"]

            def start_worker() -> Process:
                nonlocal worker
                worker = _spawn(command, env)
                _say(f"worker pid {worker.proc.pid}")
                return worker

            store = Store(db_env, args.redis_url)
            try:
                await store.setup(f"{base}/hook")
                _say(f"{args.database}: recording {args.events} events, then one worker")
                throughput = await measure_throughput(store, client, start_worker, args.events)
                _say(f"{args.database}: {throughput}")
                await _until_empty(store)
                await client.get("/reset")
                _say(f"{args.database}: {args.rate:g} events/s for {args.duration:g} s")
                achieved, latencies, after_commit, dup_b = await measure_latency(
                    store, client, args.rate, args.duration, args.per_transaction
                )
            finally:
                if worker is not None:
                    worker.stop()
                await store.close()
    finally:
        receiver.stop()
    return Result(
        database=args.database,
        events=args.events,
        record_per_s=round(throughput.recorded_per_s, 1),
        deliveries_per_s=round(throughput.delivered_per_s, 1),
        throughput_target=THROUGHPUT_TARGET,
        throughput_duplicates=throughput.duplicates,
        worker_us_per_delivery=round(throughput.worker_us),
        worker_cores=round(throughput.worker_cores, 2),
        machine_cores=round(throughput.machine_cores, 2),
        rate=args.rate,
        rate_achieved=round(achieved, 1),
        per_transaction=args.per_transaction,
        redis_wake=bool(args.redis_url),
        latency_events=len(latencies),
        p50_s=round(_percentile(latencies, 0.50), 4),
        p99_s=round(_percentile(latencies, 0.99), 4),
        max_s=round(max(latencies), 4),
        p50_after_commit_s=round(_percentile(after_commit, 0.50), 4),
        p99_after_commit_s=round(_percentile(after_commit, 0.99), 4),
        p99_target=P99_TARGET,
        latency_duplicates=dup_b,
        cpus=os.cpu_count() or 0,
        python=platform.python_version(),
        machine=platform.platform(),
    )


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def missed(result: Result) -> list[str]:
    """The targets this result misses; throughput is a target on PostgreSQL only."""
    misses = []
    if result.database == "postgres" and result.deliveries_per_s < result.throughput_target:
        misses.append("throughput")
    if result.p99_s >= result.p99_target:
        misses.append("p99 latency")
    return misses


def report(result: Result) -> str:
    misses = missed(result)
    verdict = "BELOW" if "throughput" in misses else "meets"
    if result.database != "postgres":
        verdict = "reference; the target is for PostgreSQL"
    p99_ok = "ABOVE" if "p99 latency" in misses else "meets"
    return "\n".join(
        [
            f"Outbox on {result.database}, one worker, {result.cpus} CPUs, Python {result.python}",
            f"  recorded up front      {result.record_per_s:10,.0f} events/s (500 per transaction)",
            f"  throughput             {result.deliveries_per_s:10,.0f} deliveries/s   "
            f"target >= {result.throughput_target:,.0f} ({verdict}); "
            f"{result.throughput_duplicates} duplicates",
            f"    worker CPU           {result.worker_us_per_delivery:10,.0f} us/delivery "
            f"({result.worker_cores:.2f} of a core; "
            f"{result.machine_cores:.2f} of {result.cpus} cores busy machine-wide)",
            f"  latency at {result.rate:g}/s      "
            f"(achieved {result.rate_achieved:.0f}/s, {result.latency_events} events, "
            f"{result.per_transaction} per commit, "
            f"{'woken through Redis' if result.redis_wake else 'worker polling'})",
            f"    p50                  {result.p50_s * 1000:10.1f} ms",
            f"    p99                  {result.p99_s * 1000:10.1f} ms           "
            f"target < {result.p99_target * 1000:.0f} ms ({p99_ok})",
            f"    max                  {result.max_s * 1000:10.1f} ms",
            f"    after the commit     {result.p50_after_commit_s * 1000:10.1f} ms p50, "
            f"{result.p99_after_commit_s * 1000:.1f} ms p99 (the recorder's commit left out)",
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="postgres")
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--rate", type=float, default=500.0, help="events/s in the latency run")
    parser.add_argument("--duration", type=float, default=20.0, help="seconds of the latency run")
    parser.add_argument(
        "--per-transaction", type=int, default=5, help="events per commit in the latency run"
    )
    parser.add_argument(
        "--redis-url", help="wake the worker through Redis on each commit, as `serve` does"
    )
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES, help="server to create on")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.add_argument("--worker-command", default="", help="instead of `gamekeeper worker`")
    parser.add_argument("--receiver-port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.receiver_port is not None:
        serve_receiver(args.receiver_port)
        return
    result = asyncio.run(run(args))
    print(json.dumps(asdict(result), indent=2) if args.json else report(result))
    sys.exit(1 if missed(result) else 0)


if __name__ == "__main__":
    main()
