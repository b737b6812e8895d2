"""Admin API: a game's push provider credentials; write-only, sealed at rest, checked on PUT."""

from __future__ import annotations

import json

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from gamekeeper.core.notify import credentials
from gamekeeper.core.notify.types import ProviderName
from support.provision import ADMIN, audit_actions, in_app, new_game

pytestmark = pytest.mark.anyio


def pem(key) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


P8 = pem(ec.generate_private_key(ec.SECP256R1()))
RSA = pem(rsa.generate_private_key(public_exponent=65537, key_size=2048))
APNS = {"keyP8": P8, "keyId": "ABC123DEFG", "teamId": "TEAM123456", "topic": "com.example.app"}
FCM = {
    "serviceAccount": {
        "type": "service_account", "project_id": "demo-project", "private_key_id": "k1",
        "private_key": RSA, "client_email": "push@demo-project.iam.gserviceaccount.com",
        "token_uri": "https://oauth2.googleapis.com/token",
    }
}  # fmt: skip


@pytest.fixture
async def client(make_client):
    async with make_client() as client:
        yield client


def path(game_id: str) -> str:
    return f"/admin/v1/games/{game_id}/push"


async def sealed(runtime, game_id):
    async with runtime.db.transaction(write=False) as uow:
        return await uow.notify.push_credentials(game_id)


async def test_credentials_are_write_only_sealed_and_kept_unless_cleared(client):
    game = await new_game(client)
    unset = {"apnsSet": False, "fcmSet": False, "expoSet": False}
    assert (await client.get(path(game), headers=ADMIN)).json() == unset

    put = await client.put(path(game), json={"apns": APNS, "fcm": FCM}, headers=ADMIN)
    assert put.status_code == 200, put.text
    assert put.json() == {"apnsSet": True, "fcmSet": True, "expoSet": False}
    # Expo alone: APNs and FCM keep theirs; then null clears APNs.
    assert (await client.put(path(game), json={"expo": {}}, headers=ADMIN)).json()["apnsSet"]
    cleared = await client.put(path(game), json={"apns": None}, headers=ADMIN)
    assert cleared.json() == {"apnsSet": False, "fcmSet": True, "expoSet": True}

    stored = in_app(client, sealed, game)
    assert set(stored) == {ProviderName.FCM, ProviderName.EXPO}
    assert "PRIVATE KEY" not in str(stored)
    box = client.app.state.runtime.box
    opened = json.loads(
        box.open(stored[ProviderName.FCM], context=credentials.context(game, ProviderName.FCM))
    )
    assert opened["serviceAccount"]["private_key"] == RSA
    with pytest.raises(ValueError):  # bound to its game and provider
        box.open(stored[ProviderName.FCM], context=credentials.context(game, ProviderName.EXPO))
    actions = await audit_actions(client)
    assert [a["action"] for a in actions].count("push.credentials_changed") == 3
    assert "PRIVATE KEY" not in str(actions)


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ({"apns": {**APNS, "keyP8": "not a key"}}, "keyP8"),
        ({"apns": {**APNS, "keyP8": RSA}}, "P-256"),
        ({"apns": {**APNS, "keyId": "short"}}, "keyId"),
        ({"apns": {**APNS, "environment": "staging"}}, "environment"),
        ({"apns": "text"}, "object"),
        ({"fcm": {"serviceAccount": {"type": "user"}}}, "service_account"),
        ({"fcm": {"serviceAccount": {**FCM["serviceAccount"], "private_key": P8}}}, "RSA"),
        ({"expo": {"accessToken": ""}}, "accessToken"),
        ({"expo": {"accessToken": "a\u0000b" * 200}}, "accessToken"),
    ],
)
async def test_bad_credentials_are_refused_and_nothing_is_stored(client, body, says):
    game = await new_game(client)
    response = await client.put(path(game), json=body, headers=ADMIN)
    assert response.status_code == 400, response.text
    assert says in response.text
    assert P8 not in response.text and RSA not in response.text
    assert in_app(client, sealed, game) == {}


async def test_unknown_game_and_missing_admin_token(client):
    assert (await client.get(path("nope"), headers=ADMIN)).status_code == 404
    assert (await client.put(path("nope"), json={"expo": {}}, headers=ADMIN)).status_code == 404
    assert (await client.get(path("nope"))).status_code == 401
