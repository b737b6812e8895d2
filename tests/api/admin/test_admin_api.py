"""The admin API contract: what provisioning scripts, the console and SDKs rely on."""

from __future__ import annotations

import pytest

from support.provision import ADMIN, new_developer, new_game, new_key

pytestmark = pytest.mark.anyio


@pytest.fixture
async def client(make_client):
    async with make_client() as client:
        yield client


async def test_developer_secret_is_shown_once(client):
    created = await new_developer(client, "Acme")
    assert set(created) == {"id", "name", "email", "createdAt", "apiKey", "secretKey"}
    assert created["apiKey"] == created["id"] and len(created["secretKey"]) >= 43
    fetched = (await client.get(f"/admin/v1/developers/{created['id']}", headers=ADMIN)).json()
    assert "secretKey" not in fetched and created["secretKey"] not in str(fetched)
    missing = await client.get("/admin/v1/developers/nope", headers=ADMIN)
    assert missing.status_code == 404
    assert missing.json() == {
        "error": {
            "code": "developer_not_found",
            "message": "No developer with that id",
            "status": 404,
        }
    }


async def test_games_create_list_get_patch(client):
    developer = await new_developer(client)
    created = await client.post(
        "/admin/v1/games",
        json={
            "name": "Trivia Jam",
            "developerId": developer["id"],
            "gameUrl": "https://trivia.example/play",
            "allowedOrigins": ["https://trivia.example"],
            "callbackUrl": "https://trivia.example/callbacks",
        },
        headers=ADMIN,
    )
    assert created.status_code == 201
    game = created.json()
    assert game["slug"] == "trivia-jam" and game["developerId"] == developer["id"]
    patched = await client.patch(
        f"/admin/v1/games/{game['id']}",
        json={"callbackUrl": None, "settings": {"kongregate": {"itemsPerPage": 50}}},
        headers=ADMIN,
    )
    assert patched.status_code == 200
    assert patched.json()["callbackUrl"] is None
    assert patched.json()["gameUrl"] == "https://trivia.example/play"  # untouched
    assert patched.json()["settings"] == {"kongregate": {"itemsPerPage": 50}}
    assert (
        await client.get(f"/admin/v1/games/{game['id']}", headers=ADMIN)
    ).json() == patched.json()
    for name in ("B", "C"):
        await new_game(client, name)
    first = (await client.get("/admin/v1/games?limit=2", headers=ADMIN)).json()
    rest = (
        await client.get(f"/admin/v1/games?limit=2&cursor={first['nextCursor']}", headers=ADMIN)
    ).json()
    assert len(first["items"]) == 2 and len(rest["items"]) == 1 and rest["nextCursor"] is None


async def test_game_errors(client):
    await new_game(client, "Taken", slug="taken")
    conflict = await client.post(
        "/admin/v1/games", json={"name": "X", "slug": "taken"}, headers=ADMIN
    )
    assert (conflict.status_code, conflict.json()["error"]["code"]) == (409, "slug_taken")
    bad_slug = await client.post(
        "/admin/v1/games", json={"name": "X", "slug": "Not OK"}, headers=ADMIN
    )
    assert (bad_slug.status_code, bad_slug.json()["error"]["code"]) == (400, "invalid_slug")
    bad_url = await client.post(
        "/admin/v1/games", json={"name": "X", "gameUrl": "javascript:alert(1)"}, headers=ADMIN
    )
    assert bad_url.json()["error"]["code"] == "invalid_url"
    wrong_type = await client.post("/admin/v1/games", json={"name": 42}, headers=ADMIN)
    assert wrong_type.status_code == 400 and "name" in wrong_type.json()["error"]["message"]
    unknown = await client.patch("/admin/v1/games/x", json={"owner": "me"}, headers=ADMIN)
    assert unknown.status_code == 400 and "owner" in unknown.json()["error"]["message"]
    missing = await client.patch("/admin/v1/games/nope", json={"name": "Y"}, headers=ADMIN)
    assert (missing.status_code, missing.json()["error"]["code"]) == (404, "game_not_found")
    no_name = await client.post("/admin/v1/games", json={}, headers=ADMIN)
    assert no_name.status_code == 400


