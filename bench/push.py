"""Push notifications: sends → provider stand-ins, by one ``gamekeeper worker`` on PostgreSQL.

On a throwaway PostgreSQL database, with each provider's stand-in in a process of its own
(``push_standins.py``: they check credentials and headers as the provider does and answer at
once), for each provider (APNs, Web Push, FCM, Expo):

- **baseline**: the provider's client alone (``push_baseline.py``: the client the worker builds,
  fed ``--devices`` messages in the relay's batches; no database, no relay);
- **fan-out**: one send, through the core's ``send_notification``, to one player with
  ``--devices`` devices; then a worker starts;
- **singles**: ``--devices`` sends to as many players with one device each, their rows written
  up front (500 sends to a transaction: only the worker is measured); then a worker starts;
- **latency**: sends at ``--rate`` per second for ``--duration`` s while the worker runs, each
  in a transaction of its own (``--recorder rows``: the rows a send writes, through asyncpg,
  light enough to offer 1,000/s on two cores; ``core``: through ``send_notification``); first
  arrival at the stand-in minus the moment the send began (and minus its commit);
- **large fan-out** (``--large``, for ``--large-providers``): one send to 100,000 devices,
  against the fan-out to ``--devices`` of the same run.

Deliveries/s count from the first arrival at the stand-in to the last (each device once), and
to the moment every delivery is recorded ``delivered`` (the target is judged on the latter);
CPU per delivery is the sender's over the same spans (the worker from its first delivery on:
startup left out). Baseline, fan-out and singles alternate in their order from round to round.

    python bench/push.py [--providers apns,webpush,fcm,expo] [--devices 10000] [--rounds 2]
                         [--kinds baseline,fan-out,singles,latency,large] [--rate 1000]
                         [--duration 9] [--recorder rows|core] [--large 100000]
                         [--large-providers apns,webpush] [--redis-url URL]
                         [--postgres-url URL] [--worker-command CMD] [--json]

``--redis-url`` wakes the worker through Redis on each send's commit, as ``serve`` does in a
cluster; without it the worker polls (every 50 ms while busy, 0.5 s idle). ``--worker-command``
runs something else in the worker's place, with the worker's environment (a profiler around
``gamekeeper worker``). Targets (issue 11): >= 3,000 deliveries/s; p99 <= 1 s at 1,000 sends/s.
The exit status is 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx

from _harness import BENCH_DIR, free_port, machine, progress, throwaway_database
from outbox import Cpu, Process
from push_seed import PROVIDERS, Group, Keys, Store

THROUGHPUT_TARGET = 3_000.0  # deliveries/s, PostgreSQL, one worker
P99_TARGET = 1.0  # seconds, at 1,000 sends/s
CLAIM = 500  # sends per transaction when recording up front
DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/postgres"
WITHIN = 600.0  # seconds any one measurement may take


# --- the stand-ins ----------------------------------------------------------------------------


@dataclass
class StandIn:
    provider: str
    process: Process
    port: int
    control: httpx.AsyncClient

    @property
    def url(self) -> str:
        scheme = "https" if self.provider in ("apns", "webpush") else "http"
        return f"{scheme}://127.0.0.1:{self.port}"

    async def count(self) -> dict[str, int]:
        return dict((await self.control.get("/count")).json())

    async def arrivals(self) -> dict[str, float]:
        return dict((await self.control.get("/arrivals")).json())

    async def reset(self) -> None:
        await self.control.get("/reset")

    @classmethod
    async def start(cls, provider: str, keys: Keys) -> StandIn:
        port, control_port = free_port(), free_port()
        config = keys.directory / f"standin-{provider}.json"
        config.write_text(json.dumps(keys.standin_config(provider, port, control_port)))
        script = str(BENCH_DIR / "push_standins.py")
        argv = [sys.executable, script, str(config)]
        process = Process(subprocess.Popen(argv, stdout=sys.stderr))  # noqa: ASYNC220
        control = httpx.AsyncClient(base_url=f"http://127.0.0.1:{control_port}")
        deadline = time.monotonic() + 20
        while True:
            try:
                await control.get("/count")
                return cls(provider, process, port, control)
            except httpx.TransportError:
                if time.monotonic() > deadline or process.proc.poll() is not None:
                    raise RuntimeError(f"the {provider} stand-in did not start") from None
                await asyncio.sleep(0.05)


# --- one measurement of throughput ------------------------------------------------------------


@dataclass
class Figure:
    kind: str  # baseline | fan-out | singles | large fan-out
    provider: str
    deliveries: int
    per_s: float  # first arrival to last at the stand-in
    cpu_us: float  # the sender's CPU per delivery, first arrival to last
    share: float  # of one core, the sender's
    standin_share: float  # of one core, the stand-in's
    busy: float  # cores busy machine-wide
    requests: int  # at the stand-in: more than deliveries means duplicates
    send_s: float | None = None  # recording the sends (500 per transaction), before the worker
    settled_s: float | None = None  # after the last arrival, until all recorded delivered
    settled_per_s: float | None = None  # first arrival to every delivery recorded
    settled_cpu_us: float | None = None  # the worker's CPU per delivery over that time


@dataclass
class Watched:
    figure: Figure
    first: Cpu  # the sender's CPU at the first arrival
    first_at: float  # the first arrival, Unix time
    last_at: float


async def _watch(standin: StandIn, pid: int, expected: int, kind: str) -> Watched:
    """Until ``expected`` devices have had their first arrival; CPU from the first to the last."""
    deadline = time.monotonic() + WITHIN
    first: tuple[Cpu, Cpu] | None = None
    while (unique := (await standin.count())["unique"]) < expected:
        if first is None and unique:
            first = (Cpu.read(pid), Cpu.read(standin.process.proc.pid))
        if time.monotonic() > deadline:
            raise RuntimeError(f"{kind}: only {unique} of {expected} arrived in {WITHIN:.0f} s")
        await asyncio.sleep(0.01)
    last = (Cpu.read(pid), Cpu.read(standin.process.proc.pid))
    first = first or last
    times = sorted((await standin.arrivals()).values())
    counts = await standin.count()
    if counts["refused"] or counts["changed_id"]:
        raise RuntimeError(f"{kind}: the stand-in refused or saw a changed identity: {counts}")
    wall = last[0].at - first[0].at or float("nan")
    cpu = last[0].process - first[0].process
    figure = Figure(
        kind=kind, provider=standin.provider, deliveries=len(times),
        per_s=(len(times) - 1) / (times[-1] - times[0]) if len(times) > 1 else 0.0,
        cpu_us=cpu / max(1, expected - 1) * 1e6,  # the first delivery was made before
        share=cpu / wall, standin_share=(last[1].process - first[1].process) / wall,
        busy=(last[0].machine - first[0].machine) / wall, requests=counts["requests"],
    )  # fmt: skip
    return Watched(figure, first[0], times[0], times[-1])


async def _settle(store: Store, kind: str) -> None:
    """Until every delivery is recorded (delivered or failed); none may have failed."""
    deadline = time.monotonic() + WITHIN
    while await store.unsettled():
        if time.monotonic() > deadline:
            raise RuntimeError(f"{kind}: deliveries still unsettled after {WITHIN:.0f} s")
        await asyncio.sleep(0.02)
    if failed := await store.failed():
        raise RuntimeError(f"{kind}: {failed} deliveries failed")


async def by_worker(
    kind: str, standin: StandIn, store: Store, start_worker: Callable[[], Process], group: Group
) -> Figure:
    """Record a send to each of ``group``'s users, then start a worker and time its deliveries."""
    await standin.reset()
    started = time.monotonic()
    if len(group.users) == 1:  # a fan-out: one send, through the core
        await store.send(group.users)
    else:  # a send's rows for each user, 500 to a transaction: only the worker is measured
        for start in range(0, len(group.users), CLAIM):
            await store.send_rows(group, range(start, min(start + CLAIM, len(group.users))))
    send_s = time.monotonic() - started
    worker = start_worker()
    try:
        watched = await _watch(standin, worker.proc.pid, len(group.keys), kind)
        await _settle(store, kind)
        settled, done = Cpu.read(worker.proc.pid), time.time()
    finally:
        worker.stop()
    figure, n = watched.figure, len(group.keys) - 1
    figure.send_s = send_s
    figure.settled_s = max(0.0, done - watched.last_at)
    figure.settled_per_s = n / (done - watched.first_at)
    figure.settled_cpu_us = (settled.process - watched.first.process) / n * 1e6
    return figure


