"""Batch reads and token associations over HTTP."""

from __future__ import annotations

import uuid

import pytest

from support.provision import ADMIN, audit_actions

pytestmark = pytest.mark.anyio

SOL_MINT = "So11111111111111111111111111111111111111112"
EVM_TOKEN = "0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48"


async def associate(client, game_id: str, address: str, **labels) -> dict:
    response = await client.post(
        f"/admin/v1/games/{game_id}/tokens",
        json={"tokenAddress": address, **labels},
        headers=ADMIN,
    )
    assert response.status_code == 201, response.text
    return response.json()


async def test_batch_by_ids_keeps_the_order_asked_and_skips_unknown(ogp, client):
    developer = await ogp.developer()
    a, b = await ogp.register(developer, name="A"), await ogp.register(developer, name="B")
    unknown = str(uuid.uuid4())
    response = await client.post(
        "/games/batch/ids", json={"gameIds": [b["id"], unknown, a["id"], b["id"]]}
    )
    assert response.status_code == 200
    assert [g["id"] for g in response.json()["data"]] == [b["id"], a["id"]]
    empty = await client.post("/games/batch/ids", json={"gameIds": []})
    assert empty.json() == {"data": [], "error": None}


@pytest.mark.parametrize(
    ("path", "field"), [("/games/batch/ids", "gameIds"), ("/games/batch/token-ids", "tokenIds")]
)
async def test_batches_over_100_are_refused(client, path, field):
    ids = [str(uuid.uuid4()) for _ in range(101)]
    response = await client.post(path, json={field: ids})
    assert response.status_code == 400
    assert response.json()["message"] == f"{field} may hold at most 100 values; got 101"
    assert (await client.post(path, json={field: ids[:100]})).status_code == 200
    malformed = await client.post(path, json={field: "not a list"})
    assert malformed.status_code == 400 and field in malformed.json()["message"]


async def test_games_by_token(ogp, client, clock):
    developer = await ogp.developer()
    first, second = await ogp.register(developer, name="First"), await ogp.register(developer)
    token = await associate(client, first["id"], SOL_MINT, symbol="SOL", chain="solana")
    assert token["tokenAddress"] == SOL_MINT and token["symbol"] == "SOL"
    clock.advance(1)
    await associate(client, second["id"], SOL_MINT)
    clock.advance(1)
    await associate(client, second["id"], EVM_TOKEN, chain="base")

    one = await client.get(f"/games/by-token-id/{SOL_MINT}")
    assert one.status_code == 200 and one.json()["data"]["id"] == first["id"]
    full = (await client.get(f"/games/token-id/{SOL_MINT}/full")).json()["data"]
    assert [g["id"] for g in full] == [first["id"], second["id"]]
    assert [t["tokenAddress"] for t in full[1]["tokens"]] == [SOL_MINT, EVM_TOKEN.lower()]
    # EVM addresses ignore case; Solana addresses do not.
    evm = await client.get(f"/games/by-token-id/{EVM_TOKEN.upper().replace('0X', '0x')}")
    assert evm.json()["data"]["id"] == second["id"]
    assert (await client.get(f"/games/by-token-id/{SOL_MINT.lower()}")).status_code == 404

    batch = await client.post(
        "/games/batch/token-ids", json={"tokenIds": [SOL_MINT, EVM_TOKEN, "unknown", "bad token"]}
    )
    data = batch.json()["data"]
    assert [g["id"] for g in data[SOL_MINT]] == [first["id"], second["id"]]
    assert [g["id"] for g in data[EVM_TOKEN]] == [second["id"]]
    assert data["unknown"] == [] and data["bad token"] == []

    listed = (await client.get("/games", params={"include_extra": "true"})).json()["data"]
    tokens = {g["id"]: [t["tokenAddress"] for t in g["tokens"]] for g in listed["items"]}
    assert tokens == {first["id"]: [SOL_MINT], second["id"]: [SOL_MINT, EVM_TOKEN.lower()]}
    plain = (await client.get("/games")).json()["data"]["items"]
    assert all("tokens" not in g for g in plain)
    with_tokens = await client.get(f"/games/id/{first['id']}", params={"include_tokens": "true"})
    assert [t["symbol"] for t in with_tokens.json()["data"]["tokens"]] == ["SOL"]

    # A hidden game drops out of token reads.
    await ogp.signed(developer, "POST", f"/games/toggle-visibility/{first['id']}")
    one = await client.get(f"/games/by-token-id/{SOL_MINT}")
    assert one.json()["data"]["id"] == second["id"]


async def test_admin_associates_and_removes_tokens(ogp, client):
    developer = await ogp.developer()
    game = await ogp.register(developer)
    await associate(client, game["id"], SOL_MINT, symbol="OLD")
    again = await associate(client, game["id"], SOL_MINT, symbol="NEW")
    assert again["symbol"] == "NEW"
    removed = await client.delete(f"/admin/v1/games/{game['id']}/tokens/{SOL_MINT}", headers=ADMIN)
    assert removed.status_code == 204
    gone = await client.delete(f"/admin/v1/games/{game['id']}/tokens/{SOL_MINT}", headers=ADMIN)
    assert gone.status_code == 404
    assert (await client.get(f"/games/by-token-id/{SOL_MINT}")).status_code == 404
    bad = await client.post(
        f"/admin/v1/games/{game['id']}/tokens", json={"tokenAddress": "a b"}, headers=ADMIN
    )
    assert bad.status_code == 400
    unknown = await client.post(
        f"/admin/v1/games/{uuid.uuid4()}/tokens", json={"tokenAddress": SOL_MINT}, headers=ADMIN
    )
    assert unknown.status_code == 404
    actions = [e["action"] for e in await audit_actions(client)]
    assert "game.token_associated" in actions and "game.token_dissociated" in actions
