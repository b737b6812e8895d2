"""The load generator of ``bench/cast.py``, in a process of its own: cast sessions played over
WebSocket (a receiver and its controllers per session), and inputs over HTTP.

Reads one command per line on stdin (JSON), answers each with one JSON line on stdout:

- ``{"op": "attach", "receivers": URL, "controllers": URL, "target": "cast"|"bare"}``: every
  session's receiver attaches (``after``: the last input it holds from that target), then its
  controllers, one seat after the other (with the join code: they join in the same step);
- ``{"op": "ws", "rate": R, "duration": D, "drain": T, "no": N}``: controllers send inputs at
  R/s in all (open loop, spread evenly over them); a controller with ``WINDOW`` inputs
  unanswered, or one unanswered for ``STALE`` s, skips its turn (counted), as a phone would
  rather than queue. Then sockets the server closed are opened again (receivers resume after
  the last input they hold) and the step waits up to T s for the last answers and inputs;
- ``{"op": "http", ...}``: the same through ``POST /api/v1/cast/input`` (``cast_load_http.py``);
- ``{"op": "detach"}``; ``{"op": "hold", "url": URL, "sessions": [...]}``: receivers only, then
  a ping each, answered by a pong; ``{"op": "release"}``; ``{"op": "quit"}``.

A receiver checks each input's ``seq`` (the next one, else a gap or a repeat) and acknowledges
it, as the receiver page does. Latency is from the controller's send to the receiver's arrival,
on this process's monotonic clock (both ends are here), in a histogram of 2 % buckets; "stored"
is from the input's ``at`` (the server's clock as it stored it) to arrival. Inputs carry the
number of their step: late ones from an earlier step do not count. Every socket pings every
20 s (the server closes one silent for 60 s).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import resource
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from functools import partial
from typing import Any

import msgspec
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, WebSocketException
from websockets.protocol import State

import cast_load_http
from cast_tally import Step

WINDOW = 4  # inputs a controller may have unanswered
STALE = 1.0  # s: nor while its oldest unanswered input is older (a queue, not a latency)
CONNECTING = 64  # sockets opening at once
PING_EVERY = 20.0
STEP_IDS = 10**9  # an input's id: step * STEP_IDS + its number in the step
FAILURES = (OSError, RuntimeError, TimeoutError, WebSocketException)


class Msg(msgspec.Struct, rename="camel"):
    type: str
    seq: int = 0
    id: int = -1
    status: str | int = ""
    code: str = ""
    input_data: dict[str, Any] = msgspec.field(default_factory=dict)
    at: str = ""


_decode = msgspec.json.Decoder(Msg).decode
_encode = msgspec.json.Encoder().encode
PING = '{"type":"ping"}'


class Table:
    """One session as played here: its receiver's socket and what it holds, its controllers."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self.sid: str = spec["sid"]
        self.key: str = spec["key"]
        self.code: str = spec["code"]
        self.tokens: list[str] = spec.get("tokens", [])
        self.last: dict[str, int] = {"cast": 0, "bare": 0}  # the last input held, per target
        self.target = "cast"
        self.receiver: ClientConnection | None = None
        self.controllers: list[Ctl] = []


class Ctl:
    def __init__(self, table: Table, token: str, ws: ClientConnection) -> None:
        self.table, self.token, self.ws = table, token, ws
        self.pending: dict[int, float] = {}  # input id -> sent at, oldest first


