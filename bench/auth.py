"""Player sign-in paths against the bare route: throughput and p99 of each, in one run.

Uvicorn serves ``create_app`` (rate limits off) with the bare route of ``_harness.py``: one
worker pinned to one CPU and the load on the other, or ``--workers N`` unpinned, sharing the
machine with the load and the database. Measured, each beside the bare route (bare, route,
then route, bare, ...):

- ``device signup``: ``POST /api/v1/auth/device`` with a new device id per request (201);
- ``device signin``: the same route with device ids signed up beforehand (200);
- ``verify-token``: ``POST /api/v1/auth/verify-token`` (game key) spending web codes issued
  beforehand, one per request (``valid: true``);
- ``refresh``: ``POST /api/v1/auth/refresh``, each connection following its own chain of
  rotated refresh tokens.

Single-use tokens rule out a fixed request, so the load comes from this script's own HTTP/1.1
client (keep-alive, one request in flight per connection, requests built per answer).

    python bench/auth.py --database-url postgresql://postgres@127.0.0.1:5432/postgres
    python bench/auth.py [--workers 2] [--rounds 3] [--duration 5] [-c 32] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import json
import os
import secrets
import sys
import tempfile
import time
from collections.abc import Callable, Coroutine
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx
from litestar import Litestar

from _harness import (
    CpuTimes,
    RouteFigures,
    Run,
    Server,
    bare,
    machine,
    num,
    progress,
    throwaway_database,
)
from gamekeeper.api.app import create_app
from gamekeeper.settings import load_settings
from loadgen import LoadResult

AUTH = "/api/v1/auth"
SIGNIN_POOL = 2000  # devices signed up before the sign-in rounds
ROUTES = ("device signup", "device signin", "verify-token", "refresh")


def app_factory() -> Litestar:
    """For ``uvicorn --factory``: settings from the ``GAMEKEEPER_*`` variables the parent set."""
    app: Litestar = create_app(load_settings(), extra_routes=[bare])
    return app


# --- a small HTTP/1.1 client for requests that change with every answer ----------------------


def request_bytes(port: int, method: str, path: str, body: object = None, token: str = "") -> bytes:
    payload = b"" if body is None else json.dumps(body).encode()
    head = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
    if token:
        head += f"Authorization: Bearer {token}\r\n"
    if body is not None:
        head += f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n"
    return (head + "\r\n").encode() + payload


@dataclass
class Feed:
    """The next request of connection ``i`` (None: nothing left), and what to do with answers."""

    next: Callable[[int], bytes | None]
    answered: Callable[[int, int, bytes], bool] = lambda _i, status, _body: 200 <= status < 300
    answers: list[bytes] = field(default_factory=list)


async def _connection(
    i: int, port: int, feed: Feed, window: tuple[float, float], tally: dict
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    start, end = window
    try:
        while time.perf_counter() < end:
            request = feed.next(i)
            if request is None:
                tally["exhausted"] = min(tally["exhausted"], time.perf_counter())
                return
            sent = time.perf_counter()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head[9:12])
            length = 0
            for line in head.split(b"\r\n"):
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            body = await reader.readexactly(length)
            done = time.perf_counter()
            ok = feed.answered(i, status, body)
            if sent >= start and done <= end:
                tally["latencies"].append(done - sent)
                tally["non_2xx"] += not ok
    except (OSError, asyncio.IncompleteReadError):
        tally["errors"] += 1
    finally:
        writer.close()


async def load(
    port: int, feed: Feed, *, connections: int, duration: float, warmup: float
) -> LoadResult:
    now = time.perf_counter()
    start, end = now + warmup, now + warmup + duration
    tally: dict = {"latencies": [], "errors": 0, "non_2xx": 0, "exhausted": end}
    await asyncio.gather(
        *(_connection(i, port, feed, (start, end), tally) for i in range(connections))
    )
    measured = max(1e-9, min(end, tally["exhausted"]) - start)
    latencies = sorted(tally["latencies"])
    if not latencies:
        return LoadResult(0, tally["errors"], tally["non_2xx"], measured, 0.0, 0.0, 0.0, "auth.py")
    return LoadResult(
        requests=len(latencies),
        errors=tally["errors"],
        non_2xx=tally["non_2xx"],
        duration=measured,
        rps=len(latencies) / measured,
        p50_ms=latencies[len(latencies) // 2] * 1e3,
        p99_ms=latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1e3,
        tool="auth.py client",
    )


def each(items: list[str], make: Callable[[str], bytes]) -> Callable[[int], bytes | None]:
    """Requests made from ``items``, one each, then None."""
    supply = iter(items)

    def request(_i: int) -> bytes | None:
        item = next(supply, None)
        return None if item is None else make(item)

    return request


# --- the routes -------------------------------------------------------------------------------


class Bench:
    def __init__(self, port: int, connections: int) -> None:
        self.port = port
        self.connections = connections
        self.game_key = ""
        self.session_token = ""
        self.devices: list[str] = []

    def _post(self, path: str, body: object = None, token: str = "") -> bytes:
        return request_bytes(self.port, "POST", path, body, token)

    def bare(self) -> Feed:
        request = request_bytes(self.port, "GET", "/bench/bare")
        return Feed(next=lambda _i: request)

    def device_signup(self) -> Feed:
        return Feed(
            next=lambda _i: self._post(f"{AUTH}/device", {"deviceId": secrets.token_hex(16)})
        )

    def device_signin(self) -> Feed:
        turn = iter(range(10**12))
        pool = self.devices
        return Feed(
            next=lambda _i: self._post(f"{AUTH}/device", {"deviceId": pool[next(turn) % len(pool)]})
        )

    def web_codes(self, count: int) -> Feed:
        left = iter(range(count))
        feed = Feed(next=lambda _i: None)

        def answered(_i: int, status: int, body: bytes) -> bool:
            if status == 200:
                feed.answers.append(json.loads(body)["code"].encode())
            return status == 200

        feed.next = lambda _i: (
            self._post(f"{AUTH}/web-code", token=self.session_token)
            if next(left, None) is not None
            else None
        )
        feed.answered = answered
        return feed

    def verify_token(self, codes: list[bytes]) -> Feed:
        supply = iter(codes)

        def request(_i: int) -> bytes | None:
            code = next(supply, None)
            if code is None:
                return None
            return self._post(f"{AUTH}/verify-token", {"token": code.decode()}, self.game_key)

        def answered(_i: int, status: int, body: bytes) -> bool:
            return status == 200 and b'"valid":true' in body

        return Feed(next=request, answered=answered)

    def refresh(self, tokens: list[str]) -> Feed:
        chains = list(tokens)

        def answered(i: int, status: int, body: bytes) -> bool:
            if status != 200:
                return False
            chains[i] = json.loads(body)["refreshToken"]
            return True

        return Feed(
            next=lambda i: self._post(f"{AUTH}/refresh", {"refreshToken": chains[i]}),
            answered=answered,
        )


async def provision(client: httpx.AsyncClient, admin_token: str, bench: Bench) -> None:
    admin = {"Authorization": f"Bearer {admin_token}"}
    game = (await client.post("/admin/v1/games", json={"name": "Bench"}, headers=admin)).json()
    key = await client.post(
        f"/admin/v1/games/{game['id']}/keys", json={"kind": "server"}, headers=admin
    )
    bench.game_key = key.json()["key"]
    bench.devices = [f"bench-device-{n:06d}" for n in range(SIGNIN_POOL)]
    feed = Feed(next=each(bench.devices, lambda d: bench._post(f"{AUTH}/device", {"deviceId": d})))
    await load(bench.port, feed, connections=bench.connections, duration=120, warmup=0)
    player = await client.post(f"{AUTH}/device", json={"deviceId": "bench-web-code-player"})
    bench.session_token = player.json()["sessionToken"]
    # Before measuring: each route answers what it should.
    first = await client.post(f"{AUTH}/device", json={"deviceId": bench.devices[0]})
    assert first.status_code == 200 and first.json()["created"] is False, first.text
    code = (
        await client.post(
            f"{AUTH}/web-code", headers={"Authorization": f"Bearer {bench.session_token}"}
        )
    ).json()["code"]
    checked = await client.post(
        f"{AUTH}/verify-token",
        json={"token": code},
        headers={"Authorization": f"Bearer {bench.game_key}"},
    )
    assert checked.json()["valid"] is True, checked.text


async def sessions_for(bench: Bench, count: int) -> list[str]:
    """``count`` fresh refresh tokens: one session per connection."""
    tokens: list[str] = []

    def answered(_i: int, status: int, body: bytes) -> bool:
        tokens.append(json.loads(body)["refreshToken"])
        return status == 200

    make = each(bench.devices[:count], lambda d: bench._post(f"{AUTH}/device", {"deviceId": d}))
    feed = Feed(next=make, answered=answered)
    await load(bench.port, feed, connections=1, duration=120, warmup=0)
    return tokens


# --- measurement ------------------------------------------------------------------------------


def cpu_times(server: Server) -> CpuTimes | None:
    """CPU times with the server's share summed over all its processes (several workers)."""
    assert server.proc is not None
    times = CpuTimes.read(server.proc.pid)
    if times is None:
        return None
    tick, total = os.sysconf("SC_CLK_TCK"), 0.0
    for pid in server.pids():
        with contextlib.suppress(OSError, ValueError):
            stat = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
            total += (int(stat[11]) + int(stat[12])) / tick
    return dataclasses.replace(times, server=total)


