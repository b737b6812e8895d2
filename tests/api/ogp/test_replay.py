"""A signature seen on a write cannot be used again: the body and query are not signed."""

from __future__ import annotations

import pytest

from support.provision import audit_actions

pytestmark = pytest.mark.anyio
SAVE = "/play/dev/batch-save-points"
REUSED = {
    "statusCode": 401,
    "message": (
        "This signature was already used; sign every request that changes something "
        "with a fresh timestamp (milliseconds tell apart requests in the same second)"
    ),
    "error": "Unauthorized",
}


def batch(game: dict, player: str, points: int) -> dict:
    return {"gameApiKey": game["id"], "points": [{"playerId": player, "points": points}]}


async def total(client, ogp, developer, game, player) -> int:
    query = {"gameId": game["id"], "playerId": player}
    response = await ogp.signed(developer, "GET", "/play/dev/points", params=query)
    return int(response.json()["data"]["totalPoints"])


async def test_a_seen_signature_cannot_save_points_for_another_player(ogp, client, clock):
    developer = await ogp.developer()
    game = await ogp.register(developer)
    seen = ogp.headers(developer, "POST", SAVE)
    first = await client.post(SAVE, json=batch(game, "alice", 5), headers=seen)
    replayed = await client.post(SAVE, json=batch(game, "mallory", 500), headers=seen)
    assert first.status_code == 200, first.text
    assert (replayed.status_code, replayed.json()) == (401, REUSED)
    assert await total(client, ogp, developer, game, "mallory") == 0
    failures = [e for e in await audit_actions(client) if e["action"] == "auth.failed"]
    assert [e["details"]["reason"] for e in failures] == ["replayed_signature"]
    # Still refused near the end of the window; a fresh signature goes through.
    clock.advance(290)
    again = await client.post(SAVE, json=batch(game, "mallory", 500), headers=seen)
    fresh = await client.post(
        SAVE, json=batch(game, "bob", 1), headers=ogp.headers(developer, "POST", SAVE)
    )
    assert again.status_code == 401 and fresh.status_code == 200


async def test_two_writes_to_one_path_in_the_same_second_need_distinct_signatures(ogp, client):
    developer = await ogp.developer()
    game = await ogp.register(developer)
    in_seconds = ogp.headers(developer, "POST", SAVE, ms=False)
    assert (await client.post(SAVE, json=batch(game, "a", 1), headers=in_seconds)).is_success
    refused = await client.post(SAVE, json=batch(game, "a", 1), headers=in_seconds)
    assert refused.status_code == 401
    for _ in range(2):  # milliseconds tell them apart (3 batches/s are allowed)
        ok = await client.post(
            SAVE, json=batch(game, "a", 1), headers=ogp.headers(developer, "POST", SAVE)
        )
        assert ok.status_code == 200
    assert await total(client, ogp, developer, game, "a") == 3


async def test_signatures_from_the_signing_route_are_each_good_once(ogp, client):
    """The Node SDK asks /user/hmac-signature before each request; the test clock stands
    still, as a fast server within one millisecond would."""
    developer = await ogp.developer()
    game = await ogp.register(developer)
    ask = {"method": "POST", "path": SAVE, "apiKey": developer["apiKey"]}
    ask["secretKey"] = developer["secretKey"]
    headers = []
    for _ in range(3):
        signed = await client.post("/user/hmac-signature", json=ask)
        headers.append(signed.json()["data"]["signature"])
    assert len(set(headers)) == 3
    for value in headers:
        response = await client.post(
            SAVE, json=batch(game, "sdk", 1), headers={"Authorization": value}
        )
        assert response.status_code == 200, response.text
    reused = await client.post(
        SAVE, json=batch(game, "sdk", 1), headers={"Authorization": headers[0]}
    )
    assert reused.status_code == 401
    assert await total(client, ogp, developer, game, "sdk") == 3


async def test_reads_may_reuse_a_signature_within_the_window(ogp, client):
    """The residual risk the README names: a seen read signature reads again (another query)."""
    developer = await ogp.developer()
    seen = ogp.headers(developer, "GET", "/user/me")
    for _ in range(2):
        assert (await client.get("/user/me", headers=seen)).status_code == 200


async def test_replicas_sharing_redis_refuse_a_signature_used_on_another(
    ogp, make_client, redis_url
):
    developer = await ogp.developer()
    game = await ogp.register(developer)
    seen = ogp.headers(developer, "POST", SAVE)
    async with make_client(redis_url=redis_url) as one, make_client(redis_url=redis_url) as two:
        first = await one.post(SAVE, json=batch(game, "alice", 5), headers=seen)
        replayed = await two.post(SAVE, json=batch(game, "mallory", 500), headers=seen)
        fresh = await two.post(
            SAVE, json=batch(game, "bob", 1), headers=ogp.headers(developer, "POST", SAVE)
        )
    assert first.status_code == 200, first.text
    assert (replayed.status_code, replayed.json()) == (401, REUSED)
    assert fresh.status_code == 200
    assert await total(ogp.client, ogp, developer, game, "mallory") == 0