class Generator:
    def __init__(self, config: dict[str, Any]) -> None:
        self.tables = [Table(s) for s in config["sessions"]]
        self.compression: str | None = config.get("compression", "deflate")
        self.step = Step(0)
        self.closed: Counter[str] = Counter()  # sockets the server closed, by code and reason
        self.readers: set[asyncio.Task[None]] = set()
        self.held: list[ClientConnection] = []
        self.pongs = 0
        self.pinger: asyncio.Task[None] | None = None
        self.urls = ("", "")  # receivers', controllers'

    # --- sockets ------------------------------------------------------------------------------

    async def _open(self, url: str, attach: dict[str, Any]) -> ClientConnection:
        ws = await connect(
            url, ping_interval=None, compression=self.compression, open_timeout=30, max_queue=None
        )
        await ws.send(_encode(attach).decode())
        first = _decode(await asyncio.wait_for(ws.recv(), 30))
        if first.type != "attached":
            await ws.close()
            raise RuntimeError(f"attach refused: {first.code or first.type}")
        return ws

    def _read(self, ws: ClientConnection, on: Callable[[Msg], Awaitable[None]]) -> None:
        task = asyncio.create_task(self._reader(ws, on))
        self.readers.add(task)
        task.add_done_callback(self.readers.discard)

    async def _reader(self, ws: ClientConnection, on: Callable[[Msg], Awaitable[None]]) -> None:
        with contextlib.suppress(ConnectionClosed):
            async for raw in ws:
                await on(_decode(raw))
        if ws.close_code not in (None, 1000) or ws.close_reason:
            self.closed[f"{ws.close_code} {ws.close_reason}".strip()] += 1

    async def _receiver(self, t: Table) -> None:
        attach = {"type": "attach", "role": "receiver", "sessionId": t.sid, "key": t.key}
        t.receiver = await self._open(self.urls[0], {**attach, "after": t.last[t.target]})
        self._read(t.receiver, partial(self._at_receiver, t))

    async def _controller(self, t: Table, token: str, ctl: Ctl | None = None) -> None:
        attach = {"type": "attach", "role": "controller", "sessionId": t.sid, "token": token}
        ws = await self._open(self.urls[1], {**attach, "code": t.code})
        if ctl is None:
            ctl = Ctl(t, token, ws)
            t.controllers.append(ctl)
        self.step.tally["abandoned"] += len(ctl.pending)  # unanswered on the closed socket
        ctl.ws, ctl.pending = ws, {}
        self._read(ws, partial(self._at_controller, ctl))

    async def _each(self, works: Sequence[Awaitable[None]], failed: Counter[str]) -> None:
        gate = asyncio.Semaphore(CONNECTING)

        async def one(work: Awaitable[None]) -> None:
            async with gate:
                try:
                    await work
                except FAILURES as exc:
                    failed[f"{type(exc).__name__}: {str(exc)[:80]}"] += 1

        await asyncio.gather(*map(one, works))

    async def attach(self, receivers: str, controllers: str, target: str) -> dict[str, Any]:
        failed: Counter[str] = Counter()
        started = time.perf_counter()
        self.urls = (receivers, controllers)
        for t in self.tables:
            t.target = target
        await self._each([self._receiver(t) for t in self.tables], failed)
        for seat in range(max((len(t.tokens) for t in self.tables), default=0)):
            # One seat after the other: players joining one session at once may be refused.
            mine = [t for t in self.tables if seat < len(t.tokens)]
            await self._each([self._controller(t, t.tokens[seat]) for t in mine], failed)
        self.pinger = self.pinger or asyncio.create_task(self._ping_forever())
        return {
            "seconds": time.perf_counter() - started,
            "failed": dict(failed),
            "receivers": sum(t.receiver is not None for t in self.tables),
            "controllers": sum(len(t.controllers) for t in self.tables),
        }

    async def _heal(self) -> None:
        """Open again the sockets the server closed, as the pages would."""
        failed: Counter[str] = Counter()
        works = [
            self._receiver(t)
            for t in self.tables
            if t.receiver is not None and t.receiver.state is not State.OPEN
        ]
        works += [
            self._controller(t, c.token, c)
            for t in self.tables
            for c in t.controllers
            if c.ws.state is not State.OPEN
        ]
        await self._each(works, failed)
        self.step.tally["reopened"] += len(works) - failed.total()
        self.step.errors.update({f"reopening: {k}": v for k, v in failed.items()})

    def _sockets(self) -> list[ClientConnection]:
        found = [t.receiver for t in self.tables if t.receiver is not None]
        return found + [c.ws for t in self.tables for c in t.controllers] + self.held

    async def _ping_forever(self) -> None:
        while True:
            await asyncio.sleep(PING_EVERY)
            for ws in self._sockets():
                with contextlib.suppress(ConnectionClosed):
                    await ws.send(PING)

    async def detach(self) -> dict[str, Any]:
        sockets = [ws for ws in self._sockets() if ws not in self.held]
        await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)
        for t in self.tables:
            t.receiver, t.controllers = None, []
        return await self._closed()

    async def _closed(self) -> dict[str, Any]:
        await asyncio.gather(*self.readers, return_exceptions=True)
        return self.gone()

    async def _at_receiver(self, t: Table, m: Msg) -> None:
        if m.type != "input":
            return
        now, step = time.perf_counter(), self.step
        last = t.last[t.target]
        if m.seq <= last:
            step.tally["repeats"] += 1
            return
        if m.seq != last + 1:
            step.tally["gaps"] += 1
        t.last[t.target] = m.seq
        data = m.input_data
        if data.get("s") == step.no:
            took = now - data["t"]
            step.tally["received"] += 1
            step.hists["latency"].add(took)
            step.hists["first" if data["t"] < step.mid else "second"].add(took)
            step.hists["stored"].add(time.time() - datetime.fromisoformat(m.at).timestamp())
        with contextlib.suppress(ConnectionClosed):
            assert t.receiver is not None
            await t.receiver.send(f'{{"type":"ack","seq":{m.seq}}}')

    async def _at_controller(self, c: Ctl, m: Msg) -> None:
        sent = c.pending.pop(m.id, None)
        if m.type == "error" and m.id < 0:  # not the answer to an input
            self.step.errors[m.code] += 1
        if m.id // STEP_IDS != self.step.no:
            return
        if m.type == "ack":
            self.step.tally["acked"] += 1
            self.step.tally[f"status {m.status}"] += 1
            if sent is not None:
                self.step.hists["ack"].add(time.perf_counter() - sent)
        elif m.type == "error":
            self.step.errors[m.code] += 1

    # --- offering load ------------------------------------------------------------------------

    def _skips(self, c: Ctl, now: float) -> bool:
        oldest = next(iter(c.pending.values()), now)
        return len(c.pending) >= WINDOW or now - oldest > STALE

    async def _offer(self, c: Ctl, ident: int, now: float) -> None:
        tally = self.step.tally
        if self._skips(c, now):
            tally["skipped"] += 1
            return
        data = {"t": now, "s": self.step.no, "x": ident % 7 - 3}
        frame = {"type": "input", "id": ident, "inputType": "move", "inputData": data}
        try:
            await c.ws.send(_encode(frame).decode())
        except ConnectionClosed:
            tally["send_failed"] += 1
            return
        c.pending[ident] = now
        tally["sent"] += 1

    async def ws(self, rate: float, duration: float, drain: float, no: int) -> dict[str, Any]:
        step = self.step = Step(no)
        await self._heal()
        ctls = [c for t in self.tables for c in t.controllers]
        total, k = int(rate * duration), 0
        start = time.perf_counter()
        step.mid = start + duration / 2
        while k < total and ctls:
            now = time.perf_counter()
            due = min(total, int((now - start) * rate) + 1)
            while k < due:
                c = ctls[k % len(ctls)]
                k += 1
                await self._offer(c, no * STEP_IDS + k, now)
            await asyncio.sleep(max(0.001, start + k / rate - time.perf_counter()))
        offered_s = time.perf_counter() - start
        await self._heal()  # a receiver closed meanwhile resumes: its inputs are not lost
        waited = await self.drain(lambda: not any(c.pending for c in ctls), drain)
        return {**step.report(), "offered_s": offered_s, "drain_s": waited, **self.gone()}

    def gone(self) -> dict[str, Any]:
        """The sockets the server closed since the last call, by code and reason."""
        closed, self.closed = dict(self.closed), Counter()
        return {"closed_by_server": closed}

    async def drain(self, answered: Callable[[], bool], within: float) -> float:
        """Until every request is answered and every acknowledged input arrived (or ``within``)."""
        began = time.perf_counter()
        tally = self.step.tally
        while time.perf_counter() - began < within:
            if answered() and tally["received"] >= tally["acked"]:
                break
            await asyncio.sleep(0.01)
        return time.perf_counter() - began

    async def http(self, **command: Any) -> dict[str, Any]:
        self.step = Step(command["no"])
        await self._heal()
        return await cast_load_http.run(self, **command)

    # --- idle receivers -----------------------------------------------------------------------

    async def hold(self, url: str, sessions: list[dict[str, Any]]) -> dict[str, Any]:
        failed: Counter[str] = Counter()
        started = time.perf_counter()

        async def one(spec: dict[str, Any]) -> None:
            attach = {"type": "attach", "role": "receiver", "sessionId": spec["sid"]}
            ws = await self._open(url, {**attach, "key": spec["key"], "after": 0})
            self.held.append(ws)
            self._read(ws, self._at_held)

        await self._each([one(s) for s in sessions], failed)
        attached_s = time.perf_counter() - started
        self.pinger = self.pinger or asyncio.create_task(self._ping_forever())
        self.pongs = 0
        for ws in self.held:
            with contextlib.suppress(ConnectionClosed):
                await ws.send(PING)
        deadline = time.perf_counter() + 30
        while self.pongs < len(self.held) and time.perf_counter() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.01)
        own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return {
            "held": len(self.held),
            "failed": dict(failed),
            "attach_s": attached_s,
            "pongs": self.pongs,
            "rss_kib": own,
        }

    async def _at_held(self, m: Msg) -> None:
        self.pongs += m.type == "pong"

    async def release(self) -> dict[str, Any]:
        await asyncio.gather(*(ws.close() for ws in self.held), return_exceptions=True)
        self.held = []
        return await self._closed()


def _cpu() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    return own.ru_utime + own.ru_stime


async def serve(generator: Generator) -> None:
    loop = asyncio.get_running_loop()
    while line := await loop.run_in_executor(None, sys.stdin.readline):
        command = json.loads(line)
        op, cpu, wall = command.pop("op"), _cpu(), time.perf_counter()
        if op == "quit":
            break
        answer: dict[str, Any] = await getattr(generator, op)(**command)
        answer.update(cpu_s=_cpu() - cpu, wall_s=time.perf_counter() - wall)
        sys.stdout.write(json.dumps(answer) + "\n")
        sys.stdout.flush()
    if generator.pinger is not None:
        generator.pinger.cancel()
    await generator.detach()
    await generator.release()


def main() -> None:
    config = json.loads(sys.stdin.readline())
    try:
        import uvloop
    except ImportError:
        asyncio.run(serve(Generator(config)))
    else:
        uvloop.run(serve(Generator(config)))


if __name__ == "__main__":
    main()
