"""Authenticated route against a bare route: throughput of both on one server, in one run.

One uvicorn worker on 127.0.0.1 serves ``create_app`` with two extra routes:

- ``GET /bench/bare``: ``{"ok": true}``, no guard, opted out of the per-IP limit;
- ``GET /bench/auth``: ``require_key(KeyKind.SERVER)`` and the ``principal`` dependency,
  returning the key's game id: server key -> game, no other work.

Both pass the request-context middleware (request id, metrics) that wraps the whole app.
Rate limits are disabled: the benchmark measures authentication, not throttling
(``--with-limits`` adds a second server with limits on but set out of reach). The routes are
measured in turns (bare, auth, then auth, bare, ...) with the same load, and the medians over
the rounds are compared: the target is auth >= 50 % of bare.

    python bench/http_auth.py [--rounds 3] [--duration 10] [-c 32] [--with-limits] [--json]
    python bench/http_auth.py --database-url postgresql://postgres@127.0.0.1:5432/postgres

A PostgreSQL URL names the server and a database to connect to; the benchmark creates a
throwaway database there and drops it afterwards. The server process, the bare route and the
CPU accounting come from ``_harness.py``, shared with the other HTTP benchmarks.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import sys
import tempfile
import time
from dataclasses import asdict, dataclass

import httpx
from litestar import Litestar, get

from _harness import (
    DISTURBED,
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
from gamekeeper.api.deps import KeyPrincipalDep
from gamekeeper.api.guards import require_key
from gamekeeper.core.identity.types import KeyKind
from gamekeeper.settings import load_settings
from loadgen import LoadResult, run_load

TARGET = 0.5
APP = "http_auth:app_factory"
# Out of reach for any run this script makes, so the limiter counts but never refuses.
_UNREACHABLE = "1000000000/minute"
_LIMITS_ENABLED = "GAMEKEEPER_RATE_LIMITS_ENABLED"
_CATEGORIES = ("ip", "auth_failure", "admin", "server", "player", "public")


# --- the server under test ------------------------------------------------------------------


@get("/bench/auth", guards=[require_key(KeyKind.SERVER)])
async def authenticated(principal: KeyPrincipalDep) -> dict[str, str]:
    return {"game": principal.game_id}


def app_factory() -> Litestar:
    """For ``uvicorn --factory``: settings from the ``GAMEKEEPER_*`` variables the parent set."""
    app: Litestar = create_app(load_settings(), extra_routes=[bare, authenticated])
    return app


# --- provisioning and measurement -------------------------------------------------------------


@dataclass
class Variant:
    name: str
    redone: int  # rounds measured again because other processes took CPU meanwhile
    rate_limits: str
    tool: str
    bare: RouteFigures
    auth: RouteFigures

    @property
    def ratio(self) -> float:
        return self.auth.rps / self.bare.rps if self.bare.rps else 0.0

    @property
    def cost_ratio(self) -> float | None:
        """Bare over auth server CPU per request: the ratio an unshared core would give."""
        if self.bare.server_us is None or self.auth.server_us is None:
            return None
        return self.bare.server_us / self.auth.server_us

    @property
    def disturbed(self) -> bool:
        return any((f.others_max or 0.0) > DISTURBED for f in (self.bare, self.auth))

    @property
    def clean(self) -> bool:
        """No errors and no non-2xx answer: a 401 storm would look fast."""
        return not (self.bare.errors or self.bare.non_2xx or self.auth.errors or self.auth.non_2xx)


async def provision(client: httpx.AsyncClient, admin_token: str) -> tuple[str, str]:
    """A game and a server key through the admin API; returns (game id, key)."""
    admin = {"Authorization": f"Bearer {admin_token}"}
    response = await client.post("/admin/v1/games", json={"name": "Bench"}, headers=admin)
    response.raise_for_status()
    game_id: str = response.json()["id"]
    response = await client.post(
        f"/admin/v1/games/{game_id}/keys", json={"kind": "server"}, headers=admin
    )
    response.raise_for_status()
    key: str = response.json()["key"]
    return game_id, key


async def check_routes(client: httpx.AsyncClient, game_id: str, auth: dict[str, str]) -> None:
    """Before measuring: each route answers what it should, and the guard really refuses."""
    bare_answer = await client.get("/bench/bare")
    assert bare_answer.status_code == 200 and bare_answer.json() == {"ok": True}, bare_answer.text
    answer = await client.get("/bench/auth", headers=auth)
    assert answer.status_code == 200 and answer.json() == {"game": game_id}, answer.text
    refused = await client.get("/bench/auth")
    assert refused.status_code == 401, f"without a key: {refused.status_code} {refused.text}"


async def measure(name: str, server: Server, admin_token: str, args: argparse.Namespace) -> Variant:
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as client:
        await server.wait_ready(client)
        game_id, key = await provision(client, admin_token)
        auth = {"Authorization": f"Bearer {key}"}
        await check_routes(client, game_id, auth)
    targets = {"bare": (f"{server.url}/bench/bare", {}), "auth": (f"{server.url}/bench/auth", auth)}

    async def load(route: str, duration: float) -> LoadResult:
        url, headers = targets[route]
        return await run_load(
            url,
            headers=headers,
            connections=args.connections,
            duration=duration,
            warmup=0,
            tool=args.tool,
        )

    for route in targets:  # fills the key cache, the connection pool, the metric children
        await load(route, args.warmup)
    assert server.proc is not None
    runs: dict[str, list[Run]] = {"bare": [], "auth": []}
    redone = 0
    for round_no in range(args.rounds):
        order = ("bare", "auth") if round_no % 2 == 0 else ("auth", "bare")  # cancels drift
        for attempt in range(args.redo + 1):
            pair: dict[str, Run] = {}
            for route in order:
                await load(route, 1.0)  # the other route's connections go, this one's come
                before, started = CpuTimes.read(server.proc.pid), time.monotonic()
                result = await load(route, args.duration)
                wall = time.monotonic() - started
                pair[route] = Run.of(result, before, CpuTimes.read(server.proc.pid), wall)
                progress(f"{name} round {round_no + 1}/{args.rounds} {route}: {result}")
            others = max(run.others or 0.0 for run in pair.values())
            if others <= DISTURBED or attempt == args.redo:
                break
            redone += 1
            progress(f"other processes took {others:.2f} cores: round {round_no + 1} again")
            await asyncio.sleep(5)
        for route, run in pair.items():
            runs[route].append(run)
    return Variant(
        name=name,
        redone=redone,
        rate_limits="on, out of reach" if server.env[_LIMITS_ENABLED] == "true" else "disabled",
        tool=runs["bare"][0].load.tool,
        bare=RouteFigures.of("/bench/bare", runs["bare"]),
        auth=RouteFigures.of("/bench/auth", runs["auth"]),
    )


async def run_variant(
    name: str, *, limits: bool, database_url: str | None, args: argparse.Namespace
) -> Variant:
    admin_token = "gk_admin_" + secrets.token_urlsafe(32)
    with tempfile.TemporaryDirectory(prefix="gk-bench-") as data_dir:
        env = {
            "GAMEKEEPER_DATA_DIR": data_dir,
            "GAMEKEEPER_SECRET_KEY": secrets.token_urlsafe(48),
            "GAMEKEEPER_ADMIN_TOKEN": admin_token,
            _LIMITS_ENABLED: "true" if limits else "false",
            "GAMEKEEPER_LOG_LEVEL": "WARNING",
            "GAMEKEEPER_AUTO_MIGRATE": "true",
        }
        if database_url:
            env["GAMEKEEPER_DATABASE_URL"] = database_url
        if limits:
            env["GAMEKEEPER_RATE_LIMITS"] = json.dumps(dict.fromkeys(_CATEGORIES, _UNREACHABLE))
        server = Server(APP, env, cpu=args.cpus[0] if args.cpus else None)
        try:
            server.start()
            return await measure(name, server, admin_token, args)
        finally:
            server.stop()


# --- report -----------------------------------------------------------------------------------


def render(report: dict[str, object], variants: list[Variant], args: argparse.Namespace) -> str:
    info, loads = report["machine"], report["load_average"]
    assert isinstance(info, dict) and isinstance(loads, dict)
    lines = [
        f"{info['cpus']} CPUs ({info['cpu']}), Python {info['python']}, {report['database']}; "
        "1 uvicorn worker"
        + (f" on CPU {args.cpus[0]}, load generator on CPU {args.cpus[1]}" if args.cpus else ""),
        f"{args.connections} connections, {args.rounds} rounds x {args.duration:g} s per route, "
        "alternating; medians over the rounds",
        "Both routes pass the request-context middleware (request id + metrics) around the app.",
        "",
        f"{'':<22}{'route':<6}{'req/s':>8}{'p50 ms':>8}{'p99 ms':>8}{'CPU us/req':>11}"
        f"{'busy':>6}{'others':>8}{'errors':>7}{'non-2xx':>8}   req/s per round",
    ]
    for v in variants:
        for figures in (v.bare, v.auth):
            label = v.name if figures is v.bare else ""
            per_round = " / ".join(f"{rps:,.0f}" for rps in figures.rounds_rps)
            lines.append(
                f"{label:<22}{figures.route.rsplit('/', 1)[1]:<6}{figures.rps:>8,.0f}"
                f"{figures.p50_ms:>8.2f}{figures.p99_ms:>8.2f}{num(figures.server_us, '>11.1f')}"
                f"{num(figures.server_busy, '>6.0%')}{num(figures.others_max, '>8.2f')}"
                f"{figures.errors:>7}{figures.non_2xx:>8}   {per_round}"
            )
        cost = f"; by server CPU per request {v.cost_ratio:.1%}" if v.cost_ratio else ""
        redone = f"; {v.redone} disturbed round(s) measured again" if v.redone else ""
        lines.append(
            f"{'':<22}auth/bare = {v.ratio:.1%} (target >= {TARGET:.0%}): {_verdict(v)}{cost}; "
            f"rate limits {v.rate_limits}; {v.tool}{redone}"
        )
    lines += [
        "CPU us/req: server CPU time per request; busy: share of one core the server used;",
        f"others: cores other processes used meanwhile (worst round; > {DISTURBED}: disturbed).",
        "load average before the run: "
        + ", ".join(f"{x:.2f}" for x in loads["before"])
        + "; after (includes this benchmark): "
        + ", ".join(f"{x:.2f}" for x in loads["after"]),
    ]
    return "\n".join(lines)


def _verdict(variant: Variant) -> str:
    if not variant.clean:
        return "INVALID (errors or non-2xx answers)"
    if variant.disturbed:
        return "DISTURBED (other processes took CPU: rerun)"
    return "PASS" if variant.ratio >= TARGET else "FAIL"


# --- command line -----------------------------------------------------------------------------


async def run(args: argparse.Namespace) -> tuple[dict[str, object], list[Variant]]:
    load_before = os.getloadavg()
    if args.cpus:
        os.sched_setaffinity(0, {args.cpus[1]})  # wrk and the built-in client inherit it
    async with throwaway_database(args.database_url) as database_url:
        variants = [
            await run_variant("rate limits off", limits=False, database_url=database_url, args=args)
        ]
        if args.with_limits:
            variants.append(
                await run_variant(
                    "rate limits on (high)", limits=True, database_url=database_url, args=args
                )
            )
    report: dict[str, object] = {
        "benchmark": "http_auth",
        "date": time.strftime("%Y-%m-%d %H:%M:%S %z"),
        "machine": machine(),
        "database": "PostgreSQL (throwaway database)" if args.database_url else "SQLite (embedded)",
        "connections": args.connections,
        "rounds": args.rounds,
        "duration_s": args.duration,
        "pinning": {"server_cpu": args.cpus[0], "load_cpu": args.cpus[1]} if args.cpus else None,
        "target": TARGET,
        "load_average": {"before": load_before, "after": os.getloadavg()},
        "variants": [
            {
                **asdict(v),
                "ratio": round(v.ratio, 4),
                "cost_ratio": v.cost_ratio and round(v.cost_ratio, 4),
                "verdict": _verdict(v),
            }
            for v in variants
        ],
    }
    return report, variants


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per route and round")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds per route, once")
    parser.add_argument("-c", "--connections", type=int, default=32)
    parser.add_argument("--tool", choices=("auto", "wrk", "builtin"), default="auto")
    parser.add_argument("--database-url", help="postgresql://user@host:port/db (default SQLite)")
    parser.add_argument("--with-limits", action="store_true", help="also measure limits on")
    parser.add_argument("--no-pin", dest="pin", action="store_false", help="no CPU affinity")
    parser.add_argument(
        "--redo", type=int, default=2, help="times a disturbed round may be measured again"
    )
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    args = parser.parse_args(argv)
    if not (1 <= args.rounds <= 20 and 1 <= args.duration <= 120 and 0 < args.warmup <= 60):
        parser.error("rounds must be within 1..20, duration 1..120 s, warm-up 0..60 s")
    if not 0 <= args.redo <= 10:
        parser.error("--redo must be within 0..10")
    # The server on one CPU, the load generator on another: they do not take turns on a core.
    cpus = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    args.cpus = cpus[:2] if args.pin and len(cpus) >= 2 else []
    report, variants = asyncio.run(run(args))
    print(json.dumps(report, indent=2) if args.json else render(report, variants, args))
    return 0 if _verdict(variants[0]) == "PASS" else 1  # the limits-on figure is informative


if __name__ == "__main__":
    sys.exit(main())
