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
async def client(request, make_client, push_service, tmp_path):
    """The app, trusting the stand-ins' CA and allowed to reach loopback. By default its push
    relay does not run on its own (tests run its rounds) and sends do not wait."""
    settings = {"push_enabled": False, "push_send_wait": 0, **getattr(request, "param", {})}
    async with make_client(
        outbound_allowed_networks=LOOPBACK, push_ca_file=str(tmp_path / "ca.pem"), **settings
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


async def count_rows(client) -> dict[str, int]:
    from sqlalchemy import func, select

    from gamekeeper.db.tables.notify import notification, push_delivery, push_device

    async def run(runtime):
        async with runtime.db.transaction(write=False) as uow:
            return {
                t.name: (await uow.conn.execute(select(func.count()).select_from(t))).scalar_one()
                for t in (push_device, notification, push_delivery)
            }

    return in_app(client, run)


def error_of(response) -> dict:
    body = response.json()
    assert set(body) == {"error"}, body  # the OGS envelope
    return body["error"]


async def send(client, key, game_user_id="user-123", headers=None, **note):
    return await client.post(
        f"{NOTIFY}/send",
        json={"recipient": {"gameUserId": game_user_id}, "notification": {**NOTE, **note}},
        headers={**key, **(headers or {})},
    )


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"deviceToken": "ab" * 32, "platform": "windows"}, "invalid_platform"),
        (
            {"deviceToken": {"endpoint": "http://push.example/x"}, "platform": "web"},
            "invalid_device_token",
        ),
        (
            {
                "deviceToken": '{"endpoint": "https://push.example/x", "keys": {}}',
                "platform": "web",
            },
            "invalid_device_token",
        ),
        ({"deviceToken": "not json", "platform": "web"}, "invalid_device_token"),
        ({"deviceToken": "zz-not-hex", "platform": "ios"}, "invalid_device_token"),
        ({"deviceToken": "ab\u0000" * 20, "platform": "android"}, "invalid_body"),  # the edge
        ({"deviceToken": "ab" * 32, "platform": "ios", "topics": ["has space"]}, "invalid_topics"),
        ({"deviceToken": 12, "platform": "ios"}, None),
    ],
)
async def test_bad_registrations_get_a_clear_error_and_store_nothing(ogs, client, body, code):
    player = ogs.bearer((await ogs.sign_up())["sessionToken"])
    response = await client.post(f"{NOTIFY}/register", json=body, headers=player)
    assert response.status_code == 400, response.text
    error = error_of(response)
    if code is not None:
        assert error["code"] == code
    assert error["message"]
    assert (await count_rows(client))["push_device"] == 0


async def test_registering_a_token_again_updates_one_device_and_devices_are_the_players(
    ogs, client
):
    first = ogs.bearer((await ogs.sign_up())["sessionToken"])
    other = ogs.bearer((await ogs.sign_up(email="bob@example.com"))["sessionToken"])
    token = "ab" * 32
    one = await client.post(
        f"{NOTIFY}/register", json={"deviceToken": token, "platform": "ios"}, headers=first
    )
    again = await client.post(
        f"{NOTIFY}/register",
        json={"deviceToken": token.upper(), "platform": "ios", "topics": ["chat"]},
        headers=first,
    )
    assert one.json()["deviceId"] == again.json()["deviceId"]
    [device] = (await client.get(f"{NOTIFY}/devices", headers=first)).json()["devices"]
    assert device["topics"] == ["chat"] and device["provider"] == "apns" and device["active"]
    assert token not in str(device)  # never shown back
    assert (await client.get(f"{NOTIFY}/devices", headers=other)).json()["devices"] == []
    gone = await client.delete(f"{NOTIFY}/devices/{device['deviceId']}", headers=other)
    assert gone.status_code == 404 and error_of(gone)["code"] == "device_not_found"
    removed = await client.delete(f"{NOTIFY}/devices/{device['deviceId']}", headers=first)
    assert removed.status_code == 204
    assert (await count_rows(client))["push_device"] == 0


