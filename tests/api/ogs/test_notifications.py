"""Push notifications over HTTP: devices, sends carried by the push relay to a Web Push
stand-in on loopback (which decrypts what it got), status, the inbox and read receipts."""

from __future__ import annotations

import pytest
import trustme

from support.provision import in_app
from support.push import webpush

pytestmark = pytest.mark.anyio
NOTIFY = "/api/v1/notifications"
LOOPBACK = ["127.0.0.0/8"]


@pytest.fixture
def ca(tmp_path):
    authority = trustme.CA()
    authority.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    return authority


@pytest.fixture
def push_service(ca):
    with webpush.serving(ca) as service:
        yield service


@pytest.fixture
async def client(make_client, push_service, tmp_path):
    """The app, trusting the stand-ins' CA and allowed to reach loopback; sends do not wait."""
    async with make_client(
        outbound_allowed_networks=LOOPBACK, push_ca_file=str(tmp_path / "ca.pem"), push_send_wait=0
    ) as client:
        yield client


async def linked_player(ogs, key, game_user_id="user-123"):
    """A signed-up player linked to ``game_user_id`` of the game; the player's headers."""
    from gamekeeper.core import accounts
    from gamekeeper.core.audit import Actor

    player = await ogs.sign_up(email=f"{game_user_id}@example.com")
    issued = await ogs.link_token(key, game_user_id)

    async def confirm(runtime):
        async with runtime.db.transaction() as uow:
            await accounts.confirm_link(
                uow, token=issued["linkToken"], player_id=player["user"]["id"],
                actor=Actor("player", player["user"]["id"]),
            )  # fmt: skip

    in_app(ogs.client, confirm)
    return ogs.bearer(player["sessionToken"])


async def run_relay(client) -> int:
    async def once(runtime):
        return await runtime.push.relay.run_once()

    return in_app(client, once)


NOTE = {
    "type": "game_invitation",
    "title": "New Invitation",
    "body": "PlayerOne invited you — ünïcode",
    "data": {"gameId": "trivia-456"},
    "deepLink": "opengame://trivia-jam/join/trivia-456",
}


async def test_send_reaches_the_browser_encrypted_and_status_follows(ogs, client, push_service):
    _, key = await ogs.game()
    player = await linked_player(ogs, key)
    browser = push_service.browser()
    registered = await client.post(
        f"{NOTIFY}/register",
        json={
            "deviceToken": browser.subscription(),
            "platform": "web",
            "topics": ["game_invitation"],
        },
        headers=player,
    )
    assert registered.status_code == 200, registered.text
    assert registered.json()["success"] is True

    sent = await client.post(
        f"{NOTIFY}/send", json={"recipient": {"gameUserId": "user-123"}, "notification": NOTE},
        headers=key,
    )  # fmt: skip
    assert sent.status_code == 200, sent.text
    assert sent.json()["status"] == "queued"
    assert await run_relay(client) == 1

    [push] = push_service.accepted()
    assert push.payload == {"id": sent.json()["id"], **NOTE}
    assert push.public_key == (await client.get(f"{NOTIFY}/vapid-public-key")).json()["publicKey"]

    status = (await client.get(f"{NOTIFY}/status/{sent.json()['id']}", headers=key)).json()
    assert status["status"] == "delivered"
    assert status["deliveredAt"] is not None and status["readAt"] is None
    assert status["counts"] == {"delivered": 1}

    inbox = (await client.get(f"{NOTIFY}/", headers=player)).json()
    assert [n["id"] for n in inbox["notifications"]] == [sent.json()["id"]]
    read = await client.post(f"{NOTIFY}/{sent.json()['id']}/read", headers=player)
    assert read.status_code == 200 and read.json()["status"] == "read"
    status = (await client.get(f"{NOTIFY}/status/{sent.json()['id']}", headers=key)).json()
    assert status["status"] == "read" and status["readAt"] is not None