async def measured(server: Server, bench: Bench, feed: Feed, args: argparse.Namespace) -> Run:
    before, started = cpu_times(server), time.monotonic()
    result = await load(
        bench.port, feed, connections=args.connections, duration=args.duration, warmup=0.5
    )
    return Run.of(result, before, cpu_times(server), time.monotonic() - started)


async def feed_for(route: str, bench: Bench, args: argparse.Namespace) -> Feed:
    if route == "device signup":
        return bench.device_signup()
    if route == "device signin":
        return bench.device_signin()
    if route == "verify-token":
        feed = bench.web_codes(args.codes)
        await load(bench.port, feed, connections=args.connections, duration=120, warmup=0)
        return bench.verify_token(feed.answers)
    return bench.refresh(await sessions_for(bench, args.connections))


async def measure(server: Server, admin_token: str, args: argparse.Namespace) -> dict[str, dict]:
    bench = Bench(server.port, args.connections)
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
        await server.wait_ready(client)
        await provision(client, admin_token, bench)
    results: dict[str, dict] = {}
    for route in args.routes:
        runs: dict[str, list[Run]] = {"bare": [], route: []}
        for round_no in range(args.rounds):
            order = ("bare", route) if round_no % 2 == 0 else (route, "bare")
            for name in order:
                feed = bench.bare() if name == "bare" else await feed_for(route, bench, args)
                run = await measured(server, bench, feed, args)
                runs[name].append(run)
                progress(f"{route} round {round_no + 1}/{args.rounds} {name}: {run.load}")
        results[route] = {
            "bare": RouteFigures.of("/bench/bare", runs["bare"]),
            "route": RouteFigures.of(route, runs[route]),
        }
    return results


