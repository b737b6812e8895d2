"""Health, readiness, metrics, OpenAPI, request ids and CORS."""

from __future__ import annotations

import pytest

from support.provision import ADMIN, new_game

pytestmark = pytest.mark.anyio


async def test_health_ready_and_metrics(make_client):
    async with make_client() as client:
        assert (await client.get("/healthz")).json() == {"status": "ok"}
        ready = await client.get("/readyz")
        assert ready.status_code == 200
        assert ready.json() == {"status": "ready", "checks": {"database": "ok"}}
        game = await new_game(client)
        await client.get(f"/admin/v1/games/{game}", headers=ADMIN)
        await client.get("/no/such/path")
        text = (await client.get("/metrics")).text
    assert 'route="/admin/v1/games/{game_id}",status="200"' in text
    assert game not in text  # route templates, never raw paths
    assert 'route="unmatched",status="404"' in text
    assert "gamekeeper_http_request_duration_seconds_bucket" in text


async def test_readyz_checks_redis(make_client, redis_url):
    async with make_client(redis_url=redis_url) as client:
        ready = await client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"database": "ok", "redis": "ok"}


async def test_start_fails_clearly_when_redis_is_down(make_client):
    from gamekeeper.core.errors import Unavailable

    with pytest.raises(Exception) as failure:
        async with make_client(redis_url="redis://127.0.0.1:1/0"):
            pass
    assert failure.group_contains(Unavailable) if hasattr(failure, "group_contains") else True


async def test_request_id_echoed_or_generated(make_client):
    async with make_client() as client:
        given = await client.get("/healthz", headers={"X-Request-ID": "abc-123"})
        made = await client.get("/healthz")
        missing = await client.get("/nowhere")
    assert given.headers["x-request-id"] == "abc-123"
    assert len(made.headers["x-request-id"]) == 32
    assert "x-request-id" in missing.headers
    assert missing.json()["error"]["code"] == "not_found"


async def test_openapi_document_and_docs_page(make_client):
    async with make_client() as client:
        spec = (await client.get("/openapi.json")).json()
        docs = await client.get("/docs")
    assert spec["openapi"].startswith("3.1")
    assert "/admin/v1/games/{game_id}/keys" in spec["paths"]
    assert "adminToken" in spec["components"]["securitySchemes"]
    assert docs.status_code == 200 and "swagger" in docs.text.lower()


async def test_cors_for_configured_origins_only(make_client):
    async with make_client(cors_origins=["https://console.example"]) as client:
        allowed = await client.options(
            "/admin/v1/games",
            headers={"Origin": "https://console.example", "Access-Control-Request-Method": "GET"},
        )
        denied = await client.options(
            "/admin/v1/games",
            headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"},
        )
    assert allowed.headers["access-control-allow-origin"] == "https://console.example"
    assert "access-control-allow-origin" not in denied.headers


async def test_a_game_server_can_check_its_key(make_client):
    from support.provision import new_key

    async with make_client() as client:
        game = await new_game(client)
        issued = await new_key(
            client, game, kind="internal", scopes=["rooms.write", "auth.validate"]
        )
        auth = {"Authorization": f"Bearer {issued['key']}"}
        described = (await client.get("/gamekeeper/v1/credential", headers=auth)).json()
        browser = await client.get(
            "/gamekeeper/v1/credential", headers={**auth, "Origin": "https://x.example"}
        )
    assert described == {
        "keyId": issued["id"],
        "gameId": game,
        "kind": "internal",
        "scopes": ["auth.validate", "rooms.write"],
    }
    assert browser.status_code == 403
