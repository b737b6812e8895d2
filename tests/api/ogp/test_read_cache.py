"""Public catalog reads come from a cache, but never outlive a change to the game."""

from __future__ import annotations

import pytest

from support.provision import ADMIN

pytestmark = pytest.mark.anyio


async def test_a_change_is_seen_at_once_by_cached_reads(ogp, client):
    developer = await ogp.developer()
    game = await ogp.register(developer, name="Before")
    reads = [(await client.get(f"/games/id/{game['id']}")).json()["data"]["name"] for _ in "ab"]
    listed = (await client.get("/games?query=Before")).json()["data"]["items"]

    # A change through the admin API (the identity core) and one through OGP (the catalog core).
    await client.patch(f"/admin/v1/games/{game['id']}", json={"name": "After"}, headers=ADMIN)
    renamed = (await client.get(f"/games/id/{game['id']}")).json()["data"]["name"]
    hidden = await ogp.signed(developer, "POST", f"/games/toggle-visibility/{game['id']}")
    listed_after = (await client.get("/games?query=Before")).json()["data"]["items"]

    assert reads == ["Before", "Before"] and [g["id"] for g in listed] == [game["id"]]
    assert renamed == "After"
    assert hidden.status_code == 200, hidden.text
    assert listed_after == []