async def run(args: argparse.Namespace) -> dict[str, object]:
    load_before = os.getloadavg()
    if args.cpus:
        os.sched_setaffinity(0, {args.cpus[1]})
    admin_token = "gk_admin_" + secrets.token_urlsafe(32)
    async with throwaway_database(args.database_url) as database_url:
        with tempfile.TemporaryDirectory(prefix="gk-bench-") as data_dir:
            env = {
                "GAMEKEEPER_DATA_DIR": data_dir,
                "GAMEKEEPER_SECRET_KEY": secrets.token_urlsafe(48),
                "GAMEKEEPER_ADMIN_TOKEN": admin_token,
                "GAMEKEEPER_RATE_LIMITS_ENABLED": "false",
                "GAMEKEEPER_LOG_LEVEL": "WARNING",
                "GAMEKEEPER_DB_POOL_SIZE": str(args.pool),
            }
            if database_url:
                env["GAMEKEEPER_DATABASE_URL"] = database_url
            cpu = args.cpus[0] if args.cpus else None
            server = Server("auth:app_factory", env, cpu=cpu, workers=args.workers)
            try:
                server.start()
                results = await measure(server, admin_token, args)
            finally:
                server.stop()
    return {
        "benchmark": "auth",
        "date": time.strftime("%Y-%m-%d %H:%M:%S %z"),
        "machine": machine(),
        "database": "PostgreSQL (throwaway database)" if args.database_url else "SQLite (embedded)",
        "workers": args.workers,
        "pool_per_worker": args.pool,
        "connections": args.connections,
        "rounds": args.rounds,
        "duration_s": args.duration,
        "pinning": {"server_cpu": args.cpus[0], "load_cpu": args.cpus[1]} if args.cpus else None,
        "load_average": {"before": load_before, "after": os.getloadavg()},
        "routes": {
            route: {name: asdict(figures) for name, figures in pair.items()}
            for route, pair in results.items()
        },
    }


