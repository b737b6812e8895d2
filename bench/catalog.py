"""OGP catalog reads against a bare route: throughput of each on one server, in one run.

One uvicorn worker on 127.0.0.1 serves ``create_app`` with one extra route,
``GET /bench/bare`` (``{"ok": true}``, no guard), on a throwaway PostgreSQL database holding
10,000 listed games. Measured, in alternating rounds with the same load:

- ``bare``: ``GET /bench/bare``;
- ``list``: ``GET /games?limit=50&query=quest&sortBy=name&sort=asc``: a search matching 10 %
  of the games (1,000; in the name of half of them, the description of the other half),
  sorted by name, first page of 50, with ``total`` and ``hasMore``;
- ``get``: ``GET /games/id/{id}``: one game by id. The load generator sends one URL, so it is
  always the same id (a primary-key lookup: the database's caches make any id as hot).

Targets: list >= 25 % of bare, get >= 40 % of bare (medians over the rounds). Rate limits are
disabled: the benchmark measures the catalog, not throttling.

Seeding: the developer is created through the admin API and one game is registered through
``POST /games`` (HMAC, base64 PNG); its ``game`` and ``listing`` rows are then copied 9,999
times with SQLAlchemy Core in one transaction (new ids, slugs, names, descriptions, money
figures and dates), so that every row has the shape the API writes.

    python bench/catalog.py --database-url postgresql://postgres@127.0.0.1:5432/postgres
    python bench/catalog.py --database-url ... --rounds 1 --duration 3   # a quick look
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import os
import random
import secrets
import sys
import tempfile
import time
import uuid
from dataclasses import asdict, dataclass
from datetime import timedelta
from decimal import Decimal

import httpx
from litestar import Litestar
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import create_async_engine

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
from gamekeeper.db.tables.catalog import listing
from gamekeeper.db.tables.identity import game
from gamekeeper.settings import load_settings, normalize_database_url
from loadgen import LoadResult, run_load

APP = "catalog:app_factory"
TARGETS = {"list": 0.25, "get": 0.40}
GAMES = 10_000
QUERY = "quest"  # in 10 % of the games; no other word of the generated text contains it
LIST_PATH = f"/games?limit=50&query={QUERY}&sortBy=name&sort=asc"
PNG_1X1 = (
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP438AAAAQBAYDFKhhdAAAAAElFTkSuQmCC"
)
_ADJECTIVES = [
    "Amber",
    "Brave",
    "Cosmic",
    "Dark",
    "Electric",
    "Frozen",
    "Golden",
    "Hidden",
    "Iron",
    "Jade",
    "Lunar",
    "Mystic",
    "Neon",
    "Silent",
    "Rapid",
    "Scarlet",
    "Tiny",
    "Wild",
    "Crimson",
    "Velvet",
]
_NOUNS = [
    "Dragon",
    "Knight",
    "Racer",
    "Garden",
    "Tower",
    "Kingdom",
    "Pixel",
    "Rocket",
    "Island",
    "Dungeon",
    "Harbor",
    "Forest",
    "Arena",
    "Galaxy",
    "Puzzle",
    "Maze",
    "Legend",
    "Empire",
    "Voyage",
    "Tactics",
]


def app_factory() -> Litestar:
    """For ``uvicorn --factory``: settings from the ``GAMEKEEPER_*`` variables the parent set."""
    app: Litestar = create_app(load_settings(), extra_routes=[bare])
    return app


# --- seeding ------------------------------------------------------------------------------------


def _hmac_header(api_key: str, secret: str, method: str, path: str) -> str:
    timestamp = str(int(time.time()))
    message = f"{method.lower()}\n{path.lower()}\n{timestamp}".encode()
    signature = hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()
    return f"HMAC-SHA256 apiKey={api_key}, signature={signature}, timestamp={timestamp}"


async def register_template(client: httpx.AsyncClient, admin_token: str) -> str:
    """A developer (admin API) and one game registered through the OGP API; its id."""
    admin = {"Authorization": f"Bearer {admin_token}"}
    response = await client.post(
        "/admin/v1/developers", json={"name": "Bench", "email": "bench@example.com"}, headers=admin
    )
    response.raise_for_status()
    developer = response.json()
    auth = _hmac_header(developer["apiKey"], developer["secretKey"], "POST", "/games")
    response = await client.post(
        "/games",
        json={
            "name": "Amber Quest Template",
            "description": "The row every benchmark game is copied from.",
            "gameUrl": "https://template.example.com/",
            "platform": "WEB",
            "base64Image": f"data:image/png;base64,{PNG_1X1}",
        },
        headers={"Authorization": auth},
    )
    response.raise_for_status()
    game_id: str = response.json()["data"]["id"]
    return game_id


async def seed(database_url: str, template_id: str, count: int) -> list[str]:
    """Copy the template's game and listing rows until ``count`` games exist; all ids."""
    engine = create_async_engine(normalize_database_url(database_url))
    rng = random.Random(42)
    try:
        async with engine.begin() as conn:
            game_row = dict(
                (await conn.execute(select(game).where(game.c.id == template_id))).mappings().one()
            )
            listing_row = dict(
                (await conn.execute(select(listing).where(listing.c.game_id == template_id)))
                .mappings()
                .one()
            )
            games, listings, ids = [], [], [template_id]
            for number in range(1, count):
                game_id = str(uuid.uuid4())
                ids.append(game_id)
                words = f"{rng.choice(_ADJECTIVES)} {rng.choice(_NOUNS)}"
                hit = number % 10 == 0  # 10 % match QUERY: half by name, half by description
                name = f"{words} {'Quest ' if hit and number % 20 == 0 else ''}{number:05d}"
                about = "hunt" if not hit or number % 20 == 0 else QUERY
                description = f"A {words.lower()} game about the great {about} number {number}."
                created = game_row["created_at"] - timedelta(minutes=number)
                games.append(
                    {
                        **game_row,
                        "id": game_id,
                        "slug": f"bench-{number:05d}",
                        "name": name,
                        "game_url": f"https://game-{number}.example.com/",
                        "created_at": created,
                        "updated_at": created,
                    }
                )
                money = [Decimal(rng.randrange(0, 10_000_000)) / 100 for _ in range(4)]
                listings.append(
                    {
                        **listing_row,
                        "game_id": game_id,
                        "description": description,
                        "total_rewards_allocated_usd": money[0],
                        "total_rewards_pool_value_usd": money[1],
                        "estimated_daily_rewards_usd": money[2],
                        "market_cap": money[3],
                        "player_count": rng.randrange(0, 100_000),
                        "created_at": created,
                        "updated_at": created,
                    }
                )
            for start in range(0, len(games), 2_000):
                await conn.execute(insert(game), games[start : start + 2_000])
                await conn.execute(insert(listing), listings[start : start + 2_000])
        async with engine.connect() as conn:
            await conn.exec_driver_sql("ANALYZE game")
            await conn.exec_driver_sql("ANALYZE listing")
    finally:
        await engine.dispose()
    return ids


