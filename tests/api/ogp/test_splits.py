"""orgRewardsSplit over HTTP: the rules, their messages, placeholders and the override."""

from __future__ import annotations

import pytest

from support.provision import ADMIN

pytestmark = pytest.mark.anyio

ETH = "0x52908400098527886E0F7030069857D2E4169EE7"
SOL = "9qdvVLY3vLhmvV7uBkLJsQKcHDjxhoUWJ9uZASYEfwwC"


@pytest.mark.parametrize(
    ("split", "code_message"),
    [
        ({"eth:" + ETH: 6000, "email:a@b.example": 3000}, "it totals 9000, 1000 short"),
        ({"eth:" + ETH: 6000, "email:a@b.example": 5000}, "it totals 11000, 1000 too many"),
        ({"eth:" + ETH: 5000.5, "email:a@b.example": 4999.5}, "values must be whole numbers"),
        ({"eth:" + ETH: "5000", "email:a@b.example": 5000}, "values must be whole numbers"),
        ({"eth:" + ETH: 10500, "email:a@b.example": -500}, "values must be greater than 0"),
        ({"eth:0x1234": 10000}, "'eth:0x1234' is not a valid identifier"),
        ({"sol:0OIl" + SOL[4:]: 10000}, "is not a valid identifier"),
        ({"bitcoin:1abc": 10000}, "'bitcoin:1abc' is not a valid identifier"),
        ({"00000000-0000-4000-8000-000000000000": 10000}, "there is no user with id"),
        ([["eth:" + ETH, 10000]], "orgRewardsSplit: Expected `object"),
    ],
)
async def test_each_broken_rule_has_its_own_message(ogp, split, code_message):
    developer = await ogp.developer()
    response = await ogp.signed(
        developer, "POST", "/games", json=ogp.game_fields(orgRewardsSplit=split)
    )
    assert response.status_code == 400, response.text
    assert code_message in response.json()["message"]


async def test_without_a_validated_claim_the_caller_gets_everything(ogp):
    developer, partner = await ogp.developer(), await ogp.developer("Partner")
    split = {developer["apiKey"]: 7000, partner["apiKey"]: 3000}
    game = await ogp.register(developer, orgRewardsSplit=split)
    assert game["orgRewardsSplit"] == {developer["apiKey"]: 10000}
    path = f"/games/update/{game['id']}"
    updated = await ogp.signed(developer, "POST", path, json={"orgRewardsSplit": split})
    assert updated.json()["data"]["orgRewardsSplit"] == {developer["apiKey"]: 10000}


async def test_identities_become_user_ids_once_ownership_is_validated(ogp, client):
    developer, partner = await ogp.developer(), await ogp.developer("Partner")
    game = await ogp.register(developer)
    ogp.set_listing(game["id"], ownership_validated=True, owner_id=developer["apiKey"])
    split = {
        developer["apiKey"]: 4000,
        partner["apiKey"].upper(): 1000,
        "eth:" + ETH: 1000,
        "ethereum:" + ETH.lower(): 500,  # the same wallet: one recipient
        "solana:" + SOL: 1000,
        "email:Ada@Studio.example": 1000,
        "twitter:@SpaceRacer": 1000,
        "did:privy:clz2abc123": 500,
    }
    path = f"/games/update/{game['id']}"
    first = await ogp.signed(developer, "POST", path, json={"orgRewardsSplit": split})
    assert first.status_code == 200, first.text
    stored = first.json()["data"]["orgRewardsSplit"]
    assert sum(stored.values()) == 10000
    assert stored[developer["apiKey"]] == 4000 and stored[partner["apiKey"]] == 1000
    placeholders = {
        k: v for k, v in stored.items() if k not in (developer["apiKey"], partner["apiKey"])
    }
    assert sorted(placeholders.values()) == [500, 1000, 1000, 1000, 1500]
    for user_id in placeholders:
        response = await client.get(f"/admin/v1/developers/{user_id}", headers=ADMIN)
        assert response.status_code == 200
    email_user = next(k for k in placeholders if _name(client, k) == "email:ada@studio.example")
    assert (await client.get(f"/admin/v1/developers/{email_user}", headers=ADMIN)).json()[
        "email"
    ] == "ada@studio.example"
    # Naming the same people again finds the same placeholders.
    again = await ogp.signed(developer, "POST", path, json={"orgRewardsSplit": split})
    assert again.json()["data"]["orgRewardsSplit"] == stored
    absent = await ogp.signed(developer, "POST", path, json={"orgRewardsSplit": {}})
    assert absent.json()["data"]["orgRewardsSplit"] == {developer["apiKey"]: 10000}


def _name(client, developer_id: str) -> str:
    from support.provision import in_app

    async def name(runtime):
        async with runtime.db.transaction(write=False) as uow:
            return (await uow.identity.get_developer(developer_id)).name

    return in_app(client, name)