def render(report: dict) -> str:
    info = report["machine"]
    lines = [
        f"{info['cpus']} CPUs ({info['cpu']}), Python {info['python']}, {report['database']}; "
        f"{report['workers']} uvicorn worker(s); {report['connections']} connections, "
        f"{report['rounds']} rounds x "
        f"{report['duration_s']:g} s per route, alternating with the bare route; medians",
        "",
        f"{'route':<16}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'CPU us/req':>11}{'others':>8}"
        f"{'errors':>7}{'non-2xx':>8}{'bare req/s':>11}{'of bare':>9}",
    ]
    for route, pair in report["routes"].items():
        r, b = pair["route"], pair["bare"]
        lines.append(
            f"{route:<16}{r['rps']:>9,.0f}{r['p50_ms']:>9.2f}{r['p99_ms']:>9.2f}"
            f"{num(r['server_us'], '>11.0f')}{num(r['others_max'], '>8.2f')}{r['errors']:>7}"
            f"{r['non_2xx']:>8}{b['rps']:>11,.0f}{r['rps'] / b['rps'] if b['rps'] else 0:>9.1%}"
        )
    loads = report["load_average"]
    lines.append(
        "load average before: "
        + ", ".join(f"{x:.2f}" for x in loads["before"])
        + "; after: "
        + ", ".join(f"{x:.2f}" for x in loads["after"])
    )
    return "\n".join(lines)


def _run_loop(main: Coroutine[Any, Any, dict[str, object]]) -> dict[str, object]:
    """The load on uvloop when installed: the client's own cost per request bounds the rates."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(main)
    return uvloop.run(main)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per route and round")
    parser.add_argument("-c", "--connections", type=int, default=32)
    parser.add_argument("--codes", type=int, default=15000, help="web codes per verify round")
    parser.add_argument(
        "--pool",
        type=int,
        help="database pool per worker (default 16 in all, shared by the workers; the pool may"
        " open as many again under load: PostgreSQL's 100 connections serve other work too)",
    )
    parser.add_argument(
        "--workers", type=int, default=1, help="uvicorn workers (more than one: no CPU pinning)"
    )
    parser.add_argument("--routes", nargs="+", choices=ROUTES, default=list(ROUTES))
    parser.add_argument("--database-url", help="postgresql://user@host:port/db (default SQLite)")
    parser.add_argument("--no-pin", dest="pin", action="store_false", help="no CPU affinity")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    args = parser.parse_args(argv)
    if not (1 <= args.rounds <= 20 and 1 <= args.duration <= 120 and 1 <= args.connections <= 512):
        parser.error("rounds must be within 1..20, duration 1..120 s, connections 1..512")
    if not 1 <= args.workers <= 16:
        parser.error("workers must be within 1..16")
    args.pool = args.pool or max(2, 16 // args.workers)
    cpus = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    pin = args.pin and args.workers == 1 and len(cpus) >= 2
    args.cpus = cpus[:2] if pin else []
    report = _run_loop(run(args))
    print(json.dumps(report, indent=2) if args.json else render(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
