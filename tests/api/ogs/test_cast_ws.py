"""The cast WebSocket gateway, served for real (uvicorn on loopback, a ``websockets`` client):
receivers get every input in order, none lost or repeated across a reconnect; controllers send
inputs as frames; errors come as error frames; ended sessions close their sockets."""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
from collections.abc import AsyncIterator, Iterator
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import uvicorn
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from conftest import ADMIN_TOKEN, SECRET_KEY
from gamekeeper.api.app import create_app
from gamekeeper.settings import load_settings
from support.loopback import free_port
from support.waiting import wait_until

pytestmark = pytest.mark.anyio
CAST = "/api/v1/cast"
WITHIN = 10.0  # seconds for any one frame: generous, the machine is shared


class Served:
    def __init__(self, port: int) -> None:
        self.url = f"http://127.0.0.1:{port}"
        self.ws_url = f"ws://127.0.0.1:{port}{CAST}/ws"


@contextlib.contextmanager
def serving(app) -> Iterator[Served]:
    """The app on a loopback port, served by uvicorn in a thread of its own."""
    port = free_port()
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, lifespan="on", log_config=None, access_log=False
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name=f"uvicorn-{port}", daemon=True)
    thread.start()
    try:
        wait_until(lambda: server.started or not thread.is_alive(), what="uvicorn started")
        assert server.started, "uvicorn did not start"
        yield Served(port)
    finally:
        server.should_exit = True
        thread.join(timeout=15)


@pytest.fixture
def served(tmp_path, database_url, clock) -> Iterator[Served]:
    """The app on the test's database and clock; its expiry loop looks every 0.1 s."""
    settings = load_settings(
        env={}, data_dir=str(tmp_path / "data"), database_url=database_url,
        secret_key=SECRET_KEY, admin_token=ADMIN_TOKEN, log_level="WARNING",
        cast_expire_every=0.1,
    )  # fmt: skip
    with serving(create_app(settings, clock=clock)) as served:
        yield served


@pytest.fixture
async def client(served) -> AsyncIterator[httpx.AsyncClient]:
    """What the ``ogs`` fixture provisions through: plain HTTP to the served app."""
    async with httpx.AsyncClient(base_url=served.url, timeout=WITHIN) as http:
        yield http


class Socket:
    """One cast WebSocket: JSON frames out and in."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws

    async def send(self, **frame) -> None:
        await self.ws.send(json.dumps(frame))

    async def recv(self) -> dict:
        return json.loads(await asyncio.wait_for(self.ws.recv(), WITHIN))

    async def inputs(self, count: int) -> list[dict]:
        frames = [await self.recv() for _ in range(count)]
        assert all(f["type"] == "input" for f in frames), frames
        return frames

    async def close_code(self) -> int | None:
        """The server's close code, once it closes (no frame may come before it)."""
        with pytest.raises(ConnectionClosed) as closed:
            extra = await self.recv()
            pytest.fail(f"a frame came instead of the close: {extra}")
        return closed.value.rcvd.code if closed.value.rcvd else None


@contextlib.asynccontextmanager
async def opened(served: Served) -> AsyncIterator[Socket]:
    async with connect(served.ws_url, open_timeout=WITHIN) as ws:
        yield Socket(ws)


