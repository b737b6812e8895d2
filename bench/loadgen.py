"""HTTP load generator for benchmarks: wrk when installed, else a built-in keep-alive client.

Loopback targets only (127.0.0.0/8, localhost, ::1): load is never sent off this machine.
The built-in client runs in its own process(es) so that it does not share a core with a
server under test started from the same Python program; they are started with "spawn", so a
calling script needs the usual ``if __name__ == "__main__":`` guard.

    python bench/loadgen.py URL [-H 'Name: value'] [-c 32] [-d 10] [-w 1] [--builtin]
    python bench/loadgen.py --self-check
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ipaddress
import multiprocessing
import re
import shutil
import socket
import subprocess
import sys
import time
from array import array
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Literal
from urllib.parse import urlsplit

__all__ = ["LoadResult", "run_load"]

Tool = Literal["auto", "wrk", "builtin"]

_MAX_CONNECTIONS = 4096
_MAX_DURATION = 600.0
_GRACE = 10.0  # past the planned end, a run that has not finished is killed
# As wrk's default timeout: a request still running this long after the end is an error.
_REQUEST_TIMEOUT = 2.0


@dataclass(frozen=True)
class LoadResult:
    requests: int  # completed requests in the measured window (warm-up excluded)
    errors: int  # connect/read/write errors and timeouts
    non_2xx: int  # with wrk: responses >= 400 (wrk counts 3xx as success)
    duration: float  # seconds measured
    rps: float
    p50_ms: float
    p99_ms: float
    tool: str = "builtin"

    def __str__(self) -> str:
        return (
            f"{self.tool}: {self.requests} requests in {self.duration:.2f}s, "
            f"{self.rps:,.0f} req/s, p50 {self.p50_ms:.2f} ms, p99 {self.p99_ms:.2f} ms, "
            f"errors {self.errors}, non-2xx {self.non_2xx}"
        )


async def run_load(
    url: str,
    *,
    headers: dict[str, str] | None = None,
    connections: int = 32,
    duration: float = 10.0,
    warmup: float = 1.0,
    tool: Tool = "auto",
    processes: int = 1,
) -> LoadResult:
    """Send GET requests to a loopback URL for ``duration`` seconds after a warm-up."""
    target = _Target.parse(url)
    if not 1 <= connections <= _MAX_CONNECTIONS:
        raise ValueError(f"connections must be within 1..{_MAX_CONNECTIONS}")
    if not 0 < duration <= _MAX_DURATION or not 0 <= warmup <= _MAX_DURATION:
        raise ValueError(f"duration and warm-up must be within 0..{_MAX_DURATION} s")
    wrk = shutil.which("wrk") if tool != "builtin" else None
    if tool == "wrk" and wrk is None:
        raise RuntimeError("wrk is not installed")
    if wrk:
        return await _run_wrk(wrk, url, headers or {}, connections, duration, warmup)
    plan = _Plan(target, _request_bytes(target, headers or {}), warmup, duration)
    return await asyncio.to_thread(_run_builtin, plan, connections, max(1, processes))


@dataclass(frozen=True)
class _Target:
    host: str
    port: int
    path: str
    netloc: str

    @classmethod
    def parse(cls, url: str) -> _Target:
        parts = urlsplit(url)
        if parts.scheme != "http" or not parts.hostname:
            raise ValueError(f"only http:// URLs are supported, not {url!r}")
        _require_loopback(parts.hostname)
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        return cls(parts.hostname, parts.port or 80, path, parts.netloc)


def _require_loopback(host: str) -> None:
    resolved = socket.getaddrinfo(host, None) if host == "localhost" else []
    if not all(map(_is_loopback, {str(info[4][0]) for info in resolved} or {host})):
        raise ValueError(f"refusing to load {host!r}: only loopback targets are allowed")


def _is_loopback(address: str) -> bool:
    with contextlib.suppress(ValueError):
        return ipaddress.ip_address(address.split("%")[0]).is_loopback
    return False


def _request_bytes(target: _Target, headers: dict[str, str]) -> bytes:
    lines = [f"GET {target.path} HTTP/1.1", f"Host: {target.netloc}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


# --- wrk ------------------------------------------------------------------------------------

_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3, "h": 3600e3}


async def _run_wrk(
    wrk: str, url: str, headers: dict[str, str], connections: int, duration: float, warmup: float
) -> LoadResult:
    # One thread: on a small machine the server under test needs the other cores.
    base = [wrk, "-t1", f"-c{connections}", "--latency"]
    base += [arg for name, value in headers.items() for arg in ("-H", f"{name}: {value}")]
    if warmup > 0:
        await _wrk_once([*base, f"-d{max(1, round(warmup))}s", url], warmup)
    return _parse_wrk(await _wrk_once([*base, f"-d{max(1, round(duration))}s", url], duration))


async def _wrk_once(argv: list[str], duration: float) -> str:
    proc = await asyncio.create_subprocess_exec(
        *argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        async with asyncio.timeout(duration + _GRACE):
            out, _ = await proc.communicate()
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    if proc.returncode != 0:
        raise RuntimeError(f"wrk failed: {out.decode(errors='replace')}")
    return out.decode()


def _parse_wrk(out: str) -> LoadResult:
    def latency(percent: str) -> float:
        found = re.search(rf"^\s*{percent}%\s+([\d.]+)(us|ms|s|m|h)\s*$", out, re.M)
        return float(found[1]) * _UNITS[found[2]] if found else float("nan")

    total = re.search(r"(\d+) requests in ([\d.]+)(us|ms|s|m|h)", out)
    if total is None:
        raise RuntimeError(f"cannot read wrk output: {out}")
    socket_errors = re.search(r"connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    requests, seconds = int(total[1]), float(total[2]) * _UNITS[total[3]] / 1e3
    return LoadResult(
        requests=requests,
        errors=sum(map(int, socket_errors.groups())) if socket_errors else 0,
        non_2xx=int(non_2xx[1]) if non_2xx else 0,
        duration=seconds,
        rps=requests / seconds,
        p50_ms=latency("50"),
        p99_ms=latency("99"),
        tool="wrk",
    )


# --- built-in client --------------------------------------------------------------------------


@dataclass(frozen=True)
class _Plan:
    target: _Target
    request: bytes
    warmup: float
    duration: float


@dataclass
class _Tally:
    requests: int = 0
    errors: int = 0
    non_2xx: int = 0
    seconds: float = 0.0
    latencies: bytes = b""  # array("d") of seconds, pickled cheaply as bytes


def _run_builtin(plan: _Plan, connections: int, processes: int) -> LoadResult:
    """Run the client in child processes, wait for them (bounded), merge their tallies."""
    context = multiprocessing.get_context("spawn")
    shares = [connections // processes + (i < connections % processes) for i in range(processes)]
    children, pipes = [], []
    for share in filter(None, shares):
        receiver, sender = context.Pipe(duplex=False)
        child = context.Process(target=_client_process, args=(plan, share, sender), daemon=True)
        child.start()
        sender.close()
        children.append(child)
        pipes.append(receiver)
    deadline = time.monotonic() + plan.warmup + plan.duration + _GRACE
    tallies: list[_Tally] = []
    try:
        for receiver in pipes:
            if receiver.poll(max(0.0, deadline - time.monotonic())):
                with contextlib.suppress(EOFError):  # the child died; its traceback is on stderr
                    tallies.append(receiver.recv())
    finally:
        for child in children:
            child.join(timeout=1.0)
            if child.is_alive():
                child.kill()
                child.join()
    if len(tallies) != len(children):
        raise RuntimeError("a load-generator process failed or did not finish in time")
    return _merge(tallies)


def _merge(tallies: list[_Tally]) -> LoadResult:
    latencies = array("d")
    for tally in tallies:
        latencies.frombytes(tally.latencies)
    ordered = sorted(latencies)

    def percentile(p: float) -> float:
        return ordered[min(len(ordered) - 1, int(p * len(ordered)))] * 1e3 if ordered else 0.0

    return LoadResult(
        requests=sum(t.requests for t in tallies),
        errors=sum(t.errors for t in tallies),
        non_2xx=sum(t.non_2xx for t in tallies),
        duration=max(t.seconds for t in tallies),
        rps=sum(t.requests / t.seconds for t in tallies if t.seconds),
        p50_ms=percentile(0.50),
        p99_ms=percentile(0.99),
    )


def _client_process(plan: _Plan, connections: int, sender: Connection) -> None:
    try:
        import uvloop

        runner = asyncio.Runner(loop_factory=uvloop.new_event_loop)
    except ImportError:
        runner = asyncio.Runner()
    with runner:
        sender.send(runner.run(_client(plan, connections)))
    sender.close()


async def _client(plan: _Plan, connections: int) -> _Tally:
    start = time.perf_counter() + plan.warmup
    end = start + plan.duration
    tally, latencies = _Tally(), array("d")
    workers = [_Connection(plan, tally, latencies, start, end) for _ in range(connections)]
    tasks = [asyncio.create_task(worker.run()) for worker in workers]
    # One deadline for all rather than a timer per request, which would slow the client down.
    done, stuck = await asyncio.wait(tasks, timeout=end - time.perf_counter() + _REQUEST_TIMEOUT)
    for task in stuck:
        task.cancel()
    await asyncio.gather(*stuck, return_exceptions=True)
    for task in done:
        task.result()
    tally.errors += len(stuck)
    tally.seconds = plan.duration
    tally.latencies = latencies.tobytes()
    return tally


_FAILURES = (OSError, ValueError, asyncio.IncompleteReadError, asyncio.LimitOverrunError)


class _Connection:
    """One keep-alive connection sending requests back to back until the window ends."""

    def __init__(
        self, plan: _Plan, tally: _Tally, latencies: array[float], start: float, end: float
    ) -> None:
        self.plan, self.tally, self.latencies = plan, tally, latencies
        self.start, self.end = start, end
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def run(self) -> None:
        clock = time.perf_counter
        try:
            while clock() < self.end:
                began = clock()
                try:
                    status, close = await self._exchange()
                except _FAILURES as exc:
                    await self._close()
                    if clock() >= self.start:
                        self.tally.errors += 1
                    if isinstance(exc, ConnectionRefusedError):
                        await asyncio.sleep(0.01)  # do not spin on a server that is not up
                    continue
                done = clock()
                if self.start <= done <= self.end:
                    self.tally.requests += 1
                    self.tally.non_2xx += not 200 <= status < 300
                    self.latencies.append(done - began)
                if close:
                    await self._close()
        finally:
            await self._close()

    async def _exchange(self) -> tuple[int, bool]:
        if self.writer is None:
            target = self.plan.target
            self.reader, self.writer = await asyncio.open_connection(target.host, target.port)
        assert self.reader is not None
        self.writer.write(self.plan.request)
        head = (await self.reader.readuntil(b"\r\n\r\n")).lower()
        status = int(head[9:12])
        at = head.find(b"\r\ncontent-length:")
        if at < 0:
            raise ValueError("response without Content-Length")
        length = int(head[at + 17 : head.index(b"\r\n", at + 2)])
        if length:
            await self.reader.readexactly(length)
        return status, b"\r\nconnection: close\r\n" in head

    async def _close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(OSError):
                await self.writer.wait_closed()
            self.reader = self.writer = None


# --- command line and self-check ---------------------------------------------------------------

_BARE_APP = """
import uvicorn
from litestar import Litestar, get
@get("/")
async def hello() -> dict[str, str]:
    return {"hello": "world"}
