"""Webhooks to addresses the outbound settings refuse: refused at creation, never retried."""

from __future__ import annotations

import pytest

from support.provision import ADMIN, new_game
from support.receiver import receiver
from support.waiting import until

pytestmark = pytest.mark.anyio
LOOPBACK = ["127.0.0.0/8"]
HINT = "To deliver to a private network, add it to GAMEKEEPER_OUTBOUND_ALLOWED_NETWORKS"


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://127.0.0.1:9000/hook", "127.0.0.1 is not a public address"),
        ("http://10.1.2.3/hook", "10.1.2.3 is not a public address"),
        ("http://[::1]:9000/hook", "::1 is not a public address"),
        ("http://localhost:9000/hook", "localhost is a loopback name, not a public address"),
    ],
)
async def test_a_webhook_that_can_never_be_reached_is_refused_at_creation(make_client, url, reason):
    async with make_client() as client:  # outbound_allowed_networks left empty
        game = await new_game(client)
        path = f"/admin/v1/games/{game}/webhooks"
        response = await client.post(path, json={"url": url}, headers=ADMIN)
        listed = (await client.get(path, headers=ADMIN)).json()["items"]
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "unreachable_url"
    assert error["message"] == f"url can never be reached from this server: {reason}. {HINT}"
    assert listed == []


async def test_changing_the_url_to_an_unreachable_one_is_refused(make_client):
    async with make_client() as client:
        game = await new_game(client)
        path = f"/admin/v1/games/{game}/webhooks"
        created = await client.post(path, json={"url": "https://hooks.example/in"}, headers=ADMIN)
        assert created.status_code == 201, created.text
        hook = f"{path}/{created.json()['id']}"
        moved = await client.patch(hook, json={"url": "http://192.168.1.5/in"}, headers=ADMIN)
        kept = (await client.get(hook, headers=ADMIN)).json()["url"]
    assert moved.status_code == 400 and moved.json()["error"]["code"] == "unreachable_url"
    assert "GAMEKEEPER_OUTBOUND_ALLOWED_NETWORKS" in moved.json()["error"]["message"]
    assert kept == "https://hooks.example/in"


async def test_allowed_networks_admit_the_url(make_client):
    async with make_client(outbound_allowed_networks=LOOPBACK) as client:
        game = await new_game(client)
        response = await client.post(
            f"/admin/v1/games/{game}/webhooks",
            json={"url": "http://127.0.0.1:9000/hook"},
            headers=ADMIN,
        )
    assert response.status_code == 201, response.text


async def test_a_delivery_refused_by_the_settings_fails_at_once_and_is_not_retried(make_client):
    """Created while loopback was allowed; delivered by a server whose settings refuse it."""
    with receiver() as hook_server:
        async with make_client(outbound_allowed_networks=LOOPBACK, relay_enabled=False) as setup:
            game = await new_game(setup)
            path = f"/admin/v1/games/{game}/webhooks"
            url = hook_server.url + "?token=s3cret"
            created = await setup.post(path, json={"url": url}, headers=ADMIN)
            assert created.status_code == 201, created.text
            hook = f"{path}/{created.json()['id']}"
        async with make_client() as strict:  # the relay runs here, loopback now refused
            sent = await strict.post(hook + "/test", headers=ADMIN)
            assert sent.status_code == 202
            [delivery] = await until(
                lambda: _settled(strict, hook), what="the delivery has an outcome"
            )
        assert hook_server.requests == []
    assert delivery["status"] == "dead" and delivery["attempts"] == 1
    assert delivery["nextAttemptAt"] is None
    assert delivery["lastError"] == ("refused, not retried: 127.0.0.1 is not a public address")


async def _settled(client, hook):
    items = (await client.get(hook + "/deliveries", headers=ADMIN)).json()["items"]
    return items if items and items[0]["attempts"] >= 1 and items[0]["lastError"] else None


async def test_a_game_callback_url_that_can_never_be_reached_is_refused(make_client):
    # A callbackUrl becomes the game's managed webhook: the same rule, at create and at update.
    async with make_client() as client:
        created = await client.post(
            "/admin/v1/games",
            json={"name": "Hooked", "callbackUrl": "http://127.0.0.1:9000/cb"},
            headers=ADMIN,
        )
        games = (await client.get("/admin/v1/games", headers=ADMIN)).json()["items"]
        game = await new_game(client)
        moved = await client.patch(
            f"/admin/v1/games/{game}", json={"callbackUrl": "http://10.0.0.7/cb"}, headers=ADMIN
        )
        hooks = (await client.get(f"/admin/v1/games/{game}/webhooks", headers=ADMIN)).json()
    for response in (created, moved):
        assert response.status_code == 400, response.text
        error = response.json()["error"]
        assert error["code"] == "unreachable_url"
        assert error["message"].startswith("callback_url can never be reached from this server")
        assert HINT in error["message"]
    assert [g["name"] for g in games] == []
    assert hooks["items"] == []