class Table:
    """A cast session and its players, through the public HTTP API."""

    def __init__(self, ogs, client, served) -> None:
        self.ogs, self.client, self.served = ogs, client, served

    async def create(self) -> Table:
        game_id, self.game_key = await self.ogs.game()
        made = await self.client.post(
            f"{CAST}/session",
            json={"gameId": game_id, "gameUrl": "https://play.example.com/play"},
            headers=self.game_key,
        )
        assert made.status_code == 200, made.text
        body = made.json()
        self.sid, self.code = body["sessionId"], body["joinCode"]
        self.key = parse_qs(urlsplit(body["receiverUrl"]).query)["key"][0]
        return self

    async def player(self, name: str, *, join: bool = True) -> str:
        token = (await self.ogs.device(f"device-{name}-0123456789"))["sessionToken"]
        if join:
            joined = await self.client.post(
                f"{CAST}/session/{self.sid}/join", json={"code": self.code},
                headers=self.ogs.bearer(token),
            )  # fmt: skip
            assert joined.status_code == 200, joined.text
        return token

    async def http_input(self, token: str, **data) -> dict:
        sent = await self.client.post(
            f"{CAST}/input", json={"sessionId": self.sid, "inputType": "move", "inputData": data},
            headers=self.ogs.bearer(token),
        )  # fmt: skip
        assert sent.status_code == 200, sent.text
        return sent.json()

    @contextlib.asynccontextmanager
    async def receiver(self, after: int = 0, key: str | None = None) -> AsyncIterator[Socket]:
        async with opened(self.served) as socket:
            await socket.send(
                type="attach", role="receiver", sessionId=self.sid, key=key or self.key,
                after=after,
            )  # fmt: skip
            yield socket

    @contextlib.asynccontextmanager
    async def controller(self, token: str, **extra) -> AsyncIterator[Socket]:
        async with opened(self.served) as socket:
            await socket.send(
                type="attach", role="controller", sessionId=self.sid, token=token, **extra
            )
            yield socket


@pytest.fixture
async def table(ogs, client, served) -> Table:
    return await Table(ogs, client, served).create()


def seqs(frames: list[dict]) -> list[int]:
    return [f["seq"] for f in frames]


async def test_a_receiver_gets_the_queued_inputs_in_order_then_each_new_one(table):
    player = await table.player("ada")
    queued = [await table.http_input(player, step=n) for n in range(3)]
    assert [q["status"] for q in queued] == ["queued"] * 3
    async with table.receiver() as tv:
        attached = await tv.recv()
        assert attached == {
            "type": "attached", "role": "receiver", "sessionId": table.sid, "status": "active",
            "controllers": [{"seat": 1}],
        }  # fmt: skip
        got = await tv.inputs(3)
        assert [(f["seq"], f["seat"], f["inputType"], f["inputData"]) for f in got] == [
            (1, 1, "move", {"step": 0}), (2, 1, "move", {"step": 1}), (3, 1, "move", {"step": 2})
        ]  # fmt: skip
        assert got[0]["at"] == queued[0]["timestamp"]
        live = await table.http_input(player, step=3)
        assert live["status"] == "delivered"
        assert (await tv.recv())["inputData"] == {"step": 3}
        metrics = (await table.client.get("/metrics")).text
        assert "gamekeeper_cast_receivers 1.0" in metrics
        assert "gamekeeper_cast_inputs_relayed_total 4.0" in metrics


async def test_http_and_controller_socket_inputs_sent_at_once_arrive_in_one_order(table):
    over_http, over_ws = await table.player("ada"), await table.player("bob")
    async with table.receiver() as tv, table.controller(over_ws) as phone:
        assert (await tv.recv())["type"] == "attached"
        assert await phone.recv() == {
            "type": "attached", "role": "controller", "sessionId": table.sid, "seat": 2
        }  # fmt: skip

        async def by_http() -> list[int]:
            return [(await table.http_input(over_http, n=n))["seq"] for n in range(10)]

        async def by_socket() -> list[int]:
            for n in range(10):
                await phone.send(type="input", id=n, inputType="tap", inputData={"n": n})
            acks = [await phone.recv() for _ in range(10)]
            assert [(a["type"], a["id"], a["status"]) for a in acks] == [
                ("ack", n, "delivered") for n in range(10)
            ]
            return [a["seq"] for a in acks]

        http_seqs, ws_seqs = await asyncio.gather(by_http(), by_socket())
        got = await tv.inputs(20)
    assert seqs(got) == list(range(1, 21))  # every input once, in the session's order
    assert sorted(http_seqs + ws_seqs) == list(range(1, 21))
    by_seat = {1: [], 2: []}
    for frame in got:
        by_seat[frame["seat"]].append(frame["inputData"]["n"])
        assert frame["inputType"] == ("move" if frame["seat"] == 1 else "tap")
    assert by_seat == {1: list(range(10)), 2: list(range(10))}  # each sender's order kept
    assert [f["seq"] for f in got if f["seat"] == 2] == ws_seqs


