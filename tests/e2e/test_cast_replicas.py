"""Cast across replicas: two ``serve`` processes on one PostgreSQL and one Redis. The TV's
receiver socket is held by replica A; players send inputs to replica B, over HTTP and over a
controller socket, and A delivers them all, in the session's order."""

from __future__ import annotations

import asyncio
import json
import secrets
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.redis, pytest.mark.anyio]
CAST = "/api/v1/cast"
WITHIN = 10.0
GAME_ORIGIN = "https://play.example.com"


@pytest.fixture
def replicas(start_server, fresh_database, redis_url, tmp_path):
    shared = {
        "GAMEKEEPER_DATABASE_URL": fresh_database,
        "GAMEKEEPER_REDIS_URL": redis_url,
        "GAMEKEEPER_SECRET_KEY": secrets.token_urlsafe(32),
        "GAMEKEEPER_ADMIN_TOKEN": "gk_admin_" + secrets.token_urlsafe(24),
        "GAMEKEEPER_RATE_LIMIT_CAST_INPUT": "1000/second",  # the order is under test, not the rate
    }
    a = start_server(tmp_path / "a", **shared)
    b = start_server(tmp_path / "b", **shared)
    return a, b, {"Authorization": f"Bearer {shared['GAMEKEEPER_ADMIN_TOKEN']}"}


def ws_url(server) -> str:
    return server.url.replace("http://", "ws://") + f"{CAST}/ws"


async def send(ws: ClientConnection, **frame) -> None:
    await ws.send(json.dumps(frame))


async def recv(ws: ClientConnection) -> dict:
    return json.loads(await asyncio.wait_for(ws.recv(), WITHIN))


async def test_a_receiver_on_one_replica_gets_every_input_sent_to_the_other_in_order(replicas):
    a, b, admin = replicas
    async with httpx.AsyncClient(timeout=WITHIN) as http:
        game = await http.post(
            f"{a.url}/admin/v1/games",
            json={"name": "Cast", "allowedOrigins": [GAME_ORIGIN]}, headers=admin,
        )  # fmt: skip
        key = await http.post(
            f"{a.url}/admin/v1/games/{game.json()['id']}/keys", json={"kind": "server"},
            headers=admin,
        )  # fmt: skip
        game_key = {"Authorization": f"Bearer {key.json()['key']}"}
        made = await http.post(
            f"{a.url}{CAST}/session",
            json={"gameId": game.json()["id"], "gameUrl": f"{GAME_ORIGIN}/play"},
            headers=game_key,
        )
        created = made.json()
        sid, code = created["sessionId"], created["joinCode"]
        receiver_key = parse_qs(urlsplit(created["receiverUrl"]).query)["key"][0]

        async def player(name: str) -> str:
            signed = await http.post(
                f"{b.url}/api/v1/auth/device", json={"deviceId": f"device-{name}-0123456789"}
            )
            return signed.json()["sessionToken"]

        over_http, over_ws = await player("ada"), await player("bob")
        joined = await http.post(
            f"{b.url}{CAST}/session/{sid}/join", json={"code": code},
            headers={"Authorization": f"Bearer {over_http}"},
        )  # fmt: skip
        assert joined.json()["seat"] == 1

        async with connect(ws_url(a)) as tv, connect(ws_url(b)) as phone:
            await send(tv, type="attach", role="receiver", sessionId=sid, key=receiver_key)
            assert (await recv(tv))["controllers"] == [{"seat": 1}]
            await send(phone, type="attach", role="controller", sessionId=sid, token=over_ws,
                       code=code)  # fmt: skip
            assert (await recv(phone))["seat"] == 2
            # The join happened on B; A's receiver hears of it.
            assert await recv(tv) == {"type": "controller", "seat": 2, "event": "joined"}

            async def by_http() -> list[int]:
                seqs = []
                for n in range(15):
                    sent = await http.post(
                        f"{b.url}{CAST}/input",
                        json={"sessionId": sid, "inputType": "move", "inputData": {"n": n}},
                        headers={"Authorization": f"Bearer {over_http}"},
                    )
                    assert sent.json()["status"] == "delivered", sent.text
                    seqs.append(sent.json()["seq"])
                return seqs

            async def by_socket() -> list[int]:
                for n in range(15):
                    await send(phone, type="input", id=n, inputType="tap", inputData={"n": n})
                acks = [await recv(phone) for _ in range(15)]
                assert {a["status"] for a in acks} == {"delivered"}, acks
                return [a["seq"] for a in acks]

            http_seqs, ws_seqs = await asyncio.gather(by_http(), by_socket())
            got = [await recv(tv) for _ in range(30)]
            assert [f["seq"] for f in got] == list(range(1, 31))
            assert sorted(http_seqs + ws_seqs) == list(range(1, 31))
            for seat, kind in ((1, "move"), (2, "tap")):
                mine = [f for f in got if f["seat"] == seat]
                assert [f["inputData"]["n"] for f in mine] == list(range(15))
                assert {f["inputType"] for f in mine} == {kind}

            # Feedback from the TV on A reaches the phone on B; the game ends it through B.
            await send(tv, type="message", seat=2, data={"vibrate": 100})
            assert await recv(phone) == {"type": "message", "data": {"vibrate": 100}}
            ended = await http.delete(f"{b.url}{CAST}/session/{sid}", headers=game_key)
            assert ended.json()["status"] == "terminated"
            for socket in (tv, phone):
                assert await recv(socket) == {"type": "ended", "reason": "ended"}
                with pytest.raises(ConnectionClosed) as closed:
                    await recv(socket)
                assert closed.value.rcvd is not None and closed.value.rcvd.code == 1000
