"""Real server processes and throwaway PostgreSQL databases for end-to-end tests."""

from __future__ import annotations

import asyncio
import json
import os
import re
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest

from support.loopback import free_port
from support.waiting import wait_until

# Generous: CI machines are shared. Startup takes ~1.5 s on a quiet development machine.
READY_TIMEOUT = 30.0
STOP_TIMEOUT = 15.0
ERROR_LINE = re.compile(r"^error: .+ \([a-z0-9_.]+\)$")


def gamekeeper() -> list[str]:
    script = Path(sys.executable).with_name("gamekeeper")
    return [str(script)] if script.exists() else [sys.executable, "-m", "gamekeeper"]


def clean_env(**extra: str) -> dict[str, str]:
    """The test runner's environment without its Gamekeeper or Prometheus settings."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("GAMEKEEPER_", "PROMETHEUS_"))
    }
    env.update(extra)
    return env


def run(
    *args: str, env: dict[str, str], stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*gamekeeper(), *args], env=env, input=stdin, capture_output=True, text=True, timeout=60
    )


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    url: str
    data_dir: Path
    stdout_path: Path
    stderr_path: Path

    @property
    def output(self) -> str:
        return self.stdout_path.read_text()

    def env(self, **extra: str) -> dict[str, str]:
        """Environment for admin commands aimed at this server (token read from its data dir)."""
        return clean_env(
            GAMEKEEPER_ADMIN_URL=self.url, GAMEKEEPER_DATA_DIR=str(self.data_dir), **extra
        )

    def admin(self, *args: str, stdin: str | None = None) -> Any:
        """Run ``gamekeeper admin … --json`` and return the JSON it printed."""
        result = run("admin", *args, "--json", env=self.env(), stdin=stdin)
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout) if result.stdout.strip() else None

    def wait_ready(self) -> float:
        """Seconds until ``/readyz`` answered 200; fails at once if the server exits."""
        started = time.monotonic()
        wait_until(
            self._ready,
            what=lambda: f"the server is ready\nstdout:\n{self.output}",
            within=READY_TIMEOUT,
            every=0.05,
            check=self._still_running,
        )
        return time.monotonic() - started

    def _ready(self) -> bool:
        try:
            return httpx.get(f"{self.url}/readyz", timeout=1.0).status_code == 200
        except httpx.TransportError:
            return False

    def _still_running(self) -> None:
        if self.process.poll() is not None:
            pytest.fail(
                f"server exited with {self.process.returncode}\n"
                f"stderr:\n{self.stderr_path.read_text()}\nstdout:\n{self.output}"
            )

    def stop(self) -> int | None:
        """SIGTERM (graceful), then SIGKILL to the whole process group if it lingers."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(STOP_TIMEOUT)
        return self.process.returncode


def start_server_fixture(tmp_path: Path) -> Iterator[Callable[..., Server]]:
    servers: list[Server] = []

    def start(data_dir: Path, *args: str, **env: str) -> Server:
        port = free_port()
        number = len(servers)
        out, err = tmp_path / f"server-{number}.out", tmp_path / f"server-{number}.err"
        with out.open("wb") as stdout, err.open("wb") as stderr:
            process = subprocess.Popen(
                [*gamekeeper(), "serve", "--port", str(port), *args],
                env=clean_env(
                    GAMEKEEPER_DATA_DIR=str(data_dir), GAMEKEEPER_LOG_LEVEL="WARNING", **env
                ),
                stdout=stdout,
                stderr=stderr,
                start_new_session=True,  # its own process group: workers die with it
            )
        server = Server(process, f"http://127.0.0.1:{port}", data_dir, out, err)
        servers.append(server)
        server.wait_ready()
        return server

    try:
        yield start
    finally:
        for server in servers:
            server.stop()


def execute_sql(url: str, statement: str) -> list[Any]:
    import asyncpg

    async def go() -> list[Any]:
        conn = await asyncpg.connect(url)
        try:
            return list(await conn.fetch(statement))
        finally:
            await conn.close()

    return asyncio.run(go())


def fresh_database_fixture(postgres_url: str) -> Iterator[str]:
    """A new, empty PostgreSQL database, dropped after the test."""
    server_url = re.sub(r"^postgres(?:ql)?(?:\+\w+)?://", "postgresql://", postgres_url)
    name = f"gk_cli_{secrets.token_hex(6)}"
    execute_sql(server_url, f'CREATE DATABASE "{name}"')
    try:
        yield urlunsplit(urlsplit(server_url)._replace(path=f"/{name}"))
    finally:
        execute_sql(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