async def test_sends_refused_with_the_reason_and_nothing_stored(ogs, client):
    _, key = await ogs.game()
    await linked_player(ogs, key)
    not_linked = await send(client, key, game_user_id="nobody")
    assert not_linked.status_code == 404 and error_of(not_linked)["code"] == "recipient_not_linked"
    huge = await send(client, key, body="x" * 1900, data={"blob": "y" * 2000})
    assert huge.status_code == 400 and error_of(huge)["code"] == "payload_too_large"
    for bad, code in [
        ({"type": "has space"}, "invalid_type"),
        ({"ttl": -1}, "invalid_ttl"),
        ({"priority": "urgent"}, "invalid_priority"),
        ({"title": "a\u0000b"}, "invalid_body"),  # NUL is refused at the edge
        ({"data": {"k": "a\u0000b"}}, "invalid_body"),
        ({"data": {"a\u0000": 1}}, "invalid_body"),
        ({"data": {"d": [[[[[[[[[[1]]]]]]]]]]}}, "invalid_data"),
        ({"deepLink": "x\u0000"}, "invalid_body"),
    ]:
        response = await send(client, key, **bad)
        assert response.status_code == 400, response.text
        assert error_of(response)["code"] == code
    nul_user = await send(client, key, game_user_id="user\u0000123")
    assert nul_user.status_code == 400 and error_of(nul_user)["code"] == "invalid_body"
    wrong_type = await client.post(
        f"{NOTIFY}/send", json={"recipient": {"gameUserId": 5}, "notification": NOTE}, headers=key
    )
    assert wrong_type.status_code == 400 and "error" in wrong_type.json()
    assert (await count_rows(client))["notification"] == 0


async def test_a_linked_player_without_devices_keeps_the_notification_in_the_inbox(ogs, client):
    _, key = await ogs.game()
    player = await linked_player(ogs, key)
    sent = await send(client, key)
    assert sent.status_code == 200
    assert sent.json()["status"] == "failed"
    status = (await client.get(f"{NOTIFY}/status/{sent.json()['id']}", headers=key)).json()
    assert status["reason"] == "no_devices"
    inbox = (await client.get(f"{NOTIFY}/", headers=player)).json()
    assert inbox["notifications"][0]["title"] == NOTE["title"]


async def test_topics_choose_the_devices_and_idempotency_returns_the_first_answer(
    ogs, client, push_service
):
    _, key = await ogs.game()
    player = await linked_player(ogs, key)
    chat, any_type = push_service.browser(), push_service.browser()
    for browser, topics in ((chat, ["chat"]), (any_type, None)):
        body = {"deviceToken": browser.token(), "platform": "web", "topics": topics}
        assert (
            await client.post(f"{NOTIFY}/register", json=body, headers=player)
        ).status_code == 200
    first = await send(client, key, headers={"Idempotency-Key": "invite-1"})
    replay = await send(client, key, headers={"Idempotency-Key": "invite-1"})
    assert replay.json()["id"] == first.json()["id"]
    clash = await send(client, key, headers={"Idempotency-Key": "invite-1"}, title="Other")
    assert clash.status_code == 409 and error_of(clash)["code"] == "idempotency_key_reused"
    assert (await count_rows(client))["push_delivery"] == 1  # only the device without topics
    await run_relay(client)
    assert [p.path.rsplit("/", 1)[1] for p in push_service.accepted()] == [any_type.id]


async def test_only_the_game_and_the_recipient_see_a_notification(ogs, client):
    _, key = await ogs.game()
    _, other_key = await ogs.game(name="Other Game")
    player = await linked_player(ogs, key)
    stranger = ogs.bearer((await ogs.sign_up(email="eve@example.com"))["sessionToken"])
    sent = (await send(client, key)).json()
    other = await client.get(f"{NOTIFY}/status/{sent['id']}", headers=other_key)
    assert other.status_code == 404 and error_of(other)["code"] == "notification_not_found"
    read = await client.post(f"{NOTIFY}/{sent['id']}/read", headers=stranger)
    assert read.status_code == 404
    assert (await client.get(f"{NOTIFY}/", headers=stranger)).json()["notifications"] == []
    assert (await client.post(f"{NOTIFY}/{sent['id']}/read", headers=player)).status_code == 200