async def test_a_receiver_that_reconnects_gets_exactly_the_inputs_it_missed(table):
    token = await table.player("ada")
    async with table.controller(token) as phone:
        assert (await phone.recv())["type"] == "attached"
        total = 24

        async def keep_sending() -> None:
            for n in range(total):
                await phone.send(type="input", id=n, inputType="tap", inputData={"n": n})
                assert (await phone.recv())["type"] == "ack"

        sending = asyncio.create_task(keep_sending())
        async with table.receiver() as tv:
            assert (await tv.recv())["type"] == "attached"
            first = await tv.inputs(5)
            await tv.send(type="ack", seq=first[-1]["seq"])
        held = first[-1]["seq"]  # anything the first socket got after it is lost with the TV
        async with table.receiver(after=held) as tv:
            assert (await tv.recv())["type"] == "attached"
            await sending
            rest = await tv.inputs(total - held)
            await tv.send(type="ping")
            assert await tv.recv() == {"type": "pong"}  # and nothing more came before it
    assert seqs(first) == [1, 2, 3, 4, 5]
    assert seqs(rest) == list(range(held + 1, total + 1))
    assert [f["inputData"]["n"] for f in rest] == list(range(held, total))


async def test_a_wrong_receiver_key_is_refused_with_an_error_frame(table):
    async with table.receiver(key="not-the-key") as tv:
        error = await tv.recv()
        assert (error["type"], error["code"], error["status"]) == (
            "error", "invalid_receiver_key", 401
        )  # fmt: skip
        assert await tv.close_code() == 1008


async def test_a_controller_must_join_and_may_join_in_its_attach_frame(table):
    token = await table.player("ada", join=False)
    async with table.controller(token) as phone:
        error = await phone.recv()
        assert (error["type"], error["code"], error["status"]) == ("error", "not_a_controller", 403)
        assert await phone.close_code() == 1008
    async with table.controller(token, code="ZZZZZZ") as phone:
        assert (await phone.recv())["code"] == "invalid_join_code"
    async with table.receiver() as tv:
        assert (await tv.recv())["controllers"] == []
        async with table.controller(token, code=table.code.lower()) as phone:
            assert (await phone.recv())["seat"] == 1
            assert await tv.recv() == {"type": "controller", "seat": 1, "event": "joined"}
            await phone.send(type="input", id=7, inputType="jump")
            assert (await phone.recv())["seq"] == 1
            got = await tv.recv()
            assert (got["seq"], got["seat"], got["inputType"]) == (1, 1, "jump")


async def test_the_receivers_messages_reach_the_seat_it_names_or_every_controller(table):
    ada, bob = await table.player("ada"), await table.player("bob")
    async with table.receiver() as tv, table.controller(ada) as one, table.controller(bob) as two:
        for socket in (tv, one, two):
            assert (await socket.recv())["type"] == "attached"
        await tv.send(type="message", seat=2, data={"vibrate": 200})
        await tv.send(type="message", data={"round": "over"})
        assert await one.recv() == {"type": "message", "data": {"round": "over"}}
        assert await two.recv() == {"type": "message", "data": {"vibrate": 200}}
        assert await two.recv() == {"type": "message", "data": {"round": "over"}}


