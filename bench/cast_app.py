"""The server under test of ``bench/cast.py``: ``create_app`` with baselines beside it.

- ``GET /bench/bare`` (``_harness.py``): the bare HTTP route, for the HTTP inputs;
- ``/bench/relay``: the cast gateway's frames with everything but the WebSocket stack taken
  out. A receiver attaches to a session id, controllers attach to the same id; each input
  frame is numbered in memory, sent to the session's receivers as the gateway's ``input`` frame
  (through a writer task per socket, as the gateway's ``Peer`` does) and answered with an
  ``ack``. No database, no pub/sub, no authentication: what one process does at best with
  uvicorn, Litestar and msgspec for the same traffic;
- ``GET /bench/gc``: the full (generation 2) garbage collections since the last call: how
  many, their total and longest pause. They stop the whole process.

The garbage collector is tuned as ``gamekeeper serve`` tunes it (``settings.gc_threshold``,
``runtime/memory.py``); ``GK_BENCH_GC_THRESHOLD`` (``--gc-threshold``: ``off``, ``700,10,10`` …)
stands instead of the setting. uvicorn starts this with ``--factory --app-dir
bench`` (see ``_harness.Server``); settings come from the ``GAMEKEEPER_*`` variables.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import os
import time
from datetime import UTC, datetime
from typing import Any

import msgspec
from litestar import Litestar, WebSocket, get, websocket
from litestar.exceptions import WebSocketDisconnect

from _harness import bare
from gamekeeper.api.app import create_app
from gamekeeper.runtime.memory import tune_gc
from gamekeeper.settings import load_settings


class _Frame(msgspec.Struct, rename="camel"):
    type: str
    role: str = ""
    session_id: str = ""
    id: int = 0
    input_type: str = ""
    input_data: dict[str, Any] = msgspec.field(default_factory=dict)
    seq: int = 0


class _InputOut(msgspec.Struct, tag_field="type", tag="input", rename="camel"):
    seq: int
    seat: int
    input_type: str
    input_data: dict[str, Any]
    at: datetime


_decode = msgspec.json.Decoder(_Frame).decode
_encode = msgspec.json.Encoder().encode


class _Session:
    def __init__(self) -> None:
        self.next_seq = 1
        self.seats = 0
        self.receivers: set[asyncio.Queue[str | None]] = set()


_SESSIONS: dict[str, _Session] = {}


def _text(frame: dict[str, Any]) -> str:
    return _encode(frame).decode()


async def _writer(socket: WebSocket[Any, Any, Any], queue: asyncio.Queue[str | None]) -> None:
    while (text := await queue.get()) is not None:
        await socket.send_text(text)


@websocket("/bench/relay", opt={"rate_limit": False})
async def relay(socket: WebSocket[Any, Any, Any]) -> None:
    """The baseline: receivers and controllers of a session, frames relayed in memory."""
    await socket.accept()
    queue: asyncio.Queue[str | None] = asyncio.Queue()
    writer = asyncio.create_task(_writer(socket, queue))
    session: _Session | None = None
    try:
        attach = _decode(await socket.receive_text())
        session = _SESSIONS.setdefault(attach.session_id, _Session())
        if attach.role == "receiver":
            session.receivers.add(queue)
            queue.put_nowait(_text({"type": "attached", "role": "receiver", "controllers": []}))
        else:
            session.seats += 1
            queue.put_nowait(
                _text({"type": "attached", "role": "controller", "seat": session.seats})
            )
        seat = session.seats
        while True:
            frame = _decode(await socket.receive_text())
            if frame.type == "ping":
                queue.put_nowait('{"type":"pong"}')
            elif frame.type == "input":  # a receiver's ack is decoded, and that is all
                seq, session.next_seq = session.next_seq, session.next_seq + 1
                out = _InputOut(seq, seat, frame.input_type, frame.input_data, datetime.now(UTC))
                text = _encode(out).decode()
                for receiver in session.receivers:
                    receiver.put_nowait(text)
                ack = {"type": "ack", "id": frame.id, "seq": seq, "status": "delivered"}
                queue.put_nowait(_text(ack))
    except (WebSocketDisconnect, msgspec.DecodeError):
        pass
    finally:
        if session is not None:
            session.receivers.discard(queue)
        writer.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await writer


_GC = {"count": 0, "total_ms": 0.0, "max_ms": 0.0}
_GC_STARTED = [0.0]


def _watch_gc(phase: str, info: dict[str, Any]) -> None:
    if info["generation"] != 2:
        return
    if phase == "start":
        _GC_STARTED[0] = time.perf_counter()
        return
    took = (time.perf_counter() - _GC_STARTED[0]) * 1e3
    _GC["count"] += 1
    _GC["total_ms"] += took
    _GC["max_ms"] = max(_GC["max_ms"], took)


@get("/bench/gc", opt={"rate_limit": False})
async def gc_pauses() -> dict[str, float]:
    """The full collections since the last call (and forget them)."""
    found = dict(_GC)
    _GC.update(count=0, total_ms=0.0, max_ms=0.0)
    return found


def app_factory() -> Litestar:
    """For ``uvicorn --factory``: the app as ``gamekeeper serve`` builds it, and the baselines."""
    settings = load_settings()
    if threshold := os.environ.get("GK_BENCH_GC_THRESHOLD"):  # instead of the setting's
        settings = msgspec.structs.replace(settings, gc_threshold=threshold)
    gc.callbacks.append(_watch_gc)
    app: Litestar = create_app(settings, extra_routes=[bare, relay, gc_pauses])
    tune_gc(settings.gc_threshold)  # as `gamekeeper serve` does
    return app
