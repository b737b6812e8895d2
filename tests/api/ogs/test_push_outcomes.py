"""Every provider answer through the whole app, and the state a game and a player then see.

A player registers devices through the API (iOS hex → APNs, Android → FCM, ``ExponentPushToken``
→ Expo, a subscription → Web Push); the game sends; the push relay's rounds run by hand with the
app's clock moved in between; the stand-ins on loopback answer as scripted. The assertions are
what the game reads (``GET /status/{id}``, the outbox events it hears, the audit log) and what
the player reads (``GET /devices``), and what reached each provider.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from api.ogs.push_fixtures import (
    NOTE,
    RECEIPT_DELAY,
    Gate,
    Phone,
    Scene,
    StandIns,
    push_settings,
    serving_stand_ins,
)

pytestmark = pytest.mark.anyio
PROVIDERS = ("apns", "fcm", "expo", "webpush")
Script = Callable[[StandIns, Phone], None]


@pytest.fixture
def stand_ins(tmp_path) -> Iterator[StandIns]:
    with serving_stand_ins(tmp_path) as running:
        yield running


@pytest.fixture
async def client(make_client, stand_ins):
    async with make_client(**push_settings(stand_ins)) as client:
        yield client


@pytest.fixture
async def scene(client, stand_ins, clock) -> Scene:
    return await Scene.start(client, stand_ins, clock)


@pytest.fixture
def apns_gate(stand_ins: StandIns) -> Iterator[Gate]:
    """A gate in front of the APNs stand-in, shut to begin with."""
    gate = Gate(stand_ins.apns.url)
    try:
        yield gate
    finally:
        gate.close()


async def one_device(scene: Scene, provider: str) -> tuple[dict[str, str], Phone]:
    player = await scene.player()
    phone = Phone.of(provider, scene.providers)
    phone.id = await scene.register(player, phone.platform, phone.token)
    return player, phone


def only_delivery(status: dict[str, Any]) -> dict[str, Any]:
    [delivery] = status["deliveries"]
    return dict(delivery)


# --- delivered ----------------------------------------------------------------------------


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_each_provider_gets_the_notification_and_the_game_sees_it_go(
    scene: Scene, provider: str
):
    _, phone = await one_device(scene, provider)
    sent = await scene.send()

    assert scene.relay() == 1

    assert phone.received(scene.providers) == [{"id": sent["id"], **NOTE}]
    status = await scene.status(sent["id"])
    delivery = only_delivery(status)
    assert delivery["deviceId"] == phone.id and delivery["attempts"] == 1
    if provider == "expo":  # a ticket: the final word comes with its receipt
        assert (status["status"], status["counts"]) == ("sent", {"sent": 1})
        assert status["sentAt"] is not None and status["deliveredAt"] is None
    else:
        assert (status["status"], status["counts"]) == ("delivered", {"delivered": 1})
        assert status["deliveredAt"] is not None and delivery["deliveredAt"] is not None
        [event] = scene.events("notification.delivered")
        assert event["notificationId"] == sent["id"]
    if provider == "apns":
        [request] = scene.providers.apns.requests
        assert request.headers["apns-id"] == delivery["id"]


# --- the device is gone -------------------------------------------------------------------


def apns_says(status: int, reason: str, **options: Any) -> Script:
    return lambda s, phone: s.apns.answer(phone.token, status, reason, once=True, **options)


def fcm_says(answer: str, **options: Any) -> Script:
    return lambda s, phone: s.fcm.answer(phone.token, answer, **options)


def webpush_says(status: int, **options: Any) -> Script:
    def script(s: StandIns, phone: Phone) -> None:
        assert phone.browser is not None
        s.webpush.answer(phone.browser, status, **options)

    return script


def expo_ticket(error: str) -> Script:
    return lambda s, phone: s.expo.ticket_errors.__setitem__(phone.token, error)


def expo_fails(status: int, **options: Any) -> Script:
    return lambda s, _: s.expo.fail(status, **options)


GONE = [
    ("apns", apns_says(400, "BadDeviceToken"), "BadDeviceToken"),
    ("apns", apns_says(400, "DeviceTokenNotForTopic"), "DeviceTokenNotForTopic"),
    ("apns", apns_says(410, "Unregistered"), "Unregistered"),
    ("apns", apns_says(410, "ExpiredToken"), "ExpiredToken"),
    ("fcm", fcm_says("UNREGISTERED"), "UNREGISTERED"),
    ("fcm", fcm_says("INVALID_TOKEN"), "INVALID_ARGUMENT"),
    ("webpush", webpush_says(404), "404 Not Found"),
    ("webpush", webpush_says(410), "410 Gone"),
    ("expo", expo_ticket("DeviceNotRegistered"), "DeviceNotRegistered"),
]


@pytest.mark.parametrize(("provider", "script", "why"), GONE, ids=[c[2] for c in GONE])
async def test_a_device_the_provider_says_is_gone_is_deactivated_and_not_sent_to_again(
    scene: Scene, provider: str, script: Script, why: str, capsys
):
    player, phone = await one_device(scene, provider)
    script(scene.providers, phone)
    sent = await scene.send()

    assert scene.relay() == 1

    await assert_gone(scene, player, phone, sent["id"], why)
    logged = capsys.readouterr()
    assert phone.secret not in logged.out + logged.err


async def test_an_expo_receipt_saying_device_not_registered_deactivates_the_device(
    scene: Scene,
):
    player, phone = await one_device(scene, "expo")
    sent = await scene.send()
    assert scene.relay() == 1
    [receipt] = scene.providers.expo.tickets
    scene.providers.expo.settle(receipt, "DeviceNotRegistered")

    scene.later(RECEIPT_DELAY)
    assert scene.relay() == 1

    await assert_gone(scene, player, phone, sent["id"], "DeviceNotRegistered")


async def assert_gone(scene: Scene, player: dict, phone: Phone, sent_id: str, why: str) -> None:
    status = await scene.status(sent_id)
    assert (status["status"], status["reason"]) == ("failed", "device_gone")
    assert only_delivery(status)["status"] == "failed"
    assert only_delivery(status)["error"] == f"device_gone: {why}"
    device = (await scene.devices(player))[phone.id]
    assert (device["active"], device["deactivatedReason"]) == (False, why)
    [event] = scene.events("notification.failed")
    assert (event["notificationId"], event["reason"]) == (sent_id, "device_gone")
    assert phone.secret not in str(status) + str(device)
    seen = phone.requests(scene.providers)

    again = await scene.send()

    assert again["status"] == "failed"
    assert (await scene.status(again["id"]))["reason"] == "no_devices"
    scene.later(3600)
    assert scene.relay() == 0
    assert phone.requests(scene.providers) == seen


async def test_a_notification_failed_on_every_device_says_why_most_of_them_failed(
    scene: Scene,
):
    player = await scene.player()
    phones = [Phone.of(p, scene.providers) for p in ("apns", "apns", "fcm")]
    for phone in phones:
        phone.id = await scene.register(player, phone.platform, phone.token)
    for phone in phones[:2]:
        apns_says(410, "Unregistered")(scene.providers, phone)
    fcm_says("UNAVAILABLE")(scene.providers, phones[2])  # FCM refuses later, alone
    sent = await scene.send()
    assert scene.relay() == 3
    fcm_says("PERMISSION_DENIED")(scene.providers, phones[2])
    scene.later(60)
    assert scene.relay() == 1

    status = await scene.status(sent["id"])
    assert (status["status"], status["reason"]) == ("failed", "device_gone")
    assert sorted(d["error"] for d in status["deliveries"]) == [
        "PERMISSION_DENIED", "device_gone: Unregistered", "device_gone: Unregistered"
    ]  # fmt: skip


# --- our credentials are refused ----------------------------------------------------------

REFUSED = [
    ("apns", apns_says(403, "InvalidProviderToken"), "InvalidProviderToken"),
    ("fcm", fcm_says("UNAUTHENTICATED", times=2), "UNAUTHENTICATED"),  # also after a new token
    ("fcm", fcm_says("PERMISSION_DENIED"), "PERMISSION_DENIED"),
    ("expo", expo_ticket("InvalidCredentials"), "InvalidCredentials"),
]


@pytest.mark.parametrize(("provider", "script", "why"), REFUSED, ids=[c[2] for c in REFUSED])
async def test_refused_credentials_fail_the_delivery_keep_the_device_and_are_audited(
    scene: Scene, provider: str, script: Script, why: str, capsys
):
    player, phone = await one_device(scene, provider)
    script(scene.providers, phone)
    sent = await scene.send()

    assert scene.relay() == 1

    status = await scene.status(sent["id"])
    assert (status["status"], status["reason"]) == ("failed", why)
    assert only_delivery(status)["status"] == "failed"
    assert (await scene.devices(player))[phone.id]["active"] is True
    [entry] = await scene.audit("push.credentials_refused")
    assert (entry["details"]["provider"], entry["targetType"]) == (provider, "deployment")
    logged = capsys.readouterr()
    assert phone.secret not in str(entry) + str(status) + logged.out + logged.err
    scene.later(3600)
    assert scene.relay() == 0  # never retried
    # The device was never the problem: once the provider takes our credentials, it gets pushes.
    scene.providers.expo.ticket_errors.clear()
    again = await scene.send()
    assert scene.relay() == 1
    assert (await scene.status(again["id"]))["status"] in ("delivered", "sent")


# --- retried later, with the same identity ------------------------------------------------

RETRIED = [
    ("apns", apns_says(500, "InternalServerError"), 5),
    ("apns", apns_says(503, "ServiceUnavailable"), 5),
    ("apns", apns_says(429, "TooManyRequests", retry_after=120), 120),
    ("fcm", fcm_says("INTERNAL"), 5),
    ("fcm", fcm_says("UNAVAILABLE"), 5),
    ("fcm", fcm_says("QUOTA_EXCEEDED", retry_after="120"), 120),
    ("webpush", webpush_says(500), 5),
    ("webpush", webpush_says(503), 5),
    ("webpush", webpush_says(429, retry_after="120"), 120),
    ("expo", expo_fails(500), 5),
    ("expo", expo_fails(503), 5),
    ("expo", expo_fails(429, retry_after="120"), 120),
]


@pytest.mark.parametrize(
    ("provider", "script", "wait"), RETRIED, ids=[f"{c[0]}-{i}" for i, c in enumerate(RETRIED)]
)
async def test_a_provider_failing_for_now_is_tried_again_when_it_said_with_the_same_id(
    scene: Scene, provider: str, script: Script, wait: int
):
    _, phone = await one_device(scene, provider)
    script(scene.providers, phone)
    sent = await scene.send()

    assert scene.relay() == 1

    status = await scene.status(sent["id"])
    first = only_delivery(status)
    assert (status["status"], first["status"], first["attempts"]) == ("queued", "pending", 1)
    assert first["error"]
    assert phone.received(scene.providers) == []
    scene.later(wait - 1)
    assert scene.relay() == 0  # not before the back-off, or the provider's Retry-After
    scene.later(1)
    assert scene.relay() == 1

    assert phone.received(scene.providers) == [{"id": sent["id"], **NOTE}]
    status = await scene.status(sent["id"])
    second = only_delivery(status)
    assert second["id"] == first["id"] and second["attempts"] == 2
    assert status["status"] == ("sent" if provider == "expo" else "delivered")
    if provider == "apns":
        ids = {r.headers["apns-id"] for r in scene.providers.apns.requests}
        assert ids == {first["id"]}


async def test_apns_down_is_tried_again_and_delivered_once_it_is_back(
    make_client, stand_ins, clock, apns_gate
):
    settings = {**push_settings(stand_ins), "push_apns_base_url": apns_gate.url}
    async with make_client(**settings) as app:
        scene = await Scene.start(app, stand_ins, clock)
        await one_device(scene, "apns")
        sent = await scene.send()

        assert scene.relay() == 1

        status = await scene.status(sent["id"])
        first = only_delivery(status)
        assert (status["status"], first["status"]) == ("queued", "pending")
        assert first["error"].startswith("connection error")
        assert stand_ins.apns.requests == []
        apns_gate.open()
        scene.later(5)
        assert scene.relay() == 1

        status = await scene.status(sent["id"])
        assert status["status"] == "delivered"
        [request] = stand_ins.apns.requests
        assert request.headers["apns-id"] == first["id"] == only_delivery(status)["id"]


# --- permanent refusals -------------------------------------------------------------------

PERMANENT = [
    ("apns", apns_says(400, "BadTopic"), "BadTopic"),
    ("apns", apns_says(413, "PayloadTooLarge"), "PayloadTooLarge"),
    ("webpush", webpush_says(413), "413 payload too large"),
]


@pytest.mark.parametrize(("provider", "script", "why"), PERMANENT, ids=[c[2] for c in PERMANENT])
async def test_a_permanent_refusal_fails_at_once_and_is_never_retried(
    scene: Scene, provider: str, script: Script, why: str
):
    player, phone = await one_device(scene, provider)
    script(scene.providers, phone)
    sent = await scene.send()

    assert scene.relay() == 1
    for _ in range(3):
        scene.later(3600)
        assert scene.relay() == 0

    status = await scene.status(sent["id"])
    assert (status["status"], status["reason"]) == ("failed", why)
    assert (only_delivery(status)["status"], only_delivery(status)["attempts"]) == ("failed", 1)
    assert phone.requests(scene.providers) == 1
    assert (await scene.devices(player))[phone.id]["active"] is True
    [event] = scene.events("notification.failed")
    assert event["reason"] == why


# --- one send, four devices ---------------------------------------------------------------


async def test_a_send_fans_out_to_every_device_and_is_delivered_with_the_first(scene: Scene):
    player = await scene.player()
    phones = {p: Phone.of(p, scene.providers) for p in PROVIDERS}
    for phone in phones.values():
        phone.id = await scene.register(player, phone.platform, phone.token)
    apns_says(503, "ServiceUnavailable")(scene.providers, phones["apns"])
    fcm_says("UNAVAILABLE")(scene.providers, phones["fcm"])
    sent = await scene.send()

    assert scene.relay() == 4

    status = await scene.status(sent["id"])
    assert status["status"] == "delivered"
    assert status["counts"] == {"delivered": 1, "sent": 1, "pending": 2}
    by_device = {d["deviceId"]: d["status"] for d in status["deliveries"]}
    assert by_device == {
        phones["webpush"].id: "delivered", phones["expo"].id: "sent",
        phones["apns"].id: "pending", phones["fcm"].id: "pending",
    }  # fmt: skip
    first_delivered_at = status["deliveredAt"]

    scene.later(5)
    assert scene.relay() == 2
    scene.providers.expo.settle_all()
    scene.later(RECEIPT_DELAY)
    assert scene.relay() == 1

    status = await scene.status(sent["id"])
    assert status["counts"] == {"delivered": 4}
    assert status["deliveredAt"] == first_delivered_at
    for phone in phones.values():
        assert phone.received(scene.providers) == [{"id": sent["id"], **NOTE}], phone.provider
    assert len(scene.events("notification.delivered")) == 1


# --- Expo: tickets, then receipts ---------------------------------------------------------


async def test_an_expo_ticket_is_sent_and_its_receipt_makes_it_delivered(scene: Scene):
    _, phone = await one_device(scene, "expo")
    sent = await scene.send()
    assert scene.relay() == 1
    [receipt] = scene.providers.expo.tickets

    scene.later(RECEIPT_DELAY - 1)
    assert scene.relay() == 0  # receipts are asked for after push_receipt_delay
    scene.later(1)
    assert scene.relay() == 1  # asked; not settled yet
    assert scene.providers.expo.receipt_requests == [[receipt]]
    assert (await scene.status(sent["id"]))["status"] == "sent"
    scene.providers.expo.settle(receipt)
    scene.later(RECEIPT_DELAY)
    assert scene.relay() == 1

    status = await scene.status(sent["id"])
    assert (status["status"], status["counts"]) == ("delivered", {"delivered": 1})
    assert only_delivery(status)["attempts"] == 1  # asking for a receipt is not sending again
    assert len(phone.received(scene.providers)) == 1
    [event] = scene.events("notification.delivered")
    assert event["notificationId"] == sent["id"]


async def test_an_expo_receipt_that_never_comes_fails_the_delivery_after_a_day(scene: Scene):
    player, phone = await one_device(scene, "expo")
    sent = await scene.send()
    assert scene.relay() == 1
    scene.later(RECEIPT_DELAY)
    assert scene.relay() == 1
    scene.later(23 * 3600)
    assert scene.relay() == 1
    assert (await scene.status(sent["id"]))["status"] == "sent"  # still waiting, within a day

    scene.later(3600)
    assert scene.relay() == 1

    status = await scene.status(sent["id"])
    assert (status["status"], status["reason"]) == ("failed", "no receipt")
    assert (only_delivery(status)["status"], only_delivery(status)["error"]) == (
        "failed", "no receipt",
    )  # fmt: skip
    [event] = scene.events("notification.failed")
    assert event["reason"] == "no receipt"
    assert (await scene.devices(player))[phone.id]["active"] is True
    scene.later(7 * 24 * 3600)
    assert scene.relay() == 0  # never asked again


# --- one provider failing does not hold the others ----------------------------------------


async def test_a_failing_provider_is_skipped_while_another_keeps_delivering(scene: Scene):
    player = await scene.player()
    androids = [Phone.of("fcm", scene.providers) for _ in range(5)]
    iphone = Phone.of("apns", scene.providers)
    for phone in [*androids, iphone]:
        phone.id = await scene.register(player, phone.platform, phone.token)
        if phone.provider == "fcm":
            fcm_says("UNAVAILABLE")(scene.providers, phone)
    first = await scene.send()
    assert scene.relay() == 6  # five 503s from FCM open its circuit
    fcm_requests = len(scene.providers.fcm.sends)

    scene.later(5)  # FCM's retries are due, but its circuit is open
    second = await scene.send()
    assert scene.relay() == 1

    assert len(scene.providers.fcm.sends) == fcm_requests
    status = await scene.status(second["id"])
    assert status["status"] == "delivered"
    assert status["counts"] == {"delivered": 1, "pending": 5}
    assert len(iphone.received(scene.providers)) == 2

    scene.later(5)  # the cool-down is over
    assert scene.relay() == 10
    for sent in (first, second):
        assert (await scene.status(sent["id"]))["counts"] == {"delivered": 6}
