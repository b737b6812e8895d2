"""Refresh (cookie and body, rotation, reuse detection) and web auth codes over HTTP."""

from __future__ import annotations

import asyncio

import pytest

from support.provision import audit_actions, new_key

pytestmark = pytest.mark.anyio
AUTH = "/api/v1/auth"


async def refresh(client, token: str | None = None, *, cookie: str | None = None):
    # The cookie is read only from a JSON request (tests/api/test_edge_input.py).
    headers = {"Cookie": f"refresh={cookie}", "Content-Type": "application/json"} if cookie else {}
    body = {"refreshToken": token} if token else None
    return await client.post(f"{AUTH}/refresh", json=body, headers=headers)


async def test_refresh_by_body_rotates_the_token(ogs, client):
    session = await ogs.sign_up()
    response = await refresh(client, session["refreshToken"])
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["success"] is True and body["expiresIn"] == 900
    assert body["refreshToken"] != session["refreshToken"]
    cookies = response.headers.get_list("set-cookie")
    assert any(c.startswith(f"refresh={body['refreshToken']};") for c in cookies)
    me = await client.get(f"{AUTH}/me", headers=ogs.bearer(body["sessionToken"]))
    assert me.json()["id"] == session["user"]["id"]


async def test_refresh_by_cookie(ogs, client):
    session = await ogs.sign_up()
    response = await refresh(client, cookie=session["refreshToken"])
    assert response.status_code == 200, response.text
    second = await refresh(client, cookie=response.json()["refreshToken"])
    assert second.status_code == 200


async def test_reuse_of_a_spent_refresh_token_revokes_the_family(ogs, client):
    session = await ogs.sign_up()
    rotated = (await refresh(client, session["refreshToken"])).json()
    reused = await refresh(client, session["refreshToken"])
    assert reused.status_code == 401
    assert reused.json()["error"]["code"] == "invalid_token"
    # The thief's and the owner's tokens both stop working.
    assert (await refresh(client, rotated["refreshToken"])).status_code == 401
    me = await client.get(f"{AUTH}/me", headers=ogs.bearer(rotated["sessionToken"]))
    assert me.status_code == 401
    revoked = [e for e in await audit_actions(client) if e["action"] == "session.revoked"]
    assert [e["details"]["reason"] for e in revoked] == ["refresh_token_reuse"]


async def test_refresh_refusals(ogs, client, clock):
    session = await ogs.sign_up()
    missing = await refresh(client)
    assert missing.status_code == 401
    assert missing.json()["error"]["code"] == "missing_auth"
    forged = await refresh(client, "forged-refresh-token")
    assert forged.status_code == 401
    assert forged.json()["error"] == {
        "code": "invalid_token",
        "message": "The provided token is invalid or expired",
        "status": 401,
    }
    malformed = await client.post(f"{AUTH}/refresh", json={"refreshToken": 7})
    assert malformed.status_code == 400
    assert malformed.json()["error"]["code"] == "invalid_body"
    clock.advance(7 * 24 * 3600 + 1)
    expired = await refresh(client, session["refreshToken"])
    assert expired.status_code == 401


async def test_web_code_is_spent_once_by_a_game(ogs, client):
    _, key = await ogs.game()
    player = await ogs.sign_up()
    issued = await client.post(f"{AUTH}/web-code", headers=ogs.bearer(player["sessionToken"]))
    assert issued.status_code == 200
    assert issued.json()["expiresIn"] == 300
    code = issued.json()["code"]
    assert len(code) >= 32
    verified = await client.post(f"{AUTH}/verify-token", json={"token": code}, headers=key)
    assert verified.status_code == 200
    assert verified.json() == {
        "valid": True,
        "ogsUserId": player["user"]["id"],
        "isVerified": False,
    }  # no email until it is verified
    again = await client.post(f"{AUTH}/verify-token", json={"token": code}, headers=key)
    assert again.json() == {"valid": False}


async def test_web_code_expired_forged_malformed(ogs, client, clock):
    _, key = await ogs.game()
    player = await ogs.sign_up()
    headers = ogs.bearer(player["sessionToken"])
    code = (await client.post(f"{AUTH}/web-code", headers=headers)).json()["code"]
    forged = await client.post(
        f"{AUTH}/verify-token", json={"token": code[:-2] + "xx"}, headers=key
    )
    assert forged.json() == {"valid": False}
    for body in ({}, {"token": ""}, {"token": ["x"]}, {"token": "x" * 600}):
        response = await client.post(f"{AUTH}/verify-token", json=body, headers=key)
        assert response.status_code == 400, body
        assert response.json()["error"]["code"] == "invalid_body"
    clock.advance(301)
    expired = await client.post(f"{AUTH}/verify-token", json={"token": code}, headers=key)
    assert expired.json() == {"valid": False}


async def test_two_concurrent_verifications_of_one_code_let_exactly_one_in(ogs, client):
    _, key = await ogs.game()
    player = await ogs.sign_up()
    code = (
        await client.post(f"{AUTH}/web-code", headers=ogs.bearer(player["sessionToken"]))
    ).json()["code"]
    answers = await asyncio.gather(
        *(client.post(f"{AUTH}/verify-token", json={"token": code}, headers=key) for _ in range(2))
    )
    assert sorted(a.json()["valid"] for a in answers) == [False, True]


async def test_verify_token_needs_a_server_key_with_players_read(ogs, client):
    game_id, _ = await ogs.game()
    test_key = await new_key(client, game_id, kind="test")
    response = await client.post(
        f"{AUTH}/verify-token", json={"token": "x"}, headers=ogs.bearer(test_key["key"])
    )
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "wrong_key_kind"
    narrow = await new_key(client, game_id, scopes=["game.read"])
    response = await client.post(
        f"{AUTH}/verify-token", json={"token": "x"}, headers=ogs.bearer(narrow["key"])
    )
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "insufficient_scope"


async def test_the_routes_are_in_the_openapi_document(client):
    paths = (await client.get("/openapi.json")).json()["paths"]
    for path in (
        "signup",
        "login",
        "login/code",
        "login/code/verify",
        "device",
        "logout",
        "verify-email",
        "password",
        "refresh",
        "web-code",
        "verify-token",
        "account-link-token",
        "verify-link-token",
        "links",
    ):
        assert f"{AUTH}/{path}" in paths, path