async def by_baseline(standin: StandIn, group: Group, env: dict[str, str]) -> Figure:
    """The provider's client alone, in a process of its own, to ``group``'s devices."""
    await standin.reset()
    path = Path(env["GAMEKEEPER_DATA_DIR"]) / f"tokens-{group.provider}.json"
    path.write_text(json.dumps(group.tokens))
    script = str(BENCH_DIR / "push_baseline.py")
    child = await asyncio.create_subprocess_exec(
        sys.executable, script, group.provider, str(path), env=env, stdout=subprocess.PIPE
    )
    figure = (await _watch(standin, child.pid, len(group.keys), "baseline")).figure
    out, _ = await child.communicate()
    ran = json.loads(out)
    figure.cpu_us = ran["cpu_s"] / len(group.keys) * 1e6  # its own count: it exits at the end
    figure.share = ran["cpu_s"] / ran["wall_s"]
    return figure


# --- latency ----------------------------------------------------------------------------------


@dataclass
class Latency:
    provider: str
    recorder: str
    rate: float
    achieved: float
    sends: int
    p50_s: float
    p99_s: float
    max_s: float
    p50_after_commit_s: float
    p99_after_commit_s: float
    worker_share: float
    busy: float


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def latency(
    standin: StandIn, store: Store, start_worker: Callable[[], Process], group: Group,
    rate: float, duration: float, recorder: str,
) -> Latency:  # fmt: skip
    """Sends at ``rate``/s, one per transaction, while the worker runs.

    ``recorder``: ``rows`` writes the rows of a send through asyncpg (light enough to offer
    1,000/s here), ``core`` sends through ``send_notification`` (the route's path, its CPU).
    """
    count = int(rate * duration)
    if count + 1 > len(group.users):
        raise SystemExit(f"--rate x --duration must be below --devices ({len(group.users)})")
    worker = start_worker()
    try:
        await standin.reset()
        await store.send(group.users[:1])  # the worker is up and its connections open
        deadline = time.monotonic() + 60
        while not (await standin.count())["unique"]:
            if time.monotonic() > deadline:
                raise RuntimeError("latency: the warm-up send did not arrive")
            await asyncio.sleep(0.02)
        await standin.reset()
        began: dict[str, float] = {}
        committed: dict[str, float] = {}
        connections = asyncio.Semaphore(store.pool)  # a recorder falling behind shows as a rate

        async def send(n: int) -> None:
            async with connections:
                at = time.time()
                if recorder == "core":
                    await store.send([group.users[n]])
                else:
                    await store.send_rows(group, range(n, n + 1))
                began[group.keys[n]], committed[group.keys[n]] = at, time.time()

        before = Cpu.read(worker.proc.pid)
        started, tasks = time.monotonic(), []
        for n in range(1, count + 1):
            delay = started + (n - 1) / rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(send(n)))
        await asyncio.gather(*tasks)
        achieved = count / (time.monotonic() - started)
        await _watch(standin, worker.proc.pid, count, "latency")
        after = Cpu.read(worker.proc.pid)
        await _settle(store, "latency")
    finally:
        worker.stop()
    arrived = await standin.arrivals()
    waits = [arrived[key] - at for key, at in began.items()]
    after_commit = [arrived[key] - at for key, at in committed.items()]
    wall = after.at - before.at
    return Latency(
        provider=standin.provider, recorder=recorder, rate=rate, achieved=achieved, sends=count,
        p50_s=percentile(waits, 0.5), p99_s=percentile(waits, 0.99), max_s=max(waits),
        p50_after_commit_s=percentile(after_commit, 0.5),
        p99_after_commit_s=percentile(after_commit, 0.99),
        worker_share=(after.process - before.process) / wall,
        busy=(after.machine - before.machine) / wall,
    )  # fmt: skip


