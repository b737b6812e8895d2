"""What the HTTP benchmarks share: the server under test, a throwaway database, CPU accounting.

- ``Server``: one uvicorn process (one worker, uvloop/httptools as installed, access log off,
  log level warning) serving an app factory from ``bench/`` on a free loopback port, optionally
  pinned to one CPU;
- ``bare``: ``GET /bench/bare`` -> ``{"ok": true}``, no guard of its own, opted out of the
  per-IP limit: the reference every route is compared with;
- ``throwaway_database``: a PostgreSQL database created for the run and dropped afterwards;
- ``CpuTimes``, ``Run``, ``RouteFigures``: the server's CPU time per request, the CPU other
  processes took meanwhile, and medians over rounds;
- ``machine``: what the run ran on.

The benchmarks import each other as plain modules (``_harness``, ``loadgen``): ``bench/`` is on
``sys.path`` both when a script is run (``python bench/auth.py``) and in the server processes,
which uvicorn starts with ``--app-dir bench``.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import platform
import resource
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx
from litestar import get

from loadgen import LoadResult

__all__ = [
    "BENCH_DIR",
    "DISTURBED",
    "CpuTimes",
    "RouteFigures",
    "Run",
    "Server",
    "bare",
    "free_port",
    "machine",
    "num",
    "progress",
    "throwaway_database",
]

BENCH_DIR = Path(__file__).resolve().parent
START_TIMEOUT = 60.0
DISTURBED = 0.2  # cores used by other processes during a round: the figures are not clean


@get("/bench/bare", opt={"rate_limit": False})
async def bare() -> dict[str, bool]:
    return {"ok": True}


# --- the server under test ------------------------------------------------------------------


@dataclass
class Server:
    """One uvicorn process, one worker unless told, on a free loopback port.

    ``app`` is ``module:factory`` with the module in ``bench/`` (``http_auth:app_factory``).
    With ``workers`` > 1, ``proc`` is uvicorn's supervisor and ``pids()`` lists the workers too.
    """

    app: str
    env: dict[str, str]
    cpu: int | None = None
    workers: int = 1
    port: int = 0
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.port = free_port()
        argv = [sys.executable, "-m", "uvicorn", self.app, "--factory"]
        argv += ["--app-dir", str(BENCH_DIR), "--host", "127.0.0.1", "--port", str(self.port)]
        argv += ["--workers", str(self.workers), "--no-access-log", "--log-level", "warning"]
        # Server output goes to stderr, so that --json leaves stdout to the result alone.
        self.proc = subprocess.Popen(argv, env={**os.environ, **self.env}, stdout=sys.stderr)
        if self.cpu is not None:
            os.sched_setaffinity(self.proc.pid, {self.cpu})

    def pids(self) -> list[int]:
        """The server's processes: uvicorn and, with several workers, its children (Linux)."""
        assert self.proc is not None
        found, i = [self.proc.pid], 0
        while i < len(found):
            with contextlib.suppress(OSError):
                for task in Path(f"/proc/{found[i]}/task").iterdir():
                    found += [int(c) for c in (task / "children").read_text().split()]
            i += 1
        return found

    async def wait_ready(self, client: httpx.AsyncClient) -> None:
        assert self.proc is not None
        deadline = time.monotonic() + START_TIMEOUT  # migrations run before it listens
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the server exited with code {self.proc.returncode}")
            with contextlib.suppress(httpx.TransportError):
                if (await client.get("/readyz")).status_code == 200:
                    return
            await asyncio.sleep(0.1)
        raise RuntimeError(f"the server was not ready within {START_TIMEOUT:.0f} s")

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


# --- a throwaway PostgreSQL database ----------------------------------------------------------


