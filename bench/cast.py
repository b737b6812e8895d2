"""TV casting (issue 12): controller inputs reaching receivers through the cast WebSocket gateway.

``--sessions`` cast sessions (1,000), each with one receiver and ``--controllers`` controllers
(2), on a throwaway PostgreSQL database; the sockets are played by ``--generators`` load
generator processes (``cast_load.py``: asyncio on uvloop, the ``websockets`` client). The
server under test is one uvicorn process serving ``create_app`` as ``gamekeeper serve`` does,
rate limits off, with the baselines beside it (``cast_app.py``). In one run:

1. **one replica** (in-memory pub/sub): the offered rate starts at ``--start-rate`` (25/s for
   each of 2,000 controllers: 50,000/s) and steps down until the receivers keep up
   (``cast_report.Verdict``: the rate acknowledged, nothing lost, p99 not growing), first for
   the baseline ``/bench/relay`` (the same frames relayed in memory: no database, no hub), then
   for the gateway, and on down (three steps at most) to a rate where p99 <= 20 ms; then a
   fixed ``--light`` rate (1,000/s) over WebSocket, ``--http-rate`` inputs/s through ``POST
   /api/v1/cast/input`` and the bare HTTP route at the same rate;
2. **idle receivers**: a fresh server, ``--hold`` sessions (5,000) with a receiver socket
   attached to each and answering a ping; the server's RSS before and after, per connection;
3. **two replicas** on Redis (``--redis-url``, a db number of our own): receivers on A,
   controllers on B; the light rate, the rate one replica sustained, and HTTP inputs to B.

Lost: inputs acknowledged to their controller that their receiver never got, after the drain
(receivers the server closed are attached again and resume). "gen": the generators' CPU, in
cores; "busy": all CPUs, in cores; GC: the longest full garbage collection in a server during
the step (it stops the process).

    python bench/cast.py                          # everything, ~5 min
    python bench/cast.py --parts one --duration 5
    python bench/cast.py --gc-threshold 50000,20,100 --parts one
    python bench/cast.py --profile /tmp/cast-profile --json
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import tempfile
import time
from pathlib import Path
from typing import Any

import cast_profile
from _harness import Server, machine, progress, throwaway_database
from cast_report import Verdict, render, summary
from cast_setup import (
    Generators,
    cpu_and_rss,
    gauge,
    gc_pauses,
    load_average,
    machine_busy,
    provision,
    start_server,
    ws_url,
)

DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/postgres"
DEFAULT_REDIS = "redis://127.0.0.1:6379/11"  # the tests use 15
P99_TARGET = {"one": 20.0, "two": 30.0}  # ms
DRAIN = 30.0  # s for the last answers and inputs of a step
IDLE = 3.0  # s of measuring the idle servers


class Bench:
    def __init__(self, args: argparse.Namespace, env: dict[str, str]) -> None:
        self.args, self.env = args, env
        self.servers: list[Server] = []
        self.steps: list[dict[str, Any]] = []
        self.hold: dict[str, Any] = {}
        self.idles: dict[str, list[float]] = {}
        self.profiles: dict[str, Any] = {}
        self.sessions: list[dict[str, Any]] = []
        self.sustained = 0.0
        self.step_no = 0

    async def server(self, name: str, **extra: str) -> Server:
        server = await start_server(self.env, name, **extra)
        self.servers.append(server)
        return server

    def stop(self, server: Server) -> None:
        server.stop()
        self.servers.remove(server)

    async def provision(self, server: Server, count: int, players: int) -> list[dict[str, Any]]:
        began = time.monotonic()
        token = self.env["GAMEKEEPER_ADMIN_TOKEN"]
        sessions = await provision(server, token, count, players)
        progress(
            f"  {count:,} sessions, {count * players:,} players in {time.monotonic() - began:.1f} s"
        )
        return sessions

    # --- measurement --------------------------------------------------------------------------

    @staticmethod
    def _cpu(servers: list[Server]) -> tuple[float, list[float], float]:
        per = [sum(cpu_and_rss(pid)[0] for pid in s.pids()) for s in servers]
        return time.monotonic(), per, machine_busy()

    async def step(
        self, gens: Generators, servers: list[Server], what: dict[str, Any], **command: Any
    ) -> dict[str, Any]:
        """One measured step: ``command`` to every generator (its share of the rate)."""
        self.step_no += 1
        rate, shares = command["rate"], [len(gens.share(n)) for n in range(gens.count)]
        await gc_pauses(servers)
        before = self._cpu(servers)
        answers = await gens.each(
            [{**command, "no": self.step_no, "rate": rate * n / sum(shares)} for n in shares]
        )
        after = self._cpu(servers)
        wall = after[0] - before[0]
        result = {**summary(answers, rate=rate, duration=command["duration"]), **what}
        used = [a - b for a, b in zip(after[1], before[1], strict=True)]
        result["server_share"] = [u / wall for u in used]
        result["server_us"] = sum(used) / max(1, result["acked"]) * 1e6
        result["generator_share"] = sum(a["cpu_s"] for a in answers) / wall
        result["machine_busy"] = (after[2] - before[2]) / wall
        result["gc"] = await gc_pauses(servers)
        result["server_rss_mib"] = [
            sum(cpu_and_rss(pid)[1] for pid in s.pids()) / 1024 for s in servers
        ]
        self.steps.append(result)
        progress(f"  {Verdict.line(result)}")
        return result

    async def ws(
        self, gens: Generators, servers: list[Server], what: dict[str, Any], rate: float
    ) -> dict[str, Any]:
        return await self.step(
            gens, servers, what, op="ws", rate=rate, duration=self.args.duration, drain=DRAIN
        )

    async def http(
        self,
        gens: Generators,
        servers: list[Server],
        what: dict[str, Any],
        base: str,
        path: str | None,
    ) -> dict[str, Any]:
        a = self.args
        return await self.step(
            gens,
            servers,
            what,
            op="http",
            base=base,
            rate=a.http_rate,
            duration=a.duration,
            drain=DRAIN,
            path=path,
        )

    async def search(
        self, gens: Generators, servers: list[Server], what: dict[str, Any], target_ms: float
    ) -> float:
        """Step the offered rate down until the receivers keep up; then, while p99 is over
        ``target_ms``, on down by a quarter (three steps at most). The rate kept up, or 0."""
        rate, sustained, extra = self.args.start_rate, 0.0, 0
        for _ in range(self.args.max_steps):
            found = await self.ws(gens, servers, {**what, "search": True}, rate)
            if not sustained and Verdict.of(found).kept_up:
                sustained, found["sustained"] = rate, True
            if sustained and ((found["p99_ms"] or 0) <= target_ms or extra == 3):
                break
            extra += bool(sustained)
            rate = Verdict.next_rate(rate, found, kept_up=bool(sustained))
        return sustained

    async def idle(self, servers: list[Server], part: str) -> None:
        """The servers' CPU with every socket attached and nothing sent (pings, loops)."""
        before = self._cpu(servers)
        await asyncio.sleep(IDLE)
        after = self._cpu(servers)
        wall = after[0] - before[0]
        self.idles[part] = [(a - b) / wall for a, b in zip(after[1], before[1], strict=True)]

    async def profiled(
        self, gens: Generators, servers: list[Server], what: dict[str, Any], rate: float
    ) -> None:
        """With ``--profile``: one more step at ``rate``, py-spy on each server (not judged)."""
        if self.args.profile is None:
            return
        self.args.profile.mkdir(parents=True, exist_ok=True)
        outs = [self.args.profile / f"{what['part']}-{n}.txt" for n in range(len(servers))]
        spies = [
            await cast_profile.record(s.pids()[0], self.args.duration, out)
            for s, out in zip(servers, outs, strict=True)
        ]
        await self.ws(gens, servers, {**what, "profiled": True}, rate)
        for spy in spies:
            await spy.wait()
        for n, out in enumerate(outs):
            if out.exists():
                layers, hot = cast_profile.layers(out), cast_profile.hot(out)
                self.profiles[f"{what['part']}, server {n}"] = {"layers": layers, "hot": hot}

    # --- the parts ----------------------------------------------------------------------------

    async def attach(self, gens: Generators, receivers: str, controllers: str, target: str) -> None:
        answers = await gens.all(
            op="attach", receivers=receivers, controllers=controllers, target=target
        )
        receivers_n = sum(x["receivers"] for x in answers)
        controllers_n = sum(x["controllers"] for x in answers)
        seconds = max(x["seconds"] for x in answers)
        progress(
            f"  attached {receivers_n:,} receivers, {controllers_n:,} controllers in "
            f"{seconds:.1f} s"
        )
        a = self.args
        if receivers_n != a.sessions or controllers_n != a.sessions * a.controllers:
            raise RuntimeError(f"not every socket attached: {[x['failed'] for x in answers]}")

    async def one_replica(self) -> None:
        a = self.args
        progress("one replica: the server, sessions and players")
        server = await self.server("one")
        self.sessions = await self.provision(server, a.sessions, a.controllers)
        gens = Generators(a.generators, self.sessions, a.compression)
        await gens.start()
        try:
            if not a.no_baseline:
                progress("one replica: the baseline, /bench/relay")
                relay = ws_url(server, "/bench/relay")
                await self.attach(gens, relay, relay, "bare")
                await self.search(gens, [server], {"part": "one", "route": "relay"}, 1e9)
                await gens.all(op="detach")
            progress("one replica: the cast gateway")
            await self.attach(gens, ws_url(server), ws_url(server), "cast")
            await self.idle([server], "one")
            what = {"part": "one", "route": "cast ws"}
            self.sustained = await self.search(gens, [server], what, P99_TARGET["one"])
            await self.ws(gens, [server], {**what, "fixed": True}, a.light)
            await self.profiled(gens, [server], what, self.sustained or a.light)
            await self.http(gens, [server], {"part": "one", "route": "cast http"}, server.url, None)
            await self.http(
                gens, [server], {"part": "one", "route": "bare http"}, server.url, "/bench/bare"
            )
            await gens.all(op="detach")
        finally:
            await gens.stop()
            self.stop(server)

    async def idle_receivers(self) -> None:
        a = self.args
        progress(f"idle receivers: a fresh server, {a.hold:,} sessions")
        server = await self.server("hold")
        sessions = await self.provision(server, a.hold, 0)
        gens = Generators(a.generators, sessions, a.compression)
        await gens.start()
        try:
            pid = server.pids()[0]
            before, started = cpu_and_rss(pid)[1], time.monotonic()
            held = await gens.each(
                [
                    {"op": "hold", "url": ws_url(server), "sessions": gens.share(n)}
                    for n in range(gens.count)
                ]
            )
            self.hold = {
                "sessions": a.hold,
                "held": sum(h["held"] for h in held),
                "pongs": sum(h["pongs"] for h in held),
                "failed": [h["failed"] for h in held],
                "attach_s": time.monotonic() - started,
                "rss_before_kib": before,
                "rss_after_kib": cpu_and_rss(pid)[1],
                "generator_rss_kib": [h["rss_kib"] for h in held],
                "gauge_receivers": await gauge(server, "gamekeeper_cast_receivers"),
            }
            await gens.all(op="release")
            self.hold["rss_released_kib"] = cpu_and_rss(pid)[1]
            progress(f"  {self.hold}")
        finally:
            await gens.stop()
            self.stop(server)

    async def two_replicas(self) -> None:
        a = self.args
        progress("two replicas on Redis: receivers on A, controllers on B")
        redis = {"GAMEKEEPER_REDIS_URL": a.redis_url}
        servers = [await self.server("a", **redis), await self.server("b", **redis)]
        if not self.sessions:
            self.sessions = await self.provision(servers[0], a.sessions, a.controllers)
        gens = Generators(a.generators, self.sessions, a.compression)
        await gens.start()
        try:
            await self.attach(gens, ws_url(servers[0]), ws_url(servers[1]), "cast")
            await self.idle(servers, "two")
            what = {"part": "two", "route": "cast ws"}
            for rate in dict.fromkeys([a.light, self.sustained or a.light]):
                await self.ws(gens, servers, {**what, "fixed": True}, rate)
            await self.profiled(gens, servers, what, self.sustained or a.light)
            await self.http(
                gens, servers, {"part": "two", "route": "cast http"}, servers[1].url, None
            )
            await gens.all(op="detach")
        finally:
            await gens.stop()
            for server in servers:
                self.stop(server)


