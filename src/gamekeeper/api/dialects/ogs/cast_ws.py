"""The cast WebSocket gateway, ``/api/v1/cast/ws``: receivers (TV pages) and controllers (phones).

Text frames of JSON with a ``type``, at most 4 KB. The first frame, within 10 s, is ``attach``:
a receiver's names its session, the key from ``receiverUrl`` and the last input it holds
(``after``); a controller's carries the player's session token, and the join code if it joins
in the same step. Then a receiver gets every input after ``after`` in order, then each new one,
and acknowledges them; a controller sends inputs, each stored in a short unit of work of its own
and answered with its sequence number. Errors are ``error`` frames mapped through the one status
table (``api.errors.problem_from``); a bad frame leaves the socket open, an oversized one closes
it (1009), as does a failed attach (1008). Clients ping every 20 s; 60 s of silence closes.

The frames a socket is sent go through its ``Peer`` (``infra/live.py``): one writer per socket,
fed from here and, through pub/sub, from every process.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from datetime import datetime
from functools import partial
from typing import Annotated, Any, Literal, cast

import msgspec
from litestar import WebSocket, websocket

from gamekeeper.api.edge import check_json
from gamekeeper.api.errors import problem_from
from gamekeeper.api.guards import limit, player_of, runtime_of, session_open
from gamekeeper.core.cast import sessions
from gamekeeper.core.cast.types import CastInput, Controller, Sent
from gamekeeper.core.errors import InvalidInput, RateLimited, Unauthorized
from gamekeeper.core.identity.types import PlayerPrincipal
from gamekeeper.infra import live
from gamekeeper.runtime import Runtime

MAX_FRAME = 4096  # bytes
ATTACH_WITHIN = 10.0  # seconds for the first frame
SILENT_AFTER = 60.0  # seconds without a frame before the socket is closed
# Seconds between two stores of a receiver's acknowledgement (and when it goes). Nothing reads
# it back to deliver (a receiver resumes after the last input it names), and with many
# sessions each seeing an input every few seconds, storing every second was a write per ack.
ACK_EVERY = 10.0
CLOSE_WAIT = 5.0  # seconds for a socket's last frames before it is dropped
POLICY, TOO_BIG = 1008, 1009
Id = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
Secret = Annotated[str, msgspec.Meta(min_length=1, max_length=2048)]


class _In(msgspec.Struct, tag_field="type", rename="camel"):
    pass


class Attach(_In, tag="attach"):
    role: Literal["receiver", "controller"]
    session_id: Id
    key: Secret | None = None  # receiver
    after: Annotated[int, msgspec.Meta(ge=0)] = 0  # receiver: the last input it holds
    token: Secret | None = None  # controller: the player's session token
    code: Annotated[str, msgspec.Meta(min_length=1, max_length=16)] | None = None  # to join


class Ack(_In, tag="ack"):
    seq: Annotated[int, msgspec.Meta(ge=0)]


class Feedback(_In, tag="message"):
    data: dict[str, Any]
    seat: Annotated[int, msgspec.Meta(ge=1, le=sessions.MAX_SEATS)] | None = None  # None: all


class Input(_In, tag="input"):
    id: Annotated[int, msgspec.Meta(ge=0, le=2**53)]  # the client's own number, echoed
    input_type: Annotated[str, msgspec.Meta(min_length=1, max_length=32)]
    input_data: dict[str, Any] = msgspec.field(default_factory=dict)


class Ping(_In, tag="ping"):
    pass


Frame = Attach | Ack | Feedback | Input | Ping
_decode = msgspec.json.Decoder(Frame).decode


class InputOut(msgspec.Struct, tag_field="type", tag="input", rename="camel"):
    """The hot frame, a struct; the others are built where they are sent (``_frame``)."""

    seq: int
    seat: int
    input_type: str
    input_data: dict[str, Any]
    at: datetime


_encode = msgspec.json.Encoder().encode


def _frame(kind: str, **fields: Any) -> str:
    return _encode({"type": kind, **fields}).decode()


class _Frames:
    """What the live hub sends, as frames."""

    def input(self, value: CastInput) -> str:
        out = InputOut(value.seq, value.seat, value.input_type, value.input_data, value.at)
        return _encode(out).decode()

    def joined(self, seat: int) -> str:
        return _frame("controller", seat=seat, event="joined")

    def ended(self, reason: str) -> str:
        return _frame("ended", reason=reason)

    def message(self, data: dict[str, Any]) -> str:
        return _frame("message", data=data)


FRAMES = _Frames()
PONG = _frame("pong")


def _link(wire: _Wire) -> live.Link:
    return live.Link(FRAMES, wire.socket.send_text, wire.socket.close)


def _invalid(message: str) -> InvalidInput:
    return InvalidInput(message, code="invalid_frame")


class _Gone(Exception):
    """The client left, or the socket is being closed."""


class _Wire:
    """One socket: its frames in, and its frames out until its ``Peer`` writes them."""

    def __init__(self, socket: WebSocket[Any, Any, Any]) -> None:
        self.socket = socket
        self.runtime: Runtime = runtime_of(socket)
        self.peer: live.Peer | None = None

    async def send(self, text: str) -> None:
        if self.peer is None:
            await self.socket.send_text(text)
        else:
            self.peer.push(text)

    async def error(self, exc: Exception, answering: int | None = None) -> int:
        """An error frame for ``exc``; returns its status."""
        problem = problem_from(exc, self.socket)
        answer = {} if answering is None else {"id": answering}
        await self.send(
            _frame(
                "error", code=problem.code, message=problem.message, status=problem.status, **answer
            )
        )
        return problem.status

    async def close(self, code: int, reason: str) -> None:
        if self.peer is not None:
            self.peer.shut(code, reason)
        else:
            with contextlib.suppress(Exception):
                await self.socket.close(code, reason)

    async def refuse(self, exc: Exception) -> None:
        """A failed attach: say why, and close."""
        status = await self.error(exc)
        await self.close(POLICY if status < 500 else 1011, "attach refused")

    async def frame(self, within: float) -> Frame | None:
        """The next frame; None for one that is not valid (an error frame said so).

        TimeoutError after ``within`` seconds of silence; _Gone when the client left or the
        frame was too large (then the socket is closing)."""
        async with asyncio.timeout(within):
            event = await self.socket.receive()
        if event["type"] == "websocket.disconnect":
            raise _Gone
        received = cast("dict[str, Any]", event)
        text: str | None = received.get("text")
        size = len(text.encode()) if text is not None else len(received.get("bytes") or b"")
        if size > MAX_FRAME:
            too_large = f"Frames are at most {MAX_FRAME} bytes"
            await self.error(InvalidInput(too_large, code="frame_too_large"))
            await self.close(TOO_BIG, "frame too large")
            raise _Gone
        if text is None:
            await self.error(_invalid("Frames are text (JSON)"))
            return None
        try:
            check_json(text.encode())  # as an HTTP body: depth, NUL, 64-bit integers
            return _decode(text)
        except InvalidInput as exc:
            await self.error(exc)
            return None
        except msgspec.DecodeError as exc:  # not JSON, an unknown type, a missing field
            await self.error(_invalid(f"Not a valid frame: {exc}"))
            return None


@websocket("/ws")
async def cast_socket(socket: WebSocket[Any, Any, Any]) -> None:
    """The cast gateway: the first frame attaches a receiver or a controller."""
    await socket.accept()
    wire = _Wire(socket)
    with contextlib.suppress(_Gone):
        attach = await _attach_frame(wire)
        if attach.role == "receiver":
            await _receiver(wire, attach)
        else:
            await _controller(wire, attach)


async def _attach_frame(wire: _Wire) -> Attach:
    deadline = asyncio.get_running_loop().time() + ATTACH_WITHIN
    while True:
        try:
            frame = await wire.frame(deadline - asyncio.get_running_loop().time())
        except TimeoutError:
            await wire.close(POLICY, "attach first")
            raise _Gone from None
        if isinstance(frame, Attach):
            needed = "key" if frame.role == "receiver" else "token"
            if getattr(frame, needed) is not None:
                return frame
            await wire.error(_invalid(f"A {frame.role}'s attach frame needs its {needed}"))
        elif frame is not None:
            await wire.error(_invalid("The first frame must be attach"))


async def _receiver(wire: _Wire, attach: Attach) -> None:
    runtime, sid = wire.runtime, attach.session_id
    try:
        async with runtime.db.transaction() as uow:
            session = await sessions.attach_receiver(uow, session_id=sid, key=attach.key or "")
            seats = await sessions.seats(uow, session_id=sid)
    except Exception as exc:
        await wire.refuse(exc)
        return
    hub = runtime.cast.hub
    peer = live.Receiver(hub, sid, _link(wire))
    wire.peer = peer
    attached = {"role": "receiver", "sessionId": sid, "status": session.status.value}
    await wire.send(_frame("attached", **attached, controllers=[{"seat": s} for s in seats]))
    acks = _Acks(runtime, sid)

    async def serve(frame: Frame) -> None:
        if isinstance(frame, Ack):
            await acks.ack(frame.seq)
        elif isinstance(frame, Feedback):
            await hub.feedback(sid, frame.seat, frame.data)
        else:
            await wire.error(_invalid("A receiver sends ack, message or ping"))

    after = min(attach.after, session.next_seq - 1)
    try:
        await _live(wire, peer, hub.add_receiver(peer, after=after), serve)
    finally:
        with contextlib.suppress(Exception):  # the database may be down: the socket is gone
            await acks.store()
            if not hub.holds_receiver(sid):
                async with runtime.db.autocommit() as uow:
                    await sessions.detach_receiver(uow, session_id=sid)


class _Acks:
    """A receiver's acknowledgements, stored at most every ACK_EVERY s and when it goes: an
    ack per input would double the writes of a busy session."""

    def __init__(self, runtime: Runtime, session_id: str) -> None:
        self.runtime, self.session_id = runtime, session_id
        self.seq = self.stored = 0
        self.stored_at = 0.0

    async def ack(self, seq: int) -> None:
        self.seq = max(self.seq, seq)
        if time.monotonic() - self.stored_at >= ACK_EVERY:
            await self.store()

    async def store(self) -> None:
        if self.seq > self.stored:
            self.stored, self.stored_at = self.seq, time.monotonic()
            async with self.runtime.db.autocommit() as uow:
                await sessions.acknowledge(uow, session_id=self.session_id, seq=self.seq)


async def _controller(wire: _Wire, attach: Attach) -> None:
    runtime, sid = wire.runtime, attach.session_id
    try:
        player = await _player(wire, attach.token or "")
        seat = await _seat(wire, attach, player)
    except Exception as exc:
        await wire.refuse(exc)
        return
    hub = runtime.cast.hub
    peer = live.Controller(sid, seat.seat, _link(wire))
    wire.peer = peer
    await wire.send(_frame("attached", role="controller", sessionId=sid, seat=seat.seat))
    identity = f"{sid}:{player.player_id}"  # as the HTTP route counts it: one limit for both

    async def serve(frame: Frame) -> None:
        if not isinstance(frame, Input):
            await wire.error(_invalid("A controller sends input or ping"))
            return
        try:
            await session_open(wire.socket, player)
            decision = await runtime.limiter.hit("cast_input", identity)
            if not decision.allowed:
                raise RateLimited(retry_after=decision.reset_after)
            sent = await _record(runtime, frame, sid, player.player_id)
            if sent is None:  # not in one statement: the transaction that checks and says why
                async with runtime.db.transaction() as uow:
                    sent = await sessions.send_input(
                        uow, session_id=sid, player_id=player.player_id,
                        input_type=frame.input_type, input_data=frame.input_data,
                    )  # fmt: skip
                    uow.after_commit(partial(hub.stage, sent.input))
        except Exception as exc:
            await wire.error(exc, frame.id)
            if isinstance(exc, Unauthorized):  # the player's session was revoked
                await wire.close(POLICY, "signed out")
            return
        status = "delivered" if sent.delivered else "queued"  # as the HTTP input's answer
        await wire.send(_frame("ack", id=frame.id, seq=sent.input.seq, status=status))

    await _live(wire, peer, hub.add_controller(peer), serve)


async def _record(runtime: Runtime, frame: Input, sid: str, player_id: str) -> Sent | None:
    """The input in one statement committed alone (PostgreSQL), or None."""
    if runtime.db.is_sqlite:
        return None
    async with runtime.db.autocommit() as uow:
        sent = await sessions.record_input(
            uow, session_id=sid, player_id=player_id,
            input_type=frame.input_type, input_data=frame.input_data,
        )  # fmt: skip
        if sent is not None:
            uow.after_commit(partial(runtime.cast.hub.stage, sent.input))
    return sent


async def _live(
    wire: _Wire, peer: live.Peer, attach: Awaitable[None], serve: Callable[[Frame], Awaitable[None]]
) -> None:
    """Hold an attached socket: its writer runs, its frames are served until it goes."""
    writer = asyncio.create_task(peer.run())
    try:
        await attach
        while peer.closing is None:
            try:
                frame = await wire.frame(SILENT_AFTER)
            except TimeoutError:
                peer.shut(1000, f"silent for {SILENT_AFTER:g} s")
                break
            if isinstance(frame, Ping):
                peer.push(PONG)
            elif frame is not None:
                await serve(frame)
    except _Gone:
        pass
    finally:
        wire.runtime.cast.hub.remove(peer)
        if peer.closing is None:
            writer.cancel()  # the client left: nothing more to say
        with contextlib.suppress(Exception, asyncio.CancelledError):
            await asyncio.wait_for(writer, CLOSE_WAIT)


async def _player(wire: _Wire, token: str) -> PlayerPrincipal:
    """The player of the attach frame's session token, checked as a header's would be."""
    principal = await player_of(wire.socket, token)
    await limit(wire.socket, "player", principal.player_id)
    return principal


async def _seat(wire: _Wire, attach: Attach, player: PlayerPrincipal) -> Controller:
    """The player's seat: joined with the attach frame's code, or before."""
    runtime, sid = wire.runtime, attach.session_id
    if attach.code is None:
        async with runtime.db.read() as uow:
            return await sessions.controller(uow, session_id=sid, player_id=player.player_id)
    await limit(wire.socket, "cast_join", player.player_id)
    async with runtime.db.transaction() as uow:
        return await sessions.join(
            uow, session_id=sid, player_id=player.player_id, code=attach.code, box=runtime.box
        )