uvicorn.run(Litestar([hello]), host="127.0.0.1", port=PORT, log_level="warning", access_log=False)
"""


def _self_check(duration: float) -> None:
    for refused in ("http://10.0.0.1/", "http://example.com/", "https://127.0.0.1/"):
        with contextlib.suppress(ValueError):
            asyncio.run(run_load(refused, duration=0.1))
            raise AssertionError(f"{refused} was not refused")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-c", _BARE_APP.replace("PORT", str(port))])
    try:
        _wait_for_port(port)
        url = f"http://127.0.0.1:{port}/"
        tools: list[Tool] = ["builtin", "wrk"] if shutil.which("wrk") else ["builtin"]
        for tool in tools:
            result = asyncio.run(run_load(url, duration=duration, tool=tool))
            print(f"bare Litestar route, 1 uvicorn worker -> {result}")
            assert result.requests > 0 and result.errors == 0 and result.non_2xx == 0, result
    finally:
        server.terminate()
        server.wait(timeout=10)


def _wait_for_port(port: int) -> None:
    for _ in range(300):  # up to 15 s for the server to start
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
            return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port}")


def main(argv: list[str] | None = None) -> None:
    """Command line: print the result of one load run, or run the self-check."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url", nargs="?")
    parser.add_argument("-H", "--header", action="append", default=[], help="'Name: value'")
    parser.add_argument("-c", "--connections", type=int, default=32)
    parser.add_argument("-d", "--duration", type=float, help="seconds (10; self-check 3)")
    parser.add_argument("-w", "--warmup", type=float, default=1.0)
    parser.add_argument("-p", "--processes", type=int, default=1, help="built-in client only")
    parser.add_argument("--builtin", action="store_true", help="do not use wrk")
    parser.add_argument("--self-check", action="store_true")
    args = parser.parse_args(argv)
    if args.self_check:
        _self_check(args.duration or 3.0)
        return
    if not args.url:
        parser.error("a URL is required")
    if not all(":" in header for header in args.header):
        parser.error("a header is written 'Name: value'")
    headers = {n.strip(): v.strip() for n, v in (h.split(":", 1) for h in args.header)}
    result = asyncio.run(
        run_load(
            args.url,
            headers=headers,
            connections=args.connections,
            duration=args.duration or 10.0,
            warmup=args.warmup,
            tool="builtin" if args.builtin else "auto",
            processes=args.processes,
        )
    )
    print(result)


if __name__ == "__main__":
    main()
