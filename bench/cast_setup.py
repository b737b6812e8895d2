"""What ``bench/cast.py`` sets up: servers, sessions and players, the load generator processes,
and what it reads from ``/proc``."""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import sys
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from _harness import BENCH_DIR, Server

ORIGIN = "https://play.example.com"
CAST = "/api/v1/cast"
PROVISIONING = 32  # HTTP requests in flight while provisioning


# --- /proc ------------------------------------------------------------------------------------


def cpu_and_rss(pid: int) -> tuple[float, int]:
    """CPU seconds and RSS (KiB) of a process."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    rss = int(fields[21]) * os.sysconf("SC_PAGE_SIZE") // 1024
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK"), rss


def machine_busy() -> float:
    """CPU seconds all CPUs spent busy (all but idle and iowait)."""
    cpu = [int(x) for x in Path("/proc/stat").read_text().split(maxsplit=9)[1:9]]
    return (sum(cpu) - cpu[3] - cpu[4]) / os.sysconf("SC_CLK_TCK")


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


# --- the servers ------------------------------------------------------------------------------


def ws_url(server: Server, path: str = f"{CAST}/ws") -> str:
    return server.url.replace("http://", "ws://") + path


async def start_server(env: dict[str, str], name: str, **extra: str) -> Server:
    """A server under test (``cast_app.py``) with a data directory of its own, ready."""
    data = Path(env["GAMEKEEPER_DATA_DIR"]) / name
    data.mkdir()
    server = Server("cast_app:app_factory", {**env, "GAMEKEEPER_DATA_DIR": str(data), **extra})
    server.start()
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
        await server.wait_ready(client)
    return server


async def gc_pauses(servers: list[Server]) -> list[dict[str, float]]:
    """Each server's full collections since the last call (``/bench/gc``)."""
    async with httpx.AsyncClient(timeout=30) as http:
        return [(await http.get(f"{s.url}/bench/gc")).json() for s in servers]


async def gauge(server: Server, name: str) -> float | None:
    """The sum of a Prometheus metric's samples on the server's ``/metrics``."""
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        text = (await http.get("/metrics")).text
    values = [float(line.split()[-1]) for line in text.splitlines() if line.startswith(name)]
    return sum(values) if values else None


async def _post(
    http: httpx.AsyncClient, path: str, body: dict[str, Any], headers: dict[str, str] | None = None
) -> dict[str, Any]:
    """POST; again on a connection closed as it was reused (neither request here has an
    effect worth avoiding twice: a spare session, the same player signed in again)."""
    for attempt in range(3):
        try:
            answer = await http.post(path, json=body, headers=headers)
        except httpx.TransportError:
            if attempt == 2:
                raise
            continue
        if answer.status_code not in (200, 201):
            raise RuntimeError(f"{path}: {answer.status_code} {answer.text[:200]}")
        found: dict[str, Any] = answer.json()
        return found
    raise AssertionError("unreachable")


async def provision(
    server: Server, admin_token: str, count: int, players: int
) -> list[dict[str, Any]]:
    """A game, ``count`` sessions and ``players`` signed-in players for each (they join as
    their controller attaches, with the code)."""
    admin = {"Authorization": f"Bearer {admin_token}"}
    gate = asyncio.Semaphore(PROVISIONING)
    limits = httpx.Limits(max_connections=PROVISIONING)
    async with httpx.AsyncClient(base_url=server.url, timeout=60, limits=limits) as http:
        game = await _post(
            http, "/admin/v1/games", {"name": "Cast", "allowedOrigins": [ORIGIN]}, admin
        )
        key = await _post(http, f"/admin/v1/games/{game['id']}/keys", {"kind": "server"}, admin)
        game_key = {"Authorization": f"Bearer {key['key']}"}

        async def session(n: int) -> dict[str, Any]:
            async with gate:
                wanted = {"gameId": game["id"], "gameUrl": f"{ORIGIN}/play"}
                made = await _post(http, f"{CAST}/session", wanted, game_key)
                tokens = []
                for p in range(players):
                    device = {"deviceId": f"bench-cast-{secrets.token_hex(8)}-{n}-{p}"}
                    tokens.append(
                        (await _post(http, "/api/v1/auth/device", device))["sessionToken"]
                    )
                receiver_key = parse_qs(urlsplit(made["receiverUrl"]).query)["key"][0]
                return {
                    "sid": made["sessionId"],
                    "key": receiver_key,
                    "code": made["joinCode"],
                    "tokens": tokens,
                }

        return list(await asyncio.gather(*(session(n) for n in range(count))))


# --- the load generators ----------------------------------------------------------------------


class Generators:
    """The load generator processes (``cast_load.py``), each with its share of the sessions."""

    def __init__(self, count: int, sessions: list[dict[str, Any]], compression: bool) -> None:
        self.count, self.sessions, self.compression = count, sessions, compression
        self.procs: list[asyncio.subprocess.Process] = []

    def share(self, n: int) -> list[dict[str, Any]]:
        return self.sessions[n :: self.count]

    async def start(self) -> None:
        script = str(BENCH_DIR / "cast_load.py")
        for n in range(self.count):
            proc = await asyncio.create_subprocess_exec(
                sys.executable,
                script,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                limit=2**26,
            )
            config = {
                "sessions": self.share(n),
                "compression": "deflate" if self.compression else None,
            }
            assert proc.stdin is not None
            proc.stdin.write(json.dumps(config).encode() + b"\n")
            self.procs.append(proc)

    async def each(self, commands: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """One command to each generator, at once; their answers."""

        async def ask(proc: asyncio.subprocess.Process, command: dict[str, Any]) -> dict[str, Any]:
            assert proc.stdin is not None and proc.stdout is not None
            proc.stdin.write(json.dumps(command).encode() + b"\n")
            await proc.stdin.drain()
            line = await proc.stdout.readline()
            if not line:
                raise RuntimeError(f"a load generator exited ({command['op']})")
            answer: dict[str, Any] = json.loads(line)
            return answer

        return list(await asyncio.gather(*map(ask, self.procs, commands)))

    async def all(self, **command: Any) -> list[dict[str, Any]]:
        return await self.each([command] * self.count)

    async def stop(self) -> None:
        for proc in self.procs:
            if proc.returncode is None and proc.stdin is not None:
                proc.stdin.write(b'{"op": "quit"}\n')
        for proc in self.procs:
            try:
                await asyncio.wait_for(proc.wait(), 30)
            except TimeoutError:
                proc.kill()
                await proc.wait()