async def run(args: argparse.Namespace) -> dict[str, Any]:
    report: dict[str, Any] = {
        "machine": machine(),
        "load_before": load_average(),
        "date": time.strftime("%Y-%m-%d %H:%M:%S %z"),
        "args": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
    }
    started = time.monotonic()
    async with throwaway_database(args.database_url) as url:
        assert url is not None
        with tempfile.TemporaryDirectory(prefix="gk-bench-cast-") as data:
            env = {k: v for k, v in os.environ.items() if not k.startswith("GAMEKEEPER_")}
            env.update(
                GAMEKEEPER_DATABASE_URL=url,
                GAMEKEEPER_DATA_DIR=data,
                GAMEKEEPER_SECRET_KEY=secrets.token_urlsafe(48),
                GAMEKEEPER_ADMIN_TOKEN="gk_admin_" + secrets.token_urlsafe(32),
                GAMEKEEPER_RATE_LIMITS_ENABLED="false",
                GAMEKEEPER_LOG_LEVEL="WARNING",
            )
            if args.gc_threshold:
                env["GK_BENCH_GC_THRESHOLD"] = args.gc_threshold
            bench = Bench(args, env)
            parts = {
                "one": bench.one_replica,
                "idle": bench.idle_receivers,
                "two": bench.two_replicas,
            }
            try:
                for part in args.parts:
                    await parts[part]()
            finally:
                for server in list(bench.servers):
                    bench.stop(server)
    report.update(
        steps=bench.steps,
        hold=bench.hold,
        idle=bench.idles,
        profiles=bench.profiles,
        sustained=bench.sustained,
        load_after=load_average(),
        minutes=(time.monotonic() - started) / 60,
    )
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add = parser.add_argument
    add("--parts", nargs="+", choices=["one", "idle", "two"], default=["one", "idle", "two"])
    add("--sessions", type=int, default=1000)
    add("--controllers", type=int, default=2, help="per session")
    add("--start-rate", type=float, default=50_000.0, help="inputs/s offered first")
    add("--max-steps", type=int, default=8, help="of each search")
    add("--light", type=float, default=1_000.0, help="the fixed WebSocket rate, inputs/s")
    add("--http-rate", type=float, default=100.0, help="HTTP inputs/s")
    add("--duration", type=float, default=8.0, help="seconds of sending per step")
    add("--hold", type=int, default=5_000, help="idle receivers")
    add("--generators", type=int, default=1, help="load generator processes")
    add(
        "--no-compression",
        dest="compression",
        action="store_false",
        help="no permessage-deflate (browsers offer it, uvicorn accepts)",
    )
    add("--no-baseline", action="store_true", help="skip /bench/relay")
    add("--gc-threshold", help="instead of settings.gc_threshold in the servers: off, 50000,20,100")
    add("--profile", type=Path, help="py-spy the servers in one more step; raw stacks here")
    add("--database-url", default=DEFAULT_POSTGRES)
    add("--redis-url", default=DEFAULT_REDIS)
    add("--json", action="store_true", help="print the report as JSON")
    args = parser.parse_args()
    report = asyncio.run(run(args))
    print(json.dumps(report, indent=2) if args.json else render(report))


if __name__ == "__main__":
    main()
