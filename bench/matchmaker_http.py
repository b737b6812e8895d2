"""Matchmaking over HTTP in embedded mode: 10,000 clients enqueue and poll; then poll throughput.

One uvicorn worker serves ``create_app`` (SQLite, in-process matchmaker) plus the bare route.

1. Matching: 10,000 test clients authenticate, then each places a 1v1 request (64 at a time)
   and polls it until matched. Reported: the time from the last request placed to the last
   session formed, both read from the server's own records (``match_request.created_at``,
   ``match_session.created_at``), so polling speed does not enter the figure. Target: all
   matched within 2 s of the last enqueue.
2. Status polls: ``GET /v1a/client/match/{token}`` of a matched client (the largest answer:
   session, teams, tickets) against the bare route, in alternating rounds with the same load.
   Target: polls at >= 50 % of bare.

    python bench/matchmaker.py http [--clients 10000] [--rounds 3] [--duration 10] [-c 32]
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import sqlite3
import tempfile
import time
from datetime import datetime
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
    progress,
)
from gamekeeper.api.app import create_app
from gamekeeper.settings import load_settings
from loadgen import run_load

APP = "matchmaker_http:app_factory"
PARALLEL = 64  # clients in flight while enqueueing and polling
SIGN_IN_PARALLEL = 16  # sign-ins are writes; on SQLite they queue for the one writer anyway


def app_factory() -> Litestar:
    """For ``uvicorn --factory``: settings from the ``GAMEKEEPER_*`` variables the parent set."""
    app: Litestar = create_app(load_settings(), extra_routes=[bare])
    return app


async def _gather_limited(calls: list[Any], parallel: int = PARALLEL) -> list[Any]:
    gate = asyncio.Semaphore(parallel)

    async def one(call: Any) -> Any:
        async with gate:
            return await call

    return await asyncio.gather(*(one(c) for c in calls))


async def provision(client: httpx.AsyncClient, admin_token: str, count: int) -> list[str]:
    admin = {"Authorization": f"Bearer {admin_token}"}
    game = (await client.post("/admin/v1/games", json={"name": "Bench"}, headers=admin)).json()
    key = (
        await client.post(
            f"/admin/v1/games/{game['id']}/keys", json={"kind": "test"}, headers=admin
        )
    ).json()["key"]

    async def auth(number: int) -> str:
        body = {"projectId": game["id"], "auth": {"testKey": key, "testId": str(number)}}
        response = await client.post("/v1a/client/auth", json=body)
        response.raise_for_status()
        token: str = response.json()["clientToken"]
        return token

    return await _gather_limited([auth(n) for n in range(count)], SIGN_IN_PARALLEL)


async def enqueue_and_poll(client: httpx.AsyncClient, tokens: list[str]) -> tuple[list[str], float]:
    """Place every request, then poll each until matched; the match tokens and the seconds
    placing took."""

    async def place(token: str) -> str:
        response = await client.post(
            "/v1a/client/match",
            json={"teamSizes": [1, 1], "maxMatchTime": 60},
            headers={"Authorization": f"Bearer {token}"},
        )
        response.raise_for_status()
        match_token: str = response.json()["matchToken"]
        return match_token

    async def poll(token: str, match_token: str) -> None:
        headers = {"Authorization": f"Bearer {token}"}
        while True:
            answer = (await client.get(f"/v1a/client/match/{match_token}", headers=headers)).json()
            if answer["status"] == "matched":
                return
            if answer["status"] != "inProgress":
                raise RuntimeError(f"request ended {answer}")
            await asyncio.sleep(0.05)

    started = time.monotonic()
    matches = await _gather_limited([place(t) for t in tokens])
    placing = time.monotonic() - started
    await _gather_limited([poll(t, m) for t, m in zip(tokens, matches, strict=True)])
    return matches, placing


def _server_times(data_dir: str) -> tuple[float, float, int]:
    """Last request placed, last session formed (epoch seconds), sessions: from the database."""
    with sqlite3.connect(Path(data_dir) / "gamekeeper.db") as db:
        placed = db.execute("SELECT max(created_at) FROM match_request").fetchone()[0]
        formed, sessions = db.execute(
            "SELECT max(created_at), count(*) FROM match_session"
        ).fetchone()
    return _epoch(placed), _epoch(formed), sessions


def _epoch(value: Any) -> float:
    if isinstance(value, int | float):
        return float(value)
    return datetime.fromisoformat(str(value)).timestamp()


async def measure_polls(
    server: Server, token: str, match_token: str, args: argparse.Namespace
) -> dict[str, RouteFigures]:
    targets = {
        "bare": (f"{server.url}/bench/bare", {}),
        "poll": (
            f"{server.url}/v1a/client/match/{match_token}",
            {"Authorization": f"Bearer {token}"},
        ),
    }
    runs: dict[str, list[Run]] = {"bare": [], "poll": []}
    assert server.proc is not None
    for round_no in range(args.rounds):
        for route in ("bare", "poll") if round_no % 2 == 0 else ("poll", "bare"):
            url, headers = targets[route]
            await run_load(
                url, headers=headers, connections=args.connections, duration=1.0, warmup=0
            )
            before, started = CpuTimes.read(server.proc.pid), time.monotonic()
            result = await run_load(
                url, headers=headers, connections=args.connections, duration=args.duration, warmup=0
            )
            runs[route].append(
                Run.of(result, before, CpuTimes.read(server.proc.pid), time.monotonic() - started)
            )
            progress(f"round {round_no + 1}/{args.rounds} {route}: {result}")
    return {route: RouteFigures.of(targets[route][0], values) for route, values in runs.items()}


async def run(args: argparse.Namespace) -> dict[str, Any]:
    admin_token = "gk_admin_" + secrets.token_urlsafe(32)
    with tempfile.TemporaryDirectory(prefix="gk-bench-") as data_dir:
        env = {
            "GAMEKEEPER_DATA_DIR": data_dir,
            "GAMEKEEPER_SECRET_KEY": secrets.token_urlsafe(48),
            "GAMEKEEPER_ADMIN_TOKEN": admin_token,
            "GAMEKEEPER_RATE_LIMITS_ENABLED": "false",
            "GAMEKEEPER_LOG_LEVEL": "WARNING",
        }
        server = Server(APP, env)
        server.start()
        try:
            async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
                await server.wait_ready(client)
                progress(f"authenticating {args.clients} clients")
                tokens = await provision(client, admin_token, args.clients)
                progress("placing requests and polling until every one is matched")
                matches, placing = await enqueue_and_poll(client, tokens)
            placed, formed, sessions = _server_times(data_dir)
            polls = await measure_polls(server, tokens[0], matches[0], args)
        finally:
            server.stop()
    return {
        "machine": machine(),
        "clients": args.clients,
        "sessions": sessions,
        "placing_seconds": round(placing, 2),
        "placed_per_second": round(args.clients / placing),
        "last_enqueue_to_last_match_seconds": round(formed - placed, 3),
        "bare": polls["bare"],
        "poll": polls["poll"],
        "poll_ratio": polls["poll"].rps / polls["bare"].rps,
    }


def render(result: dict[str, Any]) -> str:
    bare, poll = result["bare"], result["poll"]
    return "\n".join(
        [
            f"{result['clients']:,} clients -> {result['sessions']:,} sessions; placing took "
            f"{result['placing_seconds']} s ({result['placed_per_second']:,} requests/s)",
            f"last enqueue -> last match: {result['last_enqueue_to_last_match_seconds']} s "
            "(target <= 2 s)",
            _line("bare route", bare),
            _line("status poll", poll),
            f"poll / bare   {result['poll_ratio']:.1%} (target >= 50 %)",
        ]
    )


def _line(name: str, figures: RouteFigures) -> str:
    return (
        f"{name:<13} {figures.rps:>9,.0f} req/s  "
        f"p50 {figures.p50_ms:.2f} ms  p99 {figures.p99_ms:.2f} ms"
    )


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--clients", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("-c", "--connections", type=int, default=32)


def main(args: argparse.Namespace) -> int:
    print(render(asyncio.run(run(args))))
    return 0