async def test_a_revoked_key_cannot_send(ogs, client):
    from support.provision import ADMIN

    game_id, key = await ogs.game()
    await linked_player(ogs, key)
    keys = (await client.get(f"/admin/v1/games/{game_id}/keys", headers=ADMIN)).json()["items"]
    for item in keys:
        await client.delete(f"/admin/v1/keys/{item['id']}", headers=ADMIN)
    refused = await send(client, key)
    assert refused.status_code == 401 and error_of(refused)["code"] == "invalid_api_key"
    assert (await count_rows(client))["notification"] == 0


@pytest.mark.parametrize("client", [{"push_enabled": True, "push_send_wait": 10}], indirect=True)
async def test_a_send_answers_delivered_when_the_provider_answers_in_time(
    ogs, client, push_service
):
    _, key = await ogs.game()
    player = await linked_player(ogs, key)
    body = {"deviceToken": push_service.browser().subscription(), "platform": "web"}
    assert (await client.post(f"{NOTIFY}/register", json=body, headers=player)).status_code == 200
    sent = await send(client, key)  # the relay in the server delivers while the send waits
    assert sent.json()["status"] == "delivered", sent.text
    assert sent.json()["deliveredAt"]
    assert len(push_service.accepted()) == 1


async def test_the_inbox_pages_newest_first(ogs, client):
    _, key = await ogs.game()
    player = await linked_player(ogs, key)
    sent = [(await send(client, key, title=f"Note {i}")).json()["id"] for i in range(5)]
    page = (await client.get(f"{NOTIFY}?limit=2", headers=player)).json()
    assert [n["id"] for n in page["notifications"]] == sent[:-3:-1]
    seen = [n["id"] for n in page["notifications"]]
    while page["nextCursor"]:
        page = (
            await client.get(f"{NOTIFY}?limit=2&cursor={page['nextCursor']}", headers=player)
        ).json()
        seen += [n["id"] for n in page["notifications"]]
    assert seen == sent[::-1]
    bad = await client.get(f"{NOTIFY}?cursor=abc", headers=player)
    assert bad.status_code == 400 and error_of(bad)["code"] == "invalid_cursor"


@pytest.mark.parametrize("client", [{"rate_limits": {"push_register": "2/hour"}}], indirect=True)
async def test_registrations_per_player_are_rate_limited(ogs, client):
    player = ogs.bearer((await ogs.sign_up())["sessionToken"])
    answers = [
        await client.post(
            f"{NOTIFY}/register", json={"deviceToken": f"{i:02x}" * 32, "platform": "ios"},
            headers=player,
        )
        for i in range(3)
    ]  # fmt: skip
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert error_of(answers[2])["code"] == "rate_limited" and "retry-after" in answers[2].headers


async def test_deliveries_are_counted_in_the_metrics(ogs, client, push_service):
    _, key = await ogs.game()
    player = await linked_player(ogs, key)
    body = {"deviceToken": push_service.browser().subscription(), "platform": "web"}
    await client.post(f"{NOTIFY}/register", json=body, headers=player)
    await send(client, key)
    await run_relay(client)
    metrics = (await client.get("/metrics")).text
    assert 'gamekeeper_push_deliveries_total{outcome="delivered",provider="webpush"} 1.0' in metrics
    assert 'gamekeeper_push_sends_total{status="queued"} 1.0' in metrics
    assert "gamekeeper_push_latency_seconds_count" in metrics


async def test_nul_bytes_in_ids_are_not_found_or_refused_never_a_500(ogs, client):
    _, key = await ogs.game()
    player = await linked_player(ogs, key)
    for response in [
        await client.get(f"{NOTIFY}/status/a%00b", headers=key),
        await client.post(f"{NOTIFY}/a%00b/read", headers=player),
        await client.delete(f"{NOTIFY}/devices/a%00b", headers=player),
    ]:  # a NUL in a path is refused at the edge
        assert response.status_code == 400, response.text
        assert error_of(response)["code"] == "invalid_characters"
    game = await client.post(
        f"{NOTIFY}/register",
        json={"deviceToken": "ab" * 32, "platform": "ios", "gameId": "g\u0000"},
        headers=player,
    )
    assert game.status_code in (400, 404) and "error" in game.json()
    key_nul = await send(client, key, headers={"Idempotency-Key": "k\u00e9y".encode("latin-1")})
    assert key_nul.status_code == 400
