"""Admin API: a game's BattlePlace project settings; secrets are write-only and sealed at rest."""

from __future__ import annotations

import pytest

from gamekeeper.core.matchmaking import projects
from support.provision import ADMIN, audit_actions, in_app, new_game

pytestmark = pytest.mark.anyio

APP_KEY = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
PUBLISHER_KEY = "0123456789ABCDEF0123456789ABCDEF"


@pytest.fixture
async def client(make_client):
    async with make_client() as client:
        yield client


def path(game_id: str) -> str:
    return f"/admin/v1/games/{game_id}/battleplace"


async def stored_settings(runtime, game_id):
    async with runtime.db.transaction(write=False) as uow:
        return (await uow.identity.get_game(game_id)).settings


async def test_a_new_game_has_no_backend_but_test_keys(client):
    game = await new_game(client)
    response = await client.get(path(game), headers=ADMIN)
    assert response.status_code == 200
    assert response.json() == {
        "itchEnabled": False,
        "steamAppId": None,
        "steamAppKeySet": False,
        "steamPublisherKeySet": False,
        "steamTicketMaxAge": 600,
    }


async def test_secrets_are_write_only_and_sealed_at_rest(client):
    game = await new_game(client)
    body = {
        "itchEnabled": True,
        "steamAppId": 480,
        "steamAppKey": APP_KEY.upper(),
        "steamPublisherKey": PUBLISHER_KEY,
        "steamTicketMaxAge": 900,
    }
    put = await client.put(path(game), json=body, headers=ADMIN)
    assert put.status_code == 200, put.text
    expected = {
        "itchEnabled": True,
        "steamAppId": 480,
        "steamAppKeySet": True,
        "steamPublisherKeySet": True,
        "steamTicketMaxAge": 900,
    }
    assert put.json() == expected
    assert (await client.get(path(game), headers=ADMIN)).json() == expected
    # Nowhere the admin API answers holds a secret in clear.
    shown = [
        (await client.get(f"/admin/v1/games/{game}", headers=ADMIN)).text,
        str(await audit_actions(client)),
    ]
    for text in shown:
        assert APP_KEY not in text.lower() and PUBLISHER_KEY not in text
    stored = in_app(client, stored_settings, game)["battleplace"]
    assert stored["steam_app_key_sealed"].startswith("v1:")
    assert APP_KEY not in str(stored).lower() and PUBLISHER_KEY not in str(stored)
    box = client.app.state.runtime.box
    assert (
        box.open(stored["steam_app_key_sealed"], context=projects.context(game, "steam_app_key"))
        == APP_KEY
    )
    # Bound to its game: the same sealed text does not open as another game's key.
    with pytest.raises(ValueError):
        box.open(stored["steam_app_key_sealed"], context=projects.context("other", "steam_app_key"))


async def test_put_keeps_what_it_is_not_given_and_null_clears(client):
    game = await new_game(client)
    # Another dialect's settings, set through the game itself, survive.
    await client.patch(
        f"/admin/v1/games/{game}", json={"settings": {"kongregate": {"a": 1}}}, headers=ADMIN
    )
    await client.put(path(game), json={"steamAppId": 480, "steamAppKey": APP_KEY}, headers=ADMIN)
    changed = await client.put(path(game), json={"itchEnabled": True}, headers=ADMIN)
    assert changed.json()["steamAppKeySet"] is True and changed.json()["steamAppId"] == 480
    cleared = await client.put(
        path(game), json={"steamAppKey": None, "steamAppId": None}, headers=ADMIN
    )
    assert cleared.json() == {
        "itchEnabled": True,
        "steamAppId": None,
        "steamAppKeySet": False,
        "steamPublisherKeySet": False,
        "steamTicketMaxAge": 600,
    }
    stored = in_app(client, stored_settings, game)
    assert stored == {"kongregate": {"a": 1}, "battleplace": {"itch_enabled": True}}


async def test_changes_are_audited_without_values(client):
    game = await new_game(client)
    await client.put(path(game), json={"steamPublisherKey": PUBLISHER_KEY}, headers=ADMIN)
    await client.put(path(game), json={"steamPublisherKey": None}, headers=ADMIN)
    entries = [
        e for e in await audit_actions(client) if e["action"] == "battleplace.settings_updated"
    ]
    assert [e["details"]["secrets"] for e in entries] == [
        {"steam_publisher_key": "cleared"},
        {"steam_publisher_key": "set"},
    ]
    assert all(e["gameId"] == game and e["actor"] == "admin" for e in entries)


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"steamAppKey": "abcd"}, "invalid_steam_app_key"),
        ({"steamAppKey": "zz" * 32}, "invalid_steam_app_key"),
        ({"steamAppId": 0}, "invalid_app_id"),
        ({"steamAppId": 2**32}, "invalid_app_id"),
        ({"steamTicketMaxAge": 5}, "invalid_ticket_max_age"),
        ({"steamPublisherKey": "short"}, "invalid_publisher_key"),
        ({"steamPublisherKey": "has spaces in the middle of it"}, "invalid_publisher_key"),
        ({"steamAppId": "four"}, "invalid_body"),
        ({"itchEnable": True}, "invalid_body"),
    ],
)
async def test_bad_values_are_refused_and_change_nothing(client, body, code):
    game = await new_game(client)
    response = await client.put(path(game), json=body, headers=ADMIN)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == code
    assert (await client.get(path(game), headers=ADMIN)).json()["steamAppKeySet"] is False


async def test_unknown_game_and_missing_token(client):
    missing = await client.get(path("nope"), headers=ADMIN)
    assert (missing.status_code, missing.json()["error"]["code"]) == (404, "game_not_found")
    put = await client.put(path("nope"), json={"itchEnabled": True}, headers=ADMIN)
    assert put.status_code == 404
    game = await new_game(client)
    assert (await client.get(path(game))).status_code == 401
    assert (await client.put(path(game), json={"itchEnabled": True})).status_code == 401


async def test_game_settings_hide_sealed_secrets_and_refuse_the_battleplace_key(make_client):
    async with make_client() as client:
        game_id = await new_game(client)
        put = await client.put(
            f"/admin/v1/games/{game_id}/battleplace",
            json={"steamAppId": 480, "steamAppKey": "ab" * 32},
            headers=ADMIN,
        )
        assert put.status_code == 200, put.text
        shown = (await client.get(f"/admin/v1/games/{game_id}", headers=ADMIN)).json()
        overwrite = await client.patch(
            f"/admin/v1/games/{game_id}",
            json={"settings": {"battleplace": {"steamAppId": 1}}},
            headers=ADMIN,
        )
        created = await client.post(
            "/admin/v1/games",
            json={"name": "X", "settings": {"battleplace": {"itchEnabled": True}}},
            headers=ADMIN,
        )

    assert shown["settings"]["battleplace"]["steam_app_id"] == 480
    assert not any("sealed" in key for key in shown["settings"]["battleplace"])
    assert overwrite.status_code == 400 and "battleplace" in overwrite.json()["error"]["message"]
    assert created.status_code == 400
