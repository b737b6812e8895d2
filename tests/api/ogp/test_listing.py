"""The public listing over HTTP: sort keys, offset and cursor pages, search, hidden games."""

from __future__ import annotations

from datetime import timedelta

import pytest

pytestmark = pytest.mark.anyio

SORT_COLUMNS = {
    "totalRewardsPoolValueUsd": "total_rewards_pool_value_usd",
    "totalRewardsAllocatedUsd": "total_rewards_allocated_usd",
    "estimatedDailyRewardsUsd": "estimated_daily_rewards_usd",
    "marketCap": "market_cap",
    "playerCount": "player_count",
}


async def _seed(ogp, clock, count: int) -> list[dict]:
    """Games with distinct values in every sort key, in no key's order (``count``: a prime > 5)."""
    developer = await ogp.developer()
    games = []
    for i in range(count):
        rank = (i * 3) % count  # a permutation: the order of creation is not the order of values
        clock.advance(60)
        game = await ogp.register(developer, name=f"Game {chr(65 + (i * 5) % count)}")
        ogp.set_listing(
            game["id"],
            total_rewards_pool_value_usd=f"{rank}.25",
            total_rewards_allocated_usd=f"{(rank * 3) % count}.5",
            estimated_daily_rewards_usd=f"{(rank * 5) % count}.125",
            market_cap=f"{1000000 + (rank * 2) % count}.000001",
            player_count=(rank * 4) % count,
        )
        games.append((await ogp.client.get(f"/games/{game['id']}")).json()["data"])
    return games


@pytest.mark.parametrize("sort_by", [*SORT_COLUMNS, "name", "createdAt"])
@pytest.mark.parametrize("direction", ["asc", "desc"])
async def test_each_sort_key_orders_the_listing(ogp, client, clock, sort_by, direction):
    games = await _seed(ogp, clock, 7)
    response = await client.get("/games", params={"sortBy": sort_by, "sort": direction})
    assert response.status_code == 200
    page = response.json()["data"]
    key = (lambda g: g["name"].lower()) if sort_by == "name" else (lambda g: g[sort_by])
    expected = sorted(games, key=key, reverse=direction == "desc")
    assert [g["id"] for g in page["items"]] == [g["id"] for g in expected]
    assert (page["total"], page["hasMore"], page["nextCursor"]) == (7, False, None)


async def test_default_order_is_largest_pool_first_and_amounts_are_exact(ogp, client, clock):
    games = await _seed(ogp, clock, 3)
    ogp.set_listing(games[0]["id"], total_rewards_pool_value_usd="123456789012.654321")
    items = (await client.get("/games")).json()["data"]["items"]
    assert items[0]["id"] == games[0]["id"]
    assert items[0]["totalRewardsPoolValueUsd"] == 123456789012.654321
    pools = [g["totalRewardsPoolValueUsd"] for g in items]
    assert pools == sorted(pools, reverse=True)


@pytest.mark.parametrize("sort_by", ["totalRewardsPoolValueUsd", "name", "createdAt"])
async def test_pages_never_repeat_or_skip_with_offset_or_cursor(ogp, client, clock, sort_by):
    games = await _seed(ogp, clock, 13)
    # Ties everywhere: pages must still be stable (the game id breaks them).
    for game in games[::2]:
        ogp.set_listing(game["id"], total_rewards_pool_value_usd="5")
    everything = await client.get("/games", params={"sortBy": sort_by, "limit": 100})
    expected = [g["id"] for g in everything.json()["data"]["items"]]
    by_offset = []
    for offset in range(0, 13, 5):
        params = {"sortBy": sort_by, "limit": 5, "offset": offset}
        page = (await client.get("/games", params=params)).json()["data"]
        by_offset += [g["id"] for g in page["items"]]
        assert page["hasMore"] is (offset + 5 < 13)
    by_cursor, cursor = [], None
    while True:
        params = {"sortBy": sort_by, "limit": 5, **({"cursor": cursor} if cursor else {})}
        page = (await client.get("/games", params=params)).json()["data"]
        by_cursor += [g["id"] for g in page["items"]]
        assert page["total"] == 13
        cursor = page["nextCursor"]
        if not page["hasMore"]:
            assert cursor is None
            break
    assert by_offset == by_cursor == expected
    assert len(set(expected)) == 13


