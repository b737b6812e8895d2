"""TV casting over HTTP: sessions, join codes, inputs in order, who may see and end what."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from gamekeeper.core.cast import sessions
from support.provision import in_app

pytestmark = pytest.mark.anyio
CAST = "/api/v1/cast"
GAME_URL = "https://play.example.com/play?mode=cast"


async def create(client, key, game_id, **body):
    return await client.post(
        f"{CAST}/session",
        json={"gameId": game_id, "gameUrl": GAME_URL, "sessionData": {"level": 3}, **body},
        headers=key,
    )


def receiver_key(created: dict) -> str:
    return parse_qs(urlsplit(created["receiverUrl"]).query)["key"][0]


def attach(client, session_id: str, key: str):
    async def run(runtime):
        async with runtime.db.transaction() as uow:
            return await sessions.attach_receiver(uow, session_id=session_id, key=key)

    return in_app(client, run)


def backlog(client, session_id: str, after: int = 0):
    async def run(runtime):
        async with runtime.db.transaction(write=False) as uow:
            return await sessions.backlog(uow, session_id=session_id, after=after)

    return in_app(client, run)


def error_of(response) -> dict:
    body = response.json()
    assert set(body) == {"error"}, body
    return body["error"]


async def test_a_session_is_created_joined_and_fed_inputs_in_order(ogs, client):
    game_id, key = await ogs.game()
    made = await create(client, key, game_id)
    assert made.status_code == 200, made.text
    created = made.json()
    assert created["status"] == "created" and len(created["joinCode"]) == 6
    assert created["receiverUrl"].startswith(
        f"http://127.0.0.1:8000/cast?session={created['sessionId']}&key="
    )

    player = ogs.bearer((await ogs.sign_up())["sessionToken"])
    sid = created["sessionId"]
    refused = await client.post(
        f"{CAST}/input", json={"sessionId": sid, "inputType": "action"}, headers=player
    )
    assert refused.status_code == 403 and error_of(refused)["code"] == "not_a_controller"
    wrong = await client.post(f"{CAST}/session/{sid}/join", json={"code": "ZZZZZZ"}, headers=player)
    assert wrong.status_code == 403 and error_of(wrong)["code"] == "invalid_join_code"
    joined = await client.post(
        f"{CAST}/session/{sid}/join", json={"code": created["joinCode"].lower()}, headers=player
    )
    assert joined.json() == {"sessionId": sid, "seat": 1}

    first = await client.post(
        f"{CAST}/input",
        json={"sessionId": sid, "inputType": "action", "inputData": {"action": "jump"}},
        headers=player,
    )
    assert first.json()["status"] == "queued" and first.json()["seq"] == 1
    attach(client, sid, receiver_key(created))
    second = await client.post(
        f"{CAST}/input", json={"sessionId": sid, "inputType": "move", "inputData": {"x": 1}},
        headers=player,
    )  # fmt: skip
    assert second.json()["status"] == "delivered" and second.json()["seq"] == 2
    got = backlog(client, sid)
    assert [(i.seq, i.seat, i.input_type, i.input_data) for i in got] == [
        (1, 1, "action", {"action": "jump"}), (2, 1, "move", {"x": 1})
    ]  # fmt: skip

    status = (await client.get(f"{CAST}/session/{sid}", headers=key)).json()
    assert status["status"] == "active" and status["sessionId"] == sid
    assert (await client.get(f"{CAST}/session/{sid}", headers=player)).json()["status"] == "active"


async def test_only_the_game_and_its_controllers_see_a_session_and_ending_is_idempotent(
    ogs, client
):
    game_id, key = await ogs.game()
    _, other_key = await ogs.game(name="Other")
    sid = (await create(client, key, game_id)).json()["sessionId"]
    stranger = ogs.bearer((await ogs.sign_up(email="eve@example.com"))["sessionToken"])
    for headers in (other_key, stranger):
        response = await client.get(f"{CAST}/session/{sid}", headers=headers)
        assert (
            response.status_code == 404 and error_of(response)["code"] == "cast_session_not_found"
        )
    assert (await client.delete(f"{CAST}/session/{sid}", headers=other_key)).status_code == 404
    for _ in range(2):
        ended = await client.delete(f"{CAST}/session/{sid}", headers=key)
        assert ended.json() == {"status": "terminated", "sessionId": sid}
    joined = await client.post(
        f"{CAST}/session/{sid}/join", json={"code": "AAAAAA"}, headers=stranger
    )
    assert joined.status_code == 409 and error_of(joined)["code"] == "cast_session_terminated"


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"gameUrl": "https://elsewhere.example/play"}, 400, "game_url_not_allowed"),
        ({"gameUrl": "javascript:alert(1)"}, 400, "invalid_url"),
        ({"sessionData": {"blob": "x" * 20000}}, 400, "payload_too_large"),
        ({"sessionData": {"k": "a\u0000"}}, 400, "invalid_body"),  # NUL: refused at the edge
        ({"gameId": "someone-else"}, 403, "wrong_game"),
    ],
)
async def test_bad_sessions_are_refused_in_the_ogs_envelope(ogs, client, body, status, code):
    game_id, key = await ogs.game()
    response = await create(client, key, game_id, **body)
    assert response.status_code == status, response.text
    assert error_of(response)["code"] == code


async def test_a_session_goes_idle_then_ends_without_activity(ogs, client, clock):
    game_id, key = await ogs.game()
    sid = (await create(client, key, game_id)).json()["sessionId"]

    async def expire(runtime):
        async with runtime.db.transaction() as uow:
            return await sessions.expire(uow, idle_after=1800, end_after=300)

    clock.advance(1801)
    assert in_app(client, expire) == 0
    assert (await client.get(f"{CAST}/session/{sid}", headers=key)).json()["status"] == "idle"
    clock.advance(300)
    assert in_app(client, expire) == 1
    assert (await client.get(f"{CAST}/session/{sid}", headers=key)).json()["status"] == "terminated"


async def test_nul_and_unknown_ids_are_not_found(ogs, client):
    _, key = await ogs.game()
    nul = await client.get(f"{CAST}/session/a%00b", headers=key)  # refused at the edge
    assert nul.status_code == 400 and error_of(nul)["code"] == "invalid_characters"
    for path in ("not-a-uuid",):
        response = await client.get(f"{CAST}/session/{path}", headers=key)
        assert response.status_code == 404, response.text
