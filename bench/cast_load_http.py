"""HTTP inputs for the load generator (``cast_load.py``): ``POST /api/v1/cast/input`` from the
sessions' players at a steady rate, or a GET of a bare route at the same rate.

``CONNECTIONS`` keep-alive HTTP/1.1 connections, one request in flight on each; request ``k``
is due at ``k / rate`` s. A request sent more than 5 ms after it was due counts as late (the
connections could not keep up). The answer's latency is the "answer" histogram; the input's
arrival at its receiver (over the receiver's socket) is measured as for WebSocket inputs.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import msgspec

if TYPE_CHECKING:
    from cast_load import Generator

CONNECTIONS = 32
_encode = msgspec.json.Encoder().encode


def _post(host: str, token: str, body: bytes) -> bytes:
    head = (
        f"POST /api/v1/cast/input HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


async def _answer(reader: asyncio.StreamReader) -> tuple[bytes, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        if line[:15].lower() == b"content-length:":
            length = int(line[15:])
    return head[9:12], await reader.readexactly(length)


async def run(
    gen: Generator,
    *,
    base: str,
    rate: float,
    duration: float,
    drain: float,
    no: int,
    path: str | None,
) -> dict[str, Any]:
    """One step of HTTP inputs (``path`` None) or of GETs of ``path``."""
    step = gen.step
    players = [(t, token) for t in gen.tables for token in t.tokens]
    parts = urlsplit(base)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    total = int(rate * duration)
    start = time.perf_counter()
    step.mid = start + duration / 2
    turn = iter(range(total))
    busy = [0]

    def request(k: int, sent: float) -> bytes:
        if path is not None:
            return f"GET {path} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode()
        t, token = players[k % len(players)]
        data = {"t": sent, "s": no, "x": k % 7 - 3}
        return _post(
            host, token, _encode({"sessionId": t.sid, "inputType": "move", "inputData": data})
        )

    async def connection() -> None:
        reader, writer = await asyncio.open_connection(host, port)
        try:
            for k in turn:
                delay = start + k / rate - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                elif delay < -0.005:
                    step.tally["late"] += 1
                sent = time.perf_counter()
                busy[0] += 1
                writer.write(request(k, sent))
                status, body = await _answer(reader)
                busy[0] -= 1
                step.tally["sent"] += 1
                step.hists["ack"].add(time.perf_counter() - sent)
                if status != b"200":
                    step.errors[f"HTTP {status.decode()}"] += 1
                    continue
                step.tally["acked"] += 1
                if path is None:
                    step.tally["status " + json.loads(body)["status"]] += 1
        finally:
            writer.close()

    await asyncio.gather(*(connection() for _ in range(CONNECTIONS)))
    offered_s = time.perf_counter() - start
    if path is not None:
        step.tally["received"] = step.tally["acked"]  # nothing is sent on to a receiver
    waited = await gen.drain(lambda: busy[0] == 0, drain)
    return {**step.report(), "offered_s": offered_s, "drain_s": waited, **gen.gone()}