async def check_routes(client: httpx.AsyncClient, game_id: str) -> dict[str, object]:
    """Before measuring: each route answers what it should."""
    answer = await client.get("/bench/bare")
    assert answer.status_code == 200 and answer.json() == {"ok": True}, answer.text
    answer = await client.get(LIST_PATH)
    assert answer.status_code == 200, answer.text
    page = answer.json()["data"]
    names = [item["name"] for item in page["items"]]
    assert len(names) == 50 and page["hasMore"], page
    assert names == sorted(names, key=str.lower), names
    assert all(QUERY in (item["name"] + item["description"]).lower() for item in page["items"]), (
        names
    )
    answer = await client.get(f"/games/id/{game_id}")
    assert answer.status_code == 200 and answer.json()["data"]["id"] == game_id, answer.text
    return {"list_total": page["total"], "list_body_bytes": len(answer.content)}


# --- measurement --------------------------------------------------------------------------------


@dataclass
class Result:
    tool: str
    bare: RouteFigures
    routes: dict[str, RouteFigures]
    seed_seconds: float
    list_total: int

    def ratio(self, route: str) -> float:
        return self.routes[route].rps / self.bare.rps if self.bare.rps else 0.0

    def verdict(self, route: str) -> str:
        figures = (self.bare, self.routes[route])
        if any(f.errors or f.non_2xx for f in figures):
            return "INVALID (errors or non-2xx answers)"
        return "PASS" if self.ratio(route) >= TARGETS[route] else "FAIL"