async def test_keys_shown_once_listed_without_secret_and_revoked(client):
    game = await new_game(client)
    issued = await new_key(client, game, kind="operator", name="casino")
    assert issued["key"].startswith("sk_live_") and issued["key"].startswith(issued["prefix"])
    assert issued["scopes"] == ["tournaments.read", "tournaments.write", "players.write"]
    listed = (await client.get(f"/admin/v1/games/{game}/keys", headers=ADMIN)).json()["items"]
    assert [k["id"] for k in listed] == [issued["id"]]
    assert "key" not in listed[0] and issued["key"] not in str(listed)
    assert (await client.delete(f"/admin/v1/keys/{issued['id']}", headers=ADMIN)).status_code == 204
    assert (await client.delete(f"/admin/v1/keys/{issued['id']}", headers=ADMIN)).status_code == 204
    listed = (await client.get(f"/admin/v1/games/{game}/keys", headers=ADMIN)).json()["items"]
    assert listed[0]["revokedAt"] is not None
    assert (await client.delete("/admin/v1/keys/nope", headers=ADMIN)).status_code == 404
    bad_kind = await client.post(
        f"/admin/v1/games/{game}/keys", json={"kind": "root"}, headers=ADMIN
    )
    assert bad_kind.status_code == 400 and "kind" in bad_kind.json()["error"]["message"]
    no_game = await client.post("/admin/v1/games/nope/keys", json={"kind": "server"}, headers=ADMIN)
    assert no_game.status_code == 404


async def test_players(client):
    created = await client.post(
        "/admin/v1/players",
        json={"email": "Ann@Example.com", "password": "long enough", "displayName": "Ann"},
        headers=ADMIN,
    )
    assert created.status_code == 201
    player = created.json()
    assert player["email"] == "ann@example.com" and player["hasPassword"] is True
    assert "password" not in str(player).lower().replace("haspassword", "")
    assert (await client.get(f"/admin/v1/players/{player['id']}", headers=ADMIN)).json() == player
    dup = await client.post("/admin/v1/players", json={"email": "ann@example.com"}, headers=ADMIN)
    assert (dup.status_code, dup.json()["error"]["code"]) == (409, "email_taken")
    guest = await client.post("/admin/v1/players", json={}, headers=ADMIN)
    assert guest.status_code == 201 and guest.json()["email"] is None


async def test_audit_log_records_admin_actions_newest_first(client):
    game = await new_game(client)
    issued = await new_key(client, game)
    await client.delete(f"/admin/v1/keys/{issued['id']}", headers=ADMIN)
    page = (await client.get("/admin/v1/audit?limit=2", headers=ADMIN)).json()
    assert [e["action"] for e in page["items"]] == ["key.revoked", "key.issued"]
    assert page["items"][0]["targetId"] == issued["id"] and page["items"][0]["actor"] == "admin"
    older = (await client.get(f"/admin/v1/audit?before={page['nextBefore']}", headers=ADMIN)).json()
    assert [e["action"] for e in older["items"]] == ["game.created"]
    bad = await client.get("/admin/v1/audit?limit=0", headers=ADMIN)
    assert bad.status_code == 400


async def test_admin_token_required(client):
    assert (await client.get("/admin/v1/games")).status_code == 401
    wrong = await client.get("/admin/v1/games", headers={"Authorization": "Bearer gk_admin_wrong"})
    assert wrong.status_code == 401
    assert wrong.json()["error"]["code"] == "invalid_auth"


async def test_bodies_too_large_or_malformed(client):
    huge = await client.post(
        "/admin/v1/games", json={"name": "x", "settings": {"blob": "y" * 2_000_000}}, headers=ADMIN
    )
    assert huge.status_code == 413
    assert huge.json()["error"]["code"] == "payload_too_large"
    malformed = await client.post(
        "/admin/v1/developers",
        content=b'{"name": ',
        headers={**ADMIN, "Content-Type": "application/json"},
    )
    assert (malformed.status_code, malformed.json()["error"]["code"]) == (400, "invalid_body")


async def test_concurrent_creates_with_one_slug_make_exactly_one_game(client):
    import asyncio

    responses = await asyncio.gather(
        *(
            client.post("/admin/v1/games", json={"name": "Race", "slug": "race"}, headers=ADMIN)
            for _ in range(5)
        )
    )
    assert sorted(r.status_code for r in responses) == [201, 409, 409, 409, 409]