async def test_bad_frames_are_answered_with_error_frames_and_the_socket_stays_open(table):
    async with table.receiver() as tv:
        assert (await tv.recv())["type"] == "attached"
        for bad in ("not json", json.dumps({"type": "teleport"}), json.dumps({"type": "ack"})):
            await tv.ws.send(bad)
            error = await tv.recv()
            assert (error["type"], error["code"], error["status"]) == (
                "error",
                "invalid_frame",
                400,
            )
        await tv.send(type="input", id=1, inputType="tap")  # a controller's frame
        assert (await tv.recv())["code"] == "invalid_frame"
        await tv.send(type="ping")
        assert await tv.recv() == {"type": "pong"}
        await tv.send(type="message", data={"blob": "x" * 5000})
        error = await tv.recv()
        assert (error["type"], error["code"]) == ("error", "frame_too_large")
        assert await tv.close_code() == 1009


async def test_deep_frames_and_nul_inputs_are_error_frames_and_the_socket_stays_open(table):
    """Issue 15: a frame nested 1,500 deep was a RecursionError; a NUL in an input reached
    PostgreSQL. Both are refused as an HTTP body would be (api/edge.py)."""
    ada = await table.player("ada")
    async with table.controller(ada) as phone:
        assert (await phone.recv())["type"] == "attached"
        deep = '{"type": "input", "id": 1, "inputType": "tap", "inputData": {"d": %s}}' % (
            "[" * 1500 + "]" * 1500
        )
        await phone.ws.send(deep)
        error = await phone.recv()
        assert (error["type"], error["code"], error["status"]) == ("error", "invalid_body", 400)
        assert "nested more than 32 levels" in error["message"]
        await phone.send(type="input", id=2, inputType="tap", inputData={"k": "a\u0000"})
        error = await phone.recv()
        assert (error["code"], error["status"]) == ("invalid_body", 400)
        assert error["message"].startswith("inputData.k:")
        await phone.send(type="input", id=3, inputType="tap", inputData={"k": "fine"})
        assert (await phone.recv())["seq"] == 1


async def test_a_controller_over_its_rate_is_answered_rate_limited_for_each_input(table):
    token = await table.player("ada")
    async with table.receiver() as tv, table.controller(token) as phone:
        assert (await tv.recv())["type"] == (await phone.recv())["type"] == "attached"
        for n in range(30):  # the clock stands still: one window of 25 inputs
            await phone.send(type="input", id=n, inputType="tap", inputData={"n": n})
        answers = [await phone.recv() for _ in range(30)]
        assert [a["id"] for a in answers if a["type"] == "ack"] == list(range(25))
        refused = [a for a in answers if a["type"] == "error"]
        assert [(a["id"], a["code"], a["status"]) for a in refused] == [
            (n, "rate_limited", 429) for n in range(25, 30)
        ]
        assert seqs(await tv.inputs(25)) == list(range(1, 26))
        await phone.send(type="ping")
        assert await phone.recv() == {"type": "pong"}


async def test_a_session_the_game_ends_closes_its_receiver_and_controllers(table):
    token = await table.player("ada")
    async with table.receiver() as tv, table.controller(token) as phone:
        assert (await tv.recv())["type"] == (await phone.recv())["type"] == "attached"
        ended = await table.client.delete(f"{CAST}/session/{table.sid}", headers=table.game_key)
        assert ended.json()["status"] == "terminated"
        for socket in (tv, phone):
            assert await socket.recv() == {"type": "ended", "reason": "ended"}
            assert await socket.close_code() == 1000
    async with table.receiver() as tv:  # and it cannot be attached again
        assert (await tv.recv())["code"] == "cast_session_terminated"


async def test_the_expiry_loop_ends_an_idle_session_and_closes_its_sockets(table, clock):
    token = await table.player("ada")
    async with table.receiver() as tv, table.controller(token) as phone:
        assert (await tv.recv())["type"] == (await phone.recv())["type"] == "attached"
        clock.advance(1800 + 300 + 1)  # idle after 30 minutes, ended 5 minutes later
        for socket in (tv, phone):
            assert await socket.recv() == {"type": "ended", "reason": "idle"}
            assert await socket.close_code() == 1000
    found = await table.client.get(f"{CAST}/session/{table.sid}", headers=table.game_key)
    assert found.json()["status"] == "terminated"
