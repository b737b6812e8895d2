"""The shared guards through HTTP, each error in its dialect's envelope."""

from __future__ import annotations

import pytest

from gamekeeper.core.identity import hmac_auth
from support.probes import routers
from support.provision import ADMIN, audit_actions, in_app, new_developer, new_game, new_key

pytestmark = pytest.mark.anyio


@pytest.fixture
async def client(make_client):
    async with make_client(extra_routes=routers()) as client:
        yield client


async def test_server_key_reaches_its_own_game_only(client):
    game_a, game_b = await new_game(client, "A"), await new_game(client, "B")
    key = (await new_key(client, game_a))["key"]
    auth = {"Authorization": f"Bearer {key}"}
    assert (await client.get(f"/probe/ogs/games/{game_a}", headers=auth)).json() == {"game": game_a}
    other = await client.get(f"/probe/ogs/games/{game_b}", headers=auth)
    assert other.status_code == 404
    assert other.json()["error"]["code"] == "game_not_found"


async def test_missing_wrong_and_revoked_keys_are_refused(client):
    game = await new_game(client)
    issued = await new_key(client, game)
    test_key = (await new_key(client, game, kind="test"))["key"]
    path = f"/probe/ogs/games/{game}"
    missing = await client.get(path)
    assert missing.status_code == 401
    assert missing.json() == {
        "error": {"code": "missing_auth", "message": "An API key is required", "status": 401}
    }
    wrong = await client.get(path, headers={"Authorization": "Bearer gk_srv_forged"})
    assert wrong.json()["error"]["code"] == "invalid_api_key"
    kind = await client.get(path, headers={"Authorization": f"Bearer {test_key}"})
    assert (kind.status_code, kind.json()["error"]["code"]) == (403, "wrong_key_kind")
    auth = {"Authorization": f"Bearer {issued['key']}"}
    assert (await client.get(path, headers=auth)).status_code == 200  # now cached
    revoked = await client.delete(f"/admin/v1/keys/{issued['id']}", headers=ADMIN)
    assert revoked.status_code == 204
    after = await client.get(path, headers=auth)
    assert (after.status_code, after.json()["error"]["code"]) == (401, "invalid_api_key")


async def test_auth_failures_are_audited_without_the_secret(client):
    await client.get("/probe/ogs/games/x", headers={"Authorization": "Bearer gk_srv_guess123"})
    [entry] = [e for e in await audit_actions(client) if e["action"] == "auth.failed"]
    assert entry["details"]["reason"] == "invalid_api_key"
    assert entry["details"]["path"] == "/probe/ogs/games/{game_id}"
    assert "gk_srv_guess123" not in str(entry)


async def test_server_routes_refuse_browser_origins(client):
    game = await new_game(client)
    key = (await new_key(client, game))["key"]
    response = await client.get(
        f"/probe/ogs/games/{game}",
        headers={"Authorization": f"Bearer {key}", "Origin": "https://evil.example"},
    )
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "browser_origin_refused"


async def test_kongregate_envelope_and_query_key(client):
    game = await new_game(client)
    key = (await new_key(client, game))["key"]
    ok = await client.get(f"/probe/kong/games/{game}", params={"api_key": key})
    assert ok.json() == {"game": game}
    bad = await client.get(f"/probe/kong/games/{game}", params={"api_key": "nope"})
    assert bad.status_code == 401
    assert bad.json() == {
        "success": False,
        "error": 401,
        "error_description": "The API key is invalid or revoked",
    }
    cors = await client.get(
        f"/probe/kong/games/{game}",
        params={"api_key": key},
        headers={"Origin": "https://x.example"},
    )
    assert cors.json()["success"] is False and cors.json()["error"] == 403


async def test_battleplace_envelope(client):
    response = await client.get("/probe/bp/games/x", headers={"Authorization": "Bearer nope"})
    assert response.status_code == 401
    assert response.json()["status"] == "notAuthenticated"
    assert response.json()["error"] == "The API key is invalid or revoked"


