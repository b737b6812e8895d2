"""The routes the Node SDK calls beside the documented ones (issue 15, item 1).

``play.getPoints`` asks ``/play/dev/points/{gameId}/{playerId}``, ``users.getById`` asks
``/user/{userId}``, ``play.validateSessionToken`` posts to ``/play/dev/validate-session-token``;
a save answers ``savedCount`` and ``playerIdToOgpId`` as the SDK types them.
tests/e2e/test_ogp_sdk.py drives them with the SDK itself.
"""

from __future__ import annotations

import uuid

import pytest

from support.provision import ADMIN

pytestmark = pytest.mark.anyio

SAVE = "/play/dev/batch-save-points"
PASSWORD = "a long enough password 42"


async def test_points_by_path_answer_as_the_query_form_with_the_sdks_points_list(ogp):
    owner, other = await ogp.developer("Owner"), await ogp.developer("Other")
    game = await ogp.register(owner, maxScorePerSession=100)
    body = {"gameApiKey": game["id"], "points": [{"playerId": "sol:abc", "points": 70}] * 2}
    save = await ogp.signed(owner, "POST", SAVE, json=body)
    assert save.status_code == 200, save.text
    saved = save.json()["data"]
    assert (saved["saved"], saved["savedCount"]) == (2, 2)
    assert saved["playerIdToOgpId"] == {"sol:abc": "sol:abc"}

    by_path = await ogp.signed(owner, "GET", f"/play/dev/points/{game['id']}/sol:abc")
    assert by_path.status_code == 200, by_path.text
    data = by_path.json()["data"]
    assert data["points"] == [{"playerId": "sol:abc", "points": "140"}]
    assert (data["gameId"], data["playerId"], data["totalPoints"]) == (game["id"], "sol:abc", 140)
    query = {"gameId": game["id"], "playerId": "sol:abc"}
    by_query = await ogp.signed(owner, "GET", "/play/dev/points", params=query)
    assert by_query.json() == by_path.json()

    refused = await ogp.signed(other, "GET", f"/play/dev/points/{game['id']}/sol:abc")
    assert refused.status_code == 403
    assert refused.json() == {
        "statusCode": 403,
        "message": "You do not own this game",
        "error": "Forbidden",
    }
    unknown = await ogp.signed(owner, "GET", f"/play/dev/points/{uuid.uuid4()}/sol:abc")
    assert unknown.status_code == 404 and unknown.json()["error"] == "Not Found"
    unsigned = await ogp.client.get(f"/play/dev/points/{game['id']}/sol:abc")
    assert unsigned.status_code == 401 and unsigned.json()["statusCode"] == 401
    too_long = await ogp.signed(owner, "GET", f"/play/dev/points/{game['id']}/{'p' * 256}")
    assert too_long.status_code == 400 and too_long.json()["statusCode"] == 400


async def _developer_with_email(ogp, name: str, email: str) -> dict:
    response = await ogp.client.post(
        "/admin/v1/developers", json={"name": name, "email": email}, headers=ADMIN
    )
    assert response.status_code == 201, response.text
    return response.json()


async def test_a_user_by_id_shows_the_email_only_to_that_user(ogp):
    me = await _developer_with_email(ogp, "Me", "me@studio.test")
    them = await _developer_with_email(ogp, "Them", "them@studio.test")

    mine = await ogp.signed(me, "GET", f"/user/{me['apiKey']}")
    assert mine.status_code == 200, mine.text
    profile = await ogp.signed(me, "GET", "/user/me")
    assert mine.json() == profile.json()
    assert mine.json()["data"]["email"] == "me@studio.test"

    theirs = await ogp.signed(me, "GET", f"/user/{them['apiKey']}")
    assert theirs.status_code == 200, theirs.text
    data = theirs.json()["data"]
    assert (data["id"], data["name"], data["email"]) == (them["apiKey"], "Them", None)

    unknown = await ogp.signed(me, "GET", f"/user/{uuid.uuid4()}")
    assert unknown.status_code == 404
    assert unknown.json()["statusCode"] == 404 and unknown.json()["error"] == "Not Found"
    unsigned = await ogp.client.get(f"/user/{them['apiKey']}")
    assert unsigned.status_code == 401 and unsigned.json()["statusCode"] == 401


async def _signed_in_player(client) -> tuple[str, str]:
    email = f"p{uuid.uuid4().hex[:8]}@players.test"
    created = await client.post(
        "/admin/v1/players", json={"email": email, "password": PASSWORD}, headers=ADMIN
    )
    assert created.status_code == 201, created.text
    login = await client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
    assert login.status_code == 200, login.text
    return created.json()["id"], login.json()["sessionToken"]


async def test_a_session_token_is_valid_while_its_session_is_open(ogp):
    developer = await ogp.developer()
    player_id, token = await _signed_in_player(ogp.client)
    path = "/play/dev/validate-session-token"

    async def check(value: str) -> dict:
        response = await ogp.signed(developer, "POST", path, json={"sessionToken": value})
        assert response.status_code == 200, response.text
        assert response.json()["error"] is None
        return response.json()["data"]

    assert await check(token) == {"valid": True, "playerId": player_id, "ogpId": player_id}
    assert await check(token[:-4] + "AAAA") == {"valid": False}  # forged signature
    assert await check("") == {"valid": False}
    logout = await ogp.client.post(
        "/api/v1/auth/logout", headers={"Authorization": f"Bearer {token}"}
    )
    assert logout.status_code in (200, 204), logout.text
    assert await check(token) == {"valid": False}  # the session is closed

    too_long = await ogp.signed(developer, "POST", path, json={"sessionToken": "x" * 5000})
    assert too_long.status_code == 400 and too_long.json()["statusCode"] == 400
    unsigned = await ogp.client.post(path, json={"sessionToken": token})
    assert unsigned.status_code == 401 and unsigned.json()["statusCode"] == 401
