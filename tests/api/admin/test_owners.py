"""Operators and platforms through the admin API: their keys, their webhooks, their events."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from standardwebhooks.webhooks import Webhook as StandardWebhook

from support.provision import ADMIN, audit_actions, new_game
from support.receiver import receiver

pytestmark = pytest.mark.anyio
LOOPBACK = ["127.0.0.0/8"]


@pytest.fixture
async def client(make_client):
    async with make_client(outbound_allowed_networks=LOOPBACK) as client:
        yield client


async def _created(client, path: str, body: dict) -> dict:
    response = await client.post(f"/admin/v1{path}", json=body, headers=ADMIN)
    assert response.status_code == 201, response.text
    return response.json()


async def test_operators_are_created_listed_and_read(client):
    first = await _created(client, "/operators", {"name": "Casino Royale Cup"})
    second = await _created(client, "/operators", {"name": "Ligue des Échecs"})
    assert first["name"] == "Casino Royale Cup" and first["id"] != second["id"]
    got = (await client.get(f"/admin/v1/operators/{second['id']}", headers=ADMIN)).json()
    assert got == second
    page = (await client.get("/admin/v1/operators?limit=1", headers=ADMIN)).json()
    rest = await client.get(f"/admin/v1/operators?cursor={page['nextCursor']}", headers=ADMIN)
    listed = page["items"] + rest.json()["items"]
    assert sorted(o["id"] for o in listed) == sorted([first["id"], second["id"]])
    missing = await client.get("/admin/v1/operators/nope", headers=ADMIN)
    assert (missing.status_code, missing.json()["error"]["code"]) == (404, "operator_not_found")
    assert "operator.created" in [e["action"] for e in await audit_actions(client)]


async def test_bad_operator_and_platform_bodies_get_clear_errors(client):
    for path, body in [
        ("/operators", {}),
        ("/operators", {"name": ""}),
        ("/operators", {"name": 7}),
        ("/operators", {"name": "x" * 121}),
        ("/operators", {"name": "ok", "extra": True}),
        ("/platforms", {"name": "ok", "games": "not-a-list"}),
        ("/platforms", {"name": "ok", "games": ["x" * 65]}),
        ("/platforms", {"name": "ok", "games": ["g"] * 1001}),
    ]:
        response = await client.post(f"/admin/v1{path}", json=body, headers=ADMIN)
        assert response.status_code == 400, (path, body, response.text)
        assert response.json()["error"]["code"] == "invalid_body"
    nul = await client.post("/admin/v1/operators", json={"name": "a\x00b"}, headers=ADMIN)
    assert nul.status_code == 400 and nul.json()["error"]["code"] == "invalid_body"  # the edge
    assert (await client.get("/admin/v1/operators", headers=ADMIN)).json()["items"] == []


async def test_a_platform_hosts_games_named_by_id_or_slug(client):
    space = await new_game(client, "Space", slug="space")
    chess = await new_game(client, "Chess")
    platform = await _created(client, "/platforms", {"name": "Arcade", "games": ["space", chess]})
    assert sorted(platform["games"]) == sorted([space, chess])
    got = (await client.get(f"/admin/v1/platforms/{platform['id']}", headers=ADMIN)).json()
    assert got == platform
    listed = (await client.get("/admin/v1/platforms", headers=ADMIN)).json()["items"]
    assert listed == [platform]
    unknown = await client.post(
        "/admin/v1/platforms", json={"name": "Arcade", "games": ["no-such-game"]}, headers=ADMIN
    )
    assert (unknown.status_code, unknown.json()["error"]["code"]) == (404, "game_not_found")
    assert "no-such-game" in unknown.json()["error"]["message"]
    assert len((await client.get("/admin/v1/platforms", headers=ADMIN)).json()["items"]) == 1


async def test_each_owner_holds_only_its_kinds_of_key(client):
    operator = await _created(client, "/operators", {"name": "Cup"})
    platform = await _created(client, "/platforms", {"name": "Arcade"})
    live = await _created(client, f"/operators/{operator['id']}/keys", {"kind": "operator"})
    test = await _created(
        client, f"/operators/{operator['id']}/keys", {"kind": "operator", "testMode": True}
    )
    rooms = await _created(client, f"/platforms/{platform['id']}/keys", {"kind": "internal"})
    assert live["key"].startswith("sk_live_") and live["testMode"] is False
    assert test["key"].startswith("sk_test_") and test["key"].startswith(test["prefix"])
    assert rooms["key"].startswith("internal_")
    for path, body in [
        (f"/operators/{operator['id']}/keys", {"kind": "server"}),
        (f"/operators/{operator['id']}/keys", {"kind": "internal"}),
        (f"/platforms/{platform['id']}/keys", {"kind": "operator"}),
        (f"/platforms/{platform['id']}/keys", {"kind": "internal", "testMode": True}),
    ]:
        refused = await client.post(f"/admin/v1{path}", json=body, headers=ADMIN)
        assert refused.status_code == 400, (path, body)
        assert refused.json()["error"]["code"] == "invalid_key_kind"
    listed = (await client.get(f"/admin/v1/operators/{operator['id']}/keys", headers=ADMIN)).json()[
        "items"
    ]
    assert {(k["id"], k["testMode"]) for k in listed} == {(live["id"], False), (test["id"], True)}
    assert {(k["ownerKind"], k["ownerId"], k["gameId"]) for k in listed} == {
        ("operator", operator["id"], None)
    }
    assert live["key"] not in str(listed)
    missing = await client.post(
        "/admin/v1/operators/nope/keys", json={"kind": "operator"}, headers=ADMIN
    )
    assert (missing.status_code, missing.json()["error"]["code"]) == (404, "operator_not_found")
    issued = [e for e in await audit_actions(client) if e["action"] == "key.issued"]
    assert {e["details"]["owner_id"] for e in issued} == {operator["id"], platform["id"]}


async def test_an_operator_revokes_its_key_and_its_webhook_hears_it(client, clock):
    clock.now = datetime.now(UTC)  # verifiers refuse timestamps far from their own time
    operator = await _created(client, "/operators", {"name": "Cup"})
    with receiver() as hooks:
        hook = await _created(client, f"/operators/{operator['id']}/webhooks", {"url": hooks.url})
        assert (hook["ownerKind"], hook["ownerId"], hook["gameId"]) == (
            "operator", operator["id"], None,
        )  # fmt: skip
        key = await _created(client, f"/operators/{operator['id']}/keys", {"kind": "operator"})
        revoked = await client.delete(f"/admin/v1/keys/{key['id']}", headers=ADMIN)
        assert revoked.status_code == 204
        [request] = hooks.wait_for(1)
    body = StandardWebhook(hook["secret"]).verify(request.body, request.headers)
    assert body["type"] == "key.revoked" and body["data"]["keyId"] == key["id"]
    assert body["operatorId"] == operator["id"] and body["gameId"] is None
    assert json.loads(request.body)["data"]["kind"] == "operator"


async def test_webhooks_are_scoped_to_their_owner(client):
    first = await _created(client, "/operators", {"name": "First"})
    second = await _created(client, "/operators", {"name": "Second"})
    game = await new_game(client)
    hook = await _created(
        client, f"/operators/{first['id']}/webhooks", {"url": "https://hooks.example.com/in"}
    )
    mine = f"/admin/v1/operators/{first['id']}/webhooks/{hook['id']}"
    assert (await client.get(mine, headers=ADMIN)).json()["id"] == hook["id"]
    for other in (f"/operators/{second['id']}", f"/games/{game}"):
        foreign = await client.get(f"/admin/v1{other}/webhooks/{hook['id']}", headers=ADMIN)
        assert (foreign.status_code, foreign.json()["error"]["code"]) == (404, "webhook_not_found")
        gone = await client.delete(f"/admin/v1{other}/webhooks/{hook['id']}", headers=ADMIN)
        assert gone.status_code == 404
        listed = (await client.get(f"/admin/v1{other}/webhooks", headers=ADMIN)).json()
        assert listed["items"] == []
    assert (await client.get(mine, headers=ADMIN)).status_code == 200