async def test_tournament_scopes_and_422_for_invalid_data(client):
    game = await new_game(client)
    full = (await new_key(client, game, kind="internal"))["key"]
    narrow = (await new_key(client, game, kind="internal", scopes=["tournaments.read"]))["key"]
    ok = await client.get(f"/probe/tour/games/{game}", headers={"X-Internal-Api-Key": full})
    assert ok.status_code == 200
    scoped = await client.get(f"/probe/tour/games/{game}", headers={"X-Internal-Api-Key": narrow})
    assert scoped.status_code == 403
    assert scoped.json()["error"]["code"] == "insufficient_scope"
    invalid = await client.post(
        "/probe/tour/echo", json={"count": "three"}, headers={"X-Internal-Api-Key": full}
    )
    assert invalid.status_code == 422
    assert invalid.json()["success"] is False
    assert invalid.json()["error"]["code"] == "invalid_body"
    assert "count" in invalid.json()["error"]["message"]


def _hmac(developer, clock, *, method="GET", path="/probe/ogp/me", ms=False, secret=None):
    seconds = int(clock().timestamp())
    timestamp = str(seconds * 1000 if ms else seconds)
    value = hmac_auth.header_value(
        developer["apiKey"], secret or developer["secretKey"], method, path, timestamp
    )
    return {"Authorization": value}


async def test_hmac_signatures_in_seconds_and_milliseconds(client, clock):
    developer = await new_developer(client)
    for ms in (False, True):
        response = await client.get("/probe/ogp/me", headers=_hmac(developer, clock, ms=ms))
        assert response.json() == {"data": {"id": developer["apiKey"]}, "error": None}
    spaced = _hmac(developer, clock)["Authorization"].replace(", ", " ")
    assert (await client.get("/probe/ogp/me", headers={"Authorization": spaced})).status_code == 200
    upper = _hmac(developer, clock, path="/PROBE/OGP/ME")
    assert (await client.get("/probe/ogp/me", headers=upper)).status_code == 200


async def test_hmac_expired_forged_and_foreign_signatures(client, clock):
    developer = await new_developer(client)
    other = await new_developer(client, "Other")
    replayed = _hmac(developer, clock)
    clock.advance(301)
    expired = await client.get("/probe/ogp/me", headers=replayed)
    assert expired.status_code == 401
    assert expired.json() == {
        "statusCode": 401,
        "message": "The signature timestamp is more than 5 minutes from server time",
        "error": "Unauthorized",
    }
    forged = _hmac(developer, clock, secret="not-the-secret")
    assert (await client.get("/probe/ogp/me", headers=forged)).json()["statusCode"] == 401
    foreign = _hmac({**developer, "secretKey": other["secretKey"]}, clock)
    assert (await client.get("/probe/ogp/me", headers=foreign)).status_code == 401
    wrong_path = _hmac(developer, clock, path="/probe/ogp/other")
    assert (await client.get("/probe/ogp/me", headers=wrong_path)).status_code == 401
    garbage = await client.get("/probe/ogp/me", headers={"Authorization": "HMAC-SHA256 nothing"})
    assert garbage.json()["statusCode"] == 401


async def test_hmac_refuses_the_old_secret_after_rotation(client, clock):
    from gamekeeper.core.audit import Actor
    from gamekeeper.core.identity import games

    developer = await new_developer(client)
    signed = _hmac(developer, clock)
    assert (await client.get("/probe/ogp/me", headers=signed)).status_code == 200

    async def rotate(runtime):
        async with runtime.db.transaction() as uow:
            return await games.rotate_developer_secret(
                uow, developer_id=developer["apiKey"], box=runtime.box, actor=Actor("admin")
            )

    new_secret = in_app(client, rotate)
    assert (await client.get("/probe/ogp/me", headers=signed)).status_code == 401
    fresh = _hmac(developer, clock, secret=new_secret)
    assert (await client.get("/probe/ogp/me", headers=fresh)).status_code == 200


