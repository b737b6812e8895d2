"""OGP users over HTTP: signatures, the profile, secret rotation, the HMAC guard."""

from __future__ import annotations

import pytest

from support.provision import audit_actions

pytestmark = pytest.mark.anyio


async def test_hmac_signature_endpoint_signs_for_the_owner_of_the_secret(ogp, client):
    developer = await ogp.developer()
    body = {"method": "GET", "path": "/user/me", "apiKey": developer["apiKey"]}
    response = await client.post("/user/hmac-signature", json={**body, **_secret(developer)})
    assert response.status_code == 200
    signature = response.json()["data"]["signature"]
    assert response.json()["error"] is None
    assert signature.startswith(f"HMAC-SHA256 apiKey={developer['apiKey']}, signature=")
    me = await client.get("/user/me", headers={"Authorization": signature})
    assert me.status_code == 200
    assert me.json()["data"]["id"] == developer["apiKey"]
    # Older clients call the secret apiSecret.
    legacy = {**body, "apiSecret": developer["secretKey"]}
    assert (await client.post("/user/hmac-signature", json=legacy)).status_code == 200


async def test_hmac_signature_refuses_a_secret_of_another_key(ogp, client):
    developer, other = await ogp.developer(), await ogp.developer("Other")
    body = {"method": "GET", "path": "/user/me", "apiKey": developer["apiKey"]}
    wrong = await client.post("/user/hmac-signature", json={**body, **_secret(other)})
    assert wrong.status_code == 401
    assert wrong.json() == {
        "statusCode": 401,
        "message": "The API key and secret key do not match",
        "error": "Unauthorized",
    }
    unknown = {**body, "apiKey": "00000000-0000-4000-8000-000000000000", **_secret(developer)}
    assert (await client.post("/user/hmac-signature", json=unknown)).status_code == 401
    missing = await client.post("/user/hmac-signature", json=body)
    assert (missing.status_code, missing.json()["message"]) == (400, "secretKey is required")
    failures = [e for e in await audit_actions(client) if e["action"] == "auth.failed"]
    assert [e["details"]["method"] for e in failures] == ["hmac-signature"] * 2
    assert all(other["secretKey"] not in str(e) for e in failures)


async def test_signed_requests_in_seconds_milliseconds_commas_and_spaces(ogp, client):
    developer = await ogp.developer()
    for ms in (False, True):
        for separator in (", ", " ", ","):
            headers = ogp.headers(developer, "GET", "/user/me", ms=ms, separator=separator)
            response = await client.get("/user/me", headers=headers)
            assert response.status_code == 200, (ms, separator, response.text)


async def test_skewed_replayed_and_forged_signatures_are_refused(ogp, client, clock):
    developer = await ogp.developer()
    ahead = ogp.headers(developer, "GET", "/user/me", skew=301)
    behind = ogp.headers(developer, "GET", "/user/me", ms=True, skew=-301)
    for headers in (ahead, behind):
        response = await client.get("/user/me", headers=headers)
        assert response.status_code == 401
        assert response.json()["message"] == (
            "The signature timestamp is more than 5 minutes from server time"
        )
    within = ogp.headers(developer, "GET", "/user/me", skew=-290)
    assert (await client.get("/user/me", headers=within)).status_code == 200
    replayed = ogp.headers(developer, "GET", "/user/me")
    clock.advance(301)
    assert (await client.get("/user/me", headers=replayed)).status_code == 401
    forged = ogp.headers(developer, "GET", "/user/me", secret="not-the-secret")
    response = await client.get("/user/me", headers=forged)
    assert response.json() == {
        "statusCode": 401,
        "message": "The signature does not match",
        "error": "Unauthorized",
    }
    other_path = ogp.headers(developer, "GET", "/games/me")
    assert (await client.get("/user/me", headers=other_path)).status_code == 401
    assert (await client.get("/user/me")).status_code == 401


async def test_profile_shows_the_developer(ogp, client):
    developer = await ogp.developer("Studio Nine")
    response = await ogp.signed(developer, "GET", "/user/me")
    profile = response.json()["data"]
    assert profile["id"] == developer["apiKey"]
    assert profile["name"] == "Studio Nine"
    assert profile["linkedSolanaWallets"] == []
    assert "secretKey" not in profile


async def test_reset_secret_returns_a_new_one_and_the_old_stops_at_once(ogp, client):
    developer = await ogp.developer()
    before = ogp.headers(developer, "GET", "/user/me")
    assert (await client.get("/user/me", headers=before)).status_code == 200  # now cached
    response = await ogp.signed(developer, "POST", "/user/reset-secret")
    assert response.status_code == 200
    data = response.json()["data"]
    assert data["apiKey"] == developer["apiKey"]
    assert data["secretKey"] != developer["secretKey"]
    assert (await client.get("/user/me", headers=before)).status_code == 401
    fresh = ogp.headers({**developer, "secretKey": data["secretKey"]}, "GET", "/user/me")
    assert (await client.get("/user/me", headers=fresh)).status_code == 200
    body = {"method": "GET", "path": "/user/me", "apiKey": developer["apiKey"]}
    old = await client.post("/user/hmac-signature", json={**body, **_secret(developer)})
    assert old.status_code == 401
    assert "developer.secret_rotated" in [e["action"] for e in await audit_actions(client)]


async def test_public_routes_are_limited_per_address_with_retry_after(make_client, clock):
    async with make_client(rate_limits={"public": "3/minute"}) as client:
        statuses = [(await client.get("/games")).status_code for _ in range(4)]
        refused = await client.get("/games")
    assert statuses == [200, 200, 200, 429]
    assert refused.json()["statusCode"] == 429
    assert refused.json()["error"] == "Too Many Requests"
    assert int(refused.headers["Retry-After"]) >= 1


def _secret(developer: dict) -> dict:
    return {"secretKey": developer["secretKey"]}