@contextlib.asynccontextmanager
async def throwaway_database(url: str | None) -> AsyncIterator[str | None]:
    """Yield a database URL: None for embedded SQLite, else a new database dropped afterwards."""
    if url is None:
        yield None
        return
    import asyncpg

    parts = urlsplit(url)
    if parts.scheme.split("+")[0] not in {"postgres", "postgresql"}:
        raise SystemExit("--database-url: only postgresql:// URLs are supported")
    admin_dsn = urlunsplit(parts._replace(scheme="postgresql"))
    name = "gk_bench_" + secrets.token_hex(6)
    conn = await asyncpg.connect(admin_dsn)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
        try:
            yield urlunsplit(parts._replace(scheme="postgresql", path="/" + name))
        finally:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


# --- measurement ------------------------------------------------------------------------------


@dataclass(frozen=True)
class CpuTimes:
    """CPU seconds so far: the server's, the whole machine's, this process's and its children's."""

    server: float
    machine: float  # busy time of all CPUs, steal included
    ours: float  # this process and the load generators it has waited for

    @classmethod
    def read(cls, pid: int) -> CpuTimes | None:
        """Read from /proc (Linux); None elsewhere."""
        tick = os.sysconf("SC_CLK_TCK")
        try:
            stat = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
            cpu = [int(x) for x in Path("/proc/stat").read_text().split(maxsplit=9)[1:9]]
        except (OSError, ValueError):
            return None
        own, children = (
            resource.getrusage(resource.RUSAGE_SELF),
            resource.getrusage(resource.RUSAGE_CHILDREN),
        )
        return cls(
            server=(int(stat[11]) + int(stat[12])) / tick,  # utime, stime
            machine=(sum(cpu) - cpu[3] - cpu[4]) / tick,  # all but idle and iowait
            ours=own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime,
        )


@dataclass(frozen=True)
class Run:
    load: LoadResult
    server_us: float | None  # server CPU per request, microseconds
    server_busy: float | None  # share of one core the server used
    others: float | None  # cores used by other processes on the machine meanwhile

    @classmethod
    def of(
        cls, load: LoadResult, before: CpuTimes | None, after: CpuTimes | None, wall: float
    ) -> Run:
        if before is None or after is None or not load.requests:
            return cls(load, None, None, None)
        server = after.server - before.server
        others = after.machine - before.machine - server - (after.ours - before.ours)
        return cls(load, server / load.requests * 1e6, server / wall, max(0.0, others / wall))


@dataclass
class RouteFigures:
    route: str
    rps: float  # medians over the rounds
    p50_ms: float
    p99_ms: float
    server_us: float | None
    server_busy: float | None
    errors: int  # sums over the rounds
    non_2xx: int
    others_max: float | None  # the most CPU other processes took during a round, in cores
    rounds_rps: list[float] = field(default_factory=list)

    @classmethod
    def of(cls, route: str, runs: list[Run]) -> RouteFigures:
        def median(values: list[float | None]) -> float | None:
            return None if None in values else statistics.median(values)  # type: ignore[type-var]

        loads = [r.load for r in runs]
        others = [r.others for r in runs]
        return cls(
            route=route,
            rps=statistics.median(r.rps for r in loads),
            p50_ms=statistics.median(r.p50_ms for r in loads),
            p99_ms=statistics.median(r.p99_ms for r in loads),
            server_us=median([r.server_us for r in runs]),
            server_busy=median([r.server_busy for r in runs]),
            errors=sum(r.errors for r in loads),
            non_2xx=sum(r.non_2xx for r in loads),
            others_max=None if None in others else max(others),  # type: ignore[type-var]
            rounds_rps=[round(r.rps, 1) for r in loads],
        )


# --- report -----------------------------------------------------------------------------------


def machine() -> dict[str, object]:
    return {
        "cpus": os.cpu_count(),
        "cpu": _cpu_model(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "wrk": shutil.which("wrk") is not None,
    }


def _cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def num(value: float | None, spec: str) -> str:
    """``value`` formatted with ``spec`` (``">8.1f"``), or a dash as wide when unknown."""
    width = spec.lstrip(">").split(".")[0]
    return format(value, spec) if value is not None else format("-", f">{width}")


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)