async def measure(server: Server, admin_token: str, database_url: str, args: argparse.Namespace):  # type: ignore[no-untyped-def]
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
        await server.wait_ready(client)
        template = await register_template(client, admin_token)
        started = time.monotonic()
        ids = await seed(database_url, template, GAMES)
        seed_seconds = time.monotonic() - started
        progress(f"seeded {len(ids)} games in {seed_seconds:.1f} s")
        game_id = ids[len(ids) // 2]
        checked = await check_routes(client, game_id)
    targets = {
        "bare": f"{server.url}/bench/bare",
        "list": f"{server.url}{LIST_PATH}",
        "get": f"{server.url}/games/id/{game_id}",
    }

    async def load(route: str, duration: float) -> LoadResult:
        return await run_load(
            targets[route],
            connections=args.connections,
            duration=duration,
            warmup=0,
            tool=args.tool,
        )

    for route in targets:
        await load(route, args.warmup)
    assert server.proc is not None
    runs: dict[str, list[Run]] = {route: [] for route in targets}
    order = list(targets)
    for round_no in range(args.rounds):
        for route in order if round_no % 2 == 0 else order[::-1]:  # cancels drift
            await load(route, 1.0)
            before, started = CpuTimes.read(server.proc.pid), time.monotonic()
            result = await load(route, args.duration)
            wall = time.monotonic() - started
            runs[route].append(Run.of(result, before, CpuTimes.read(server.proc.pid), wall))
            progress(f"round {round_no + 1}/{args.rounds} {route}: {result}")
    return Result(
        tool=runs["bare"][0].load.tool,
        bare=RouteFigures.of("/bench/bare", runs["bare"]),
        routes={
            "list": RouteFigures.of(LIST_PATH, runs["list"]),
            "get": RouteFigures.of("/games/id/{id}", runs["get"]),
        },
        seed_seconds=seed_seconds,
        list_total=int(checked["list_total"]),  # type: ignore[call-overload]
    )


async def run(args: argparse.Namespace) -> tuple[dict[str, object], Result]:
    load_before = os.getloadavg()
    if args.cpus:
        os.sched_setaffinity(0, {args.cpus[1]})  # wrk and the built-in client inherit it
    admin_token = "gk_admin_" + secrets.token_urlsafe(32)
    async with throwaway_database(args.database_url) as database_url:
        assert database_url is not None
        with tempfile.TemporaryDirectory(prefix="gk-bench-") as data_dir:
            env = {
                "GAMEKEEPER_DATA_DIR": data_dir,
                "GAMEKEEPER_SECRET_KEY": secrets.token_urlsafe(48),
                "GAMEKEEPER_ADMIN_TOKEN": admin_token,
                "GAMEKEEPER_RATE_LIMITS_ENABLED": "false",
                "GAMEKEEPER_LOG_LEVEL": "WARNING",
                "GAMEKEEPER_AUTO_MIGRATE": "true",
                "GAMEKEEPER_DATABASE_URL": database_url,
            }
            server = Server(APP, env, cpu=args.cpus[0] if args.cpus else None)
            try:
                server.start()
                result = await measure(server, admin_token, database_url, args)
            finally:
                server.stop()
    report: dict[str, object] = {
        "benchmark": "catalog",
        "date": time.strftime("%Y-%m-%d %H:%M:%S %z"),
        "machine": machine(),
        "database": "PostgreSQL (throwaway database)",
        "games": GAMES,
        "list_total": result.list_total,
        "seed_seconds": round(result.seed_seconds, 2),
        "connections": args.connections,
        "rounds": args.rounds,
        "duration_s": args.duration,
        "pinning": {"server_cpu": args.cpus[0], "load_cpu": args.cpus[1]} if args.cpus else None,
        "load_average": {"before": load_before, "after": os.getloadavg()},
        "bare": asdict(result.bare),
        "routes": {
            route: {
                **asdict(figures),
                "ratio": round(result.ratio(route), 4),
                "target": TARGETS[route],
                "verdict": result.verdict(route),
            }
            for route, figures in result.routes.items()
        },
        "tool": result.tool,
    }
    return report, result


def render(report: dict[str, object], result: Result, args: argparse.Namespace) -> str:
    info = report["machine"]
    assert isinstance(info, dict)
    lines = [
        f"{info['cpus']} CPUs ({info['cpu']}), Python {info['python']}, PostgreSQL; "
        "1 uvicorn worker"
        + (f" on CPU {args.cpus[0]}, load generator on CPU {args.cpus[1]}" if args.cpus else ""),
        f"{GAMES:,} games ({result.list_total:,} match {QUERY!r}), seeded in "
        f"{result.seed_seconds:.1f} s; {args.connections} connections, {args.rounds} rounds x "
        f"{args.duration:g} s per route, alternating; medians; {result.tool}",
        "",
        f"{'route':<6}{'req/s':>8}{'p50 ms':>8}{'p99 ms':>8}{'CPU us/req':>11}{'busy':>6}"
        f"{'others':>8}{'errors':>7}{'non-2xx':>8}   req/s per round",
    ]
    for name, figures in (("bare", result.bare), *result.routes.items()):
        per_round = " / ".join(f"{rps:,.0f}" for rps in figures.rounds_rps)
        lines.append(
            f"{name:<6}{figures.rps:>8,.0f}{figures.p50_ms:>8.2f}{figures.p99_ms:>8.2f}"
            f"{num(figures.server_us, '>11.1f')}{num(figures.server_busy, '>6.0%')}"
            f"{num(figures.others_max, '>8.2f')}{figures.errors:>7}{figures.non_2xx:>8}"
            f"   {per_round}"
        )
    for route in result.routes:
        lines.append(
            f"{route}/bare = {result.ratio(route):.1%} (target >= {TARGETS[route]:.0%}): "
            f"{result.verdict(route)}"
        )
    lines.append(f"list: GET {LIST_PATH}; get: GET /games/id/<one id>")
    lines.append("CPU us/req, busy: the uvicorn process only (PostgreSQL's work is not in it).")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True, help="postgresql://… (server to use)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per route and round")
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("-c", "--connections", type=int, default=32)
    parser.add_argument("--tool", choices=("auto", "wrk", "builtin"), default="auto")
    parser.add_argument("--no-pin", dest="pin", action="store_false")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    cpus = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    args.cpus = cpus[:2] if args.pin and len(cpus) >= 2 else []
    report, result = asyncio.run(run(args))
    print(json.dumps(report, indent=2) if args.json else render(report, result, args))
    return 0 if all(result.verdict(route) == "PASS" for route in result.routes) else 1


if __name__ == "__main__":
    sys.exit(main())