async def test_ogp_bad_bodies(client, clock):
    developer = await new_developer(client)

    def fresh() -> dict[str, str]:  # a signature of a write is good for one request
        clock.advance(1)
        return _hmac(developer, clock, method="POST", path="/probe/ogp/echo")

    malformed = await client.post(
        "/probe/ogp/echo", content=b"{nope", headers={**fresh(), "Content-Type": "application/json"}
    )
    assert malformed.status_code == 400
    assert malformed.json()["error"] == "Bad Request"
    typed = await client.post("/probe/ogp/echo", json={"count": -1}, headers=fresh())
    assert typed.status_code == 400 and "count" in typed.json()["message"]
    unknown = await client.post(
        "/probe/ogp/echo", json={"count": 1, "admin": True}, headers=fresh()
    )
    assert unknown.status_code == 400 and "admin" in unknown.json()["message"]
    huge = await client.post(
        "/probe/ogp/echo", json={"count": 1, "name": "x" * 2_000_000}, headers=fresh()
    )
    assert huge.status_code == 413
    assert huge.json()["statusCode"] == 413 and huge.json()["error"] == "Request Entity Too Large"


async def test_player_session_guard_and_logout(client, clock):
    from gamekeeper.core.audit import Actor
    from gamekeeper.core.identity import players, sessions

    async def start(runtime):
        async with runtime.db.transaction() as uow:
            player = await players.create_player(uow, actor=Actor("admin"))
            return await sessions.start_session(
                uow, player_id=player.id, policy=runtime.session_policy, actor=Actor("admin")
            )

    async def logout(runtime):
        async with runtime.db.transaction() as uow:
            await sessions.end_session(uow, session_id=tokens.session_id, actor=Actor("player"))

    tokens = in_app(client, start)
    auth = {"Authorization": f"Bearer {tokens.access_token}"}
    whoami = await client.get("/probe/player/whoami", headers=auth)
    assert whoami.json() == {"player": tokens.player_id}
    in_app(client, logout)
    after = await client.get("/probe/player/whoami", headers=auth)
    assert (after.status_code, after.json()["error"]["code"]) == (401, "invalid_token")
    clock.advance(client.app.state.runtime.settings.access_token_ttl + 1)
    assert (await client.get("/probe/player/whoami", headers=auth)).status_code == 401


async def test_rate_limits_answer_429_with_headers(make_client):
    limits = {"public": "2/minute", "auth_failure": "3/minute"}
    async with make_client(extra_routes=routers(), rate_limits=limits) as client:
        first = await client.get("/probe/public/open")
        assert first.headers["RateLimit-Limit"] == "2"
        assert first.headers["RateLimit-Remaining"] == "1"
        await client.get("/probe/public/open")
        refused = await client.get("/probe/public/open")
        assert refused.status_code == 429
        assert int(refused.headers["Retry-After"]) >= 1
        assert refused.json()["error"]["code"] == "rate_limited"

        game = await new_game(client)
        key = (await new_key(client, game))["key"]
        good = {"Authorization": f"Bearer {key}"}
        assert (await client.get(f"/probe/ogs/games/{game}", headers=good)).status_code == 200
        for _ in range(3):
            bad = await client.get(
                f"/probe/ogs/games/{game}", headers={"Authorization": "Bearer x"}
            )
            assert bad.status_code == 401
        locked = await client.get(f"/probe/ogs/games/{game}", headers={"Authorization": "Bearer y"})
        assert locked.status_code == 429  # the address kept guessing
        assert "failed authentications" in locked.json()["error"]["message"]
        unknown = (await new_key(client, game))["key"]  # valid, but never seen: a storage read
        refused = await client.get(
            f"/probe/ogs/games/{game}", headers={"Authorization": f"Bearer {unknown}"}
        )
        assert refused.status_code == 429
        # A key already in use keeps working from the same (perhaps shared) address.
        assert (await client.get(f"/probe/ogs/games/{game}", headers=good)).status_code == 200


async def test_last_use_of_a_key_is_recorded(make_client):
    async with make_client(extra_routes=routers()) as client:
        game = await new_game(client)
        issued = await new_key(client, game)
        await client.get(
            f"/probe/ogs/games/{game}", headers={"Authorization": f"Bearer {issued['key']}"}
        )
    # Usage is written in batches, and at the latest when the server stops.
    async with make_client() as client:
        [key] = (await client.get(f"/admin/v1/games/{game}/keys", headers=ADMIN)).json()["items"]
    assert key["lastUsedAt"] is not None