# --- the run ----------------------------------------------------------------------------------


@dataclass
class Result:
    figures: list[Figure] = field(default_factory=list)
    latencies: list[Latency] = field(default_factory=list)
    load_before: str = ""
    load_after: str = ""
    redis_wake: bool = False
    machine: dict[str, object] = field(default_factory=dict)


def _load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def worker_env(url: str, keys: Keys, standins: dict[str, StandIn], args: Any) -> dict[str, str]:
    fcm = standins.get("fcm")
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("GAMEKEEPER_")},
        "GAMEKEEPER_DATABASE_URL": url,
        "GAMEKEEPER_SECRET_KEY": keys.secret_key,
        "GAMEKEEPER_ADMIN_TOKEN": "gk_admin_" + "b" * 32,
        "GAMEKEEPER_DATA_DIR": str(keys.directory / "worker"),
        "GAMEKEEPER_LOG_LEVEL": "WARNING",
        "GAMEKEEPER_OUTBOUND_ALLOWED_NETWORKS": "127.0.0.0/8",  # the Web Push endpoints
        "GAMEKEEPER_PUSH_CA_FILE": keys.ca_file,
        "GAMEKEEPER_PUSH_CREDENTIALS_FILE": keys.credentials_file(
            f"{fcm.url if fcm else 'http://127.0.0.1:9'}/token"
        ),
        "GAMEKEEPER_PUSH_RECEIPT_DELAY": "1",  # Expo: ask for receipts after a second
    }
    if "apns" in standins:
        env["GAMEKEEPER_PUSH_APNS_BASE_URL"] = standins["apns"].url
    if fcm is not None:
        env["GAMEKEEPER_PUSH_FCM_BASE_URL"] = fcm.url
    if "expo" in standins:
        env["GAMEKEEPER_PUSH_EXPO_BASE_URL"] = standins["expo"].url
    if args.redis_url:
        env["GAMEKEEPER_REDIS_URL"] = args.redis_url
    return env


