"""BattlePlace clients and servers over HTTP, as games would drive them."""

from __future__ import annotations

from support.provision import in_app, new_game, new_key
from support.waiting import until


async def new_project(client, **fields) -> dict:
    """A game with a test key and a server token."""
    game_id = await new_game(client, **fields)
    test_key = (await new_key(client, game_id, kind="test"))["key"]
    server_token = (await new_key(client, game_id, kind="server"))["key"]
    return {"id": game_id, "test_key": test_key, "server_token": server_token}


async def client_token(client, project: dict, test_id) -> str:
    response = await client.post(
        "/v1a/client/auth",
        json={
            "projectId": project["id"],
            "auth": {"testKey": project["test_key"], "testId": test_id},
        },
    )
    assert response.status_code == 200, response.text
    return response.json()["clientToken"]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def request_match(client, token: str, **body) -> str:
    body = {"teamSizes": [1, 1], "maxMatchTime": 30, **body}
    response = await client.post("/v1a/client/match", json=body, headers=bearer(token))
    assert response.status_code == 200, response.text
    return response.json()["matchToken"]


async def status(client, token: str, match_token: str) -> dict:
    response = await client.get(f"/v1a/client/match/{match_token}", headers=bearer(token))
    assert response.status_code == 200, response.text
    return response.json()


async def settled(client, token: str, match_token: str, *, within: float = 10.0) -> dict:
    """Poll until the request is no longer in progress."""

    async def answer() -> dict | None:
        seen = await status(client, token, match_token)
        return None if seen["status"] == "inProgress" else seen

    return await until(answer, what="the match request is settled", within=within, every=0.02)


def tick(client) -> int:
    """One matchmaker tick now, as its loop would run it; how many requests it settled.

    For showing that something stays unmatched: after a tick that saw it, not after a wait.
    The app's matchmaker must lead its shards first (at start-up it may still be taking them).
    """
    return in_app(client, _tick_now)


async def _tick_now(runtime) -> int:
    def leads_every_shard() -> bool:
        led = runtime.metrics.registry.get_sample_value("gamekeeper_matchmaking_shards_led")
        return led == runtime.settings.matchmaker_shards

    await until(leads_every_shard, what="the app's matchmaker leads every shard")
    return await runtime.matchmaker.tick_now()


def server_body(project: dict, name: str = "EU_WEST_1", **fields) -> dict:
    return {
        "projectId": project["id"],
        "projectServerToken": project["server_token"],
        "name": name,
        **fields,
    }