async def test_a_cursor_survives_a_game_added_before_it(ogp, client, clock):
    games = await _seed(ogp, clock, 6)
    first = (await client.get("/games", params={"limit": 3})).json()["data"]
    newcomer = await ogp.register(await ogp.developer("Late"), name="Late")
    ogp.set_listing(newcomer["id"], total_rewards_pool_value_usd="999")  # sorts first
    rest = await client.get("/games", params={"limit": 3, "cursor": first["nextCursor"]})
    ids = [g["id"] for g in first["items"] + rest.json()["data"]["items"]]
    assert sorted(ids) == sorted(g["id"] for g in games)


@pytest.mark.parametrize("cursor", ["nonsense", "W10", "eyJhIjoxfQ", "x" * 2000])
async def test_malformed_cursors_are_refused(ogp, client, cursor):
    response = await client.get("/games", params={"cursor": cursor})
    assert response.status_code == 400
    assert response.json()["error"] == "Bad Request"
    assert "cursor" in response.json()["message"]


async def test_a_cursor_of_another_sort_is_refused(ogp, client, clock):
    await _seed(ogp, clock, 3)
    page = (await client.get("/games", params={"limit": 1})).json()["data"]
    response = await client.get(
        "/games", params={"limit": 1, "sortBy": "name", "cursor": page["nextCursor"]}
    )
    assert response.status_code == 400
    assert "another sort order" in response.json()["message"]


@pytest.mark.parametrize(
    "params", [{"limit": 0}, {"limit": 101}, {"offset": -1}, {"sortBy": "hype"}, {"sort": "up"}]
)
async def test_invalid_query_parameters_are_refused(client, params):
    response = await client.get("/games", params=params)
    assert response.status_code == 400
    assert response.json()["statusCode"] == 400


async def test_query_searches_name_and_description_ignoring_case(ogp, client):
    developer = await ogp.developer()
    a = await ogp.register(developer, name="Moon Miner", description="Dig for cheese")
    b = await ogp.register(developer, name="Star Farm", description="Grow MOONFLOWERS")
    await ogp.register(developer, name="Ocean", description="100% wet_stuff")

    async def found(text):
        response = await client.get("/games", params={"query": text})
        return sorted(g["id"] for g in response.json()["data"]["items"])

    assert await found("moon") == sorted([a["id"], b["id"]])
    assert await found("CHEESE") == [a["id"]]
    assert await found("nothing like this") == []
    assert len(await found("0% w")) == 1
    assert await found("%") == (await found("100%"))  # wildcards are literal
    assert await found("_stuff") == await found("wet_stuff")
    assert await found("t%s") == []


async def test_hidden_games_are_not_listed_but_reachable(ogp, client):
    developer = await ogp.developer()
    shown, hidden = await ogp.register(developer), await ogp.register(developer, name="Secret")
    toggled = await ogp.signed(developer, "POST", f"/games/toggle-visibility/{hidden['id']}")
    assert toggled.json()["data"]["hidden"] is True
    listing = (await client.get("/games")).json()["data"]
    assert [g["id"] for g in listing["items"]] == [shown["id"]] and listing["total"] == 1
    assert (await client.get(f"/games/{hidden['id']}")).json()["data"]["hidden"] is True
    mine = (await ogp.signed(developer, "GET", "/games/me")).json()["data"]
    assert {g["id"] for g in mine["items"]} == {shown["id"], hidden["id"]}
    batch = await client.post("/games/batch/ids", json={"gameIds": [hidden["id"]]})
    assert [g["id"] for g in batch.json()["data"]] == [hidden["id"]]


async def test_my_games_are_only_mine_newest_first(ogp, client, clock):
    me, other = await ogp.developer(), await ogp.developer("Other")
    older = await ogp.register(me, name="Older")
    clock.advance(timedelta(minutes=5).total_seconds())
    newer = await ogp.register(me, name="Newer")
    await ogp.register(other, name="Theirs")
    page = (await ogp.signed(me, "GET", "/games/me")).json()["data"]
    assert [g["id"] for g in page["items"]] == [newer["id"], older["id"]]
    oldest_first = await client.get(
        "/games/me", params={"sort": "asc"}, headers=ogp.headers(me, "GET", "/games/me")
    )
    assert [g["id"] for g in oldest_first.json()["data"]["items"]] == [older["id"], newer["id"]]
    assert (await client.get("/games/me")).status_code == 401


async def test_unknown_games_are_not_found(client):
    for path in ("/games/id/00000000-0000-4000-8000-000000000000", "/games/nope"):
        response = await client.get(path)
        assert response.status_code == 404
        assert response.json() == {
            "statusCode": 404,
            "message": "No game with that id",
            "error": "Not Found",
        }