async def run(args: argparse.Namespace) -> Result:
    result = Result(load_before=_load(), redis_wake=bool(args.redis_url), machine=machine())
    providers = [p for p in args.providers.split(",") if p]
    large = [p for p in args.large_providers.split(",") if p in providers]
    large = large if args.large and "large" in args.kinds else []
    standins: dict[str, StandIn] = {}
    with tempfile.TemporaryDirectory(prefix="gk-bench-push-") as tmp:
        keys = Keys.make(Path(tmp))
        (keys.directory / "worker").mkdir()
        try:
            for provider in providers:
                standins[provider] = await StandIn.start(provider, keys)
            async with throwaway_database(args.postgres_url) as url:
                assert url is not None
                env = worker_env(url, keys, standins, args)
                command = shlex.split(args.worker_command) or [
                    str(Path(sys.executable).with_name("gamekeeper")), "worker"
                ]  # fmt: skip

                def start_worker() -> Process:
                    return Process(subprocess.Popen(command, env=env, stdout=sys.stderr))

                store = Store(url, keys, args.redis_url)
                try:
                    await store.setup()
                    await _measure(args, result, store, standins, env, start_worker, large)
                finally:
                    await store.close()
        finally:
            for standin in standins.values():
                standin.process.stop()
                await standin.control.aclose()
    result.load_after = _load()
    return result


async def _measure(
    args: argparse.Namespace, result: Result, store: Store, standins: dict[str, StandIn],
    env: dict[str, str], start_worker: Callable[[], Process], large: list[str],
) -> None:  # fmt: skip
    groups: dict[tuple[str, str], Group] = {}
    for provider, standin in standins.items():
        progress(
            f"{provider}: seeding {args.devices} devices of one player, {args.devices} players"
        )
        groups[(provider, "fan")] = await store.seed(
            provider, "f", users=1, devices_each=args.devices, webpush_url=standin.url
        )
        groups[(provider, "one")] = await store.seed(
            provider, "s", users=args.devices, devices_each=1, webpush_url=standin.url
        )
    for round_ in range(args.rounds):
        for provider, standin in standins.items():
            steps = [k for k in ("baseline", "fan-out", "singles") if k in args.kinds]
            for kind in steps if round_ % 2 == 0 else reversed(steps):
                if kind == "baseline":
                    figure = await by_baseline(standin, groups[(provider, "one")], env)
                else:
                    group = groups[(provider, "fan" if kind == "fan-out" else "one")]
                    figure = await by_worker(kind, standin, store, start_worker, group)
                progress(f"round {round_ + 1} {provider}: {figure}")
                result.figures.append(figure)
    for provider, standin in standins.items() if "latency" in args.kinds else ():
        progress(f"{provider}: latency at {args.rate:g} sends/s for {args.duration:g} s")
        found = await latency(
            standin,
            store,
            start_worker,
            groups[(provider, "one")],
            args.rate,
            args.duration,
            args.recorder,
        )
        progress(f"{provider}: {found}")
        result.latencies.append(found)
    for provider in large:
        standin = standins[provider]
        progress(f"{provider}: seeding {args.large} devices of one player")
        big = await store.seed(
            provider, "L", users=1, devices_each=args.large, webpush_url=standin.url
        )
        figure = await by_worker("large fan-out", standin, store, start_worker, big)
        progress(f"{provider}: {figure}")
        result.figures.append(figure)


# --- the report -------------------------------------------------------------------------------


def _median(values: list[float | None]) -> float:
    known = [v for v in values if v is not None]
    return statistics.median(known) if known else float("nan")


def missed(result: Result) -> list[str]:
    """Targets missed, by the median over the rounds: throughput counts until every delivery is
    recorded (the slower figure), latency by each provider's p99."""
    misses = []
    for provider, kind in dict.fromkeys((f.provider, f.kind) for f in result.figures):
        if kind not in ("fan-out", "singles"):
            continue
        runs = [f for f in result.figures if f.provider == provider and f.kind == kind]
        if _median([f.settled_per_s for f in runs]) < THROUGHPUT_TARGET:
            misses.append(f"{provider} {kind} throughput")
    misses += [f"{x.provider} p99" for x in result.latencies if x.p99_s > P99_TARGET]
    return misses


def report(result: Result) -> str:
    m = result.machine
    lines = [
        f"Push on PostgreSQL, one worker; {m['cpus']} CPUs ({m['cpu']}), Python {m['python']}; "
        f"load average {result.load_before} before, {result.load_after} after",
        "deliveries/s: at the stand-in (first arrival to last) / until all recorded delivered;"
        " CPU: the sender's µs per delivery over the same spans; share, stand-in: of one core;"
        " busy: cores busy machine-wide; record: seconds to record the sends beforehand",
        f"{'provider':8} {'what':16} {'arrivals/s':>10} {'recorded/s':>10} {'rounds (recorded)':24}"
        f" {'CPU µs':>13} {'share':>5} {'stand-in':>8} {'busy':>4} {'record':>6}",
    ]
    for provider in dict.fromkeys(f.provider for f in result.figures):
        for kind in ("baseline", "fan-out", "singles", "large fan-out"):
            runs = [f for f in result.figures if f.provider == provider and f.kind == kind]
            if not runs:
                continue
            cpu = f"{_median([f.cpu_us for f in runs]):,.0f}"
            if kind != "baseline":
                cpu += f" / {_median([f.settled_cpu_us for f in runs]):,.0f}"
            lines.append(
                f"{provider:8} {f'{kind} {runs[0].deliveries:,}':16} "
                f"{_median([f.per_s for f in runs]):>10,.0f} "
                f"{_median([f.settled_per_s for f in runs]):>10,.0f} "
                f"{' / '.join(f'{f.settled_per_s or f.per_s:,.0f}' for f in runs):24} {cpu:>13} "
                f"{_median([f.share for f in runs]):>5.2f} "
                f"{_median([f.standin_share for f in runs]):>8.2f} "
                f"{_median([f.busy for f in runs]):>4.2f} {_median([f.send_s for f in runs]):>6.1f}"
            )
    for x in result.latencies:
        lines.append(
            f"{x.provider:8} latency, {x.rate:g}/s offered ({x.achieved:,.0f}/s achieved, "
            f"{x.sends:,} sends by {x.recorder}, "
            f"{'Redis wake' if result.redis_wake else 'worker polling'}): p50 {x.p50_s * 1e3:.0f}"
            f" ms, p99 {x.p99_s * 1e3:.0f} ms, max {x.max_s * 1e3:.0f} ms; after the commit p50 "
            f"{x.p50_after_commit_s * 1e3:.0f} ms, p99 {x.p99_after_commit_s * 1e3:.0f} ms; worker"
            f" {x.worker_share:.2f} of a core, {x.busy:.2f} cores busy"
        )
    misses = missed(result)
    lines.append(
        f"targets: >= {THROUGHPUT_TARGET:,.0f} deliveries/s recorded, p99 <= "
        f"{P99_TARGET * 1e3:.0f} ms: "
        + ("all met" if not misses else "MISSED " + ", ".join(misses))
    )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--providers", default=",".join(PROVIDERS))
    parser.add_argument("--devices", type=int, default=10_000)
    parser.add_argument("--kinds", default="baseline,fan-out,singles,latency,large")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--rate", type=float, default=1_000.0, help="sends/s in the latency run")
    parser.add_argument("--duration", type=float, default=9.0, help="seconds of the latency run")
    parser.add_argument("--large", type=int, default=100_000, help="0: no large fan-out")
    parser.add_argument("--large-providers", default="apns,webpush")
    parser.add_argument(
        "--recorder", choices=["rows", "core"], default="rows", help="how latency sends are made"
    )
    parser.add_argument("--redis-url", help="wake the worker through Redis on each commit")
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES, help="server to create on")
    parser.add_argument("--worker-command", default="", help="instead of `gamekeeper worker`")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    args = parser.parse_args()
    result = asyncio.run(run(args))
    print(json.dumps(asdict(result), indent=2) if args.json else report(result))
    sys.exit(1 if missed(result) else 0)


if __name__ == "__main__":
    main()
