"""The FCM HTTP v1 provider against a loopback stand-in of Google's token endpoint and FCM."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Iterator
from email.utils import formatdate

import pytest

from gamekeeper.infra.push.base import Outcome, PushMessage, Verdict
from gamekeeper.infra.push.fcm import FcmProvider, parse_service_account
from support.loopback import free_port
from support.push.fcm import FcmService, service_account, serving

pytestmark = pytest.mark.anyio

TIMEOUT = 2.0
DEVICE = "fcm-device-token-" + "a" * 140


def push(token: str = DEVICE, **fields: object) -> PushMessage:
    values: dict[str, object] = {
        "delivery_id": "delivery-1",
        "token": token,
        "title": "New Invitation",
        "body": "PlayerOne invited you",
        "type": "game_invitation",
        "notification_id": "notification-123",
    }
    return PushMessage(**{**values, **fields})  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def account() -> dict[str, str]:
    return service_account()  # an RSA key takes a while to make: one per module


@pytest.fixture
def fcm(account: dict[str, str]) -> Iterator[FcmService]:
    with serving(account) as service:
        yield service


@pytest.fixture
async def provider(fcm: FcmService, account: dict[str, str]) -> AsyncIterator[FcmProvider]:
    client = FcmProvider(
        service_account=account, base_url=fcm.url, token_url=fcm.token_url, timeout=TIMEOUT
    )
    yield client
    await client.aclose()


async def test_a_send_arrives_with_the_exact_body(fcm: FcmService, provider: FcmProvider):
    rich = push(
        data={"gameId": "trivia-456", "round": 3, "tags": ["a", "é"]},
        deep_link="opengame://trivia-jam/join/trivia-456",
        ttl=3600,
        collapse_key="invites",
    )
    plain = push("second-device", priority="normal")

    assert await provider.send([rich, plain]) == [
        Verdict(Outcome.DELIVERED, status=200),
        Verdict(Outcome.DELIVERED, status=200),
    ]

    by_token = {sent.message["token"]: sent for sent in fcm.sends}
    notification = {"title": "New Invitation", "body": "PlayerOne invited you"}
    assert by_token[DEVICE].message == {
        "token": DEVICE,
        "notification": notification,
        "data": {
            "gameId": "trivia-456",
            "round": "3",
            "tags": '["a", "é"]',
            "id": "notification-123",
            "type": "game_invitation",
            "deepLink": "opengame://trivia-jam/join/trivia-456",
        },
        "android": {"priority": "HIGH", "ttl": "3600s", "collapse_key": "invites"},
    }
    assert by_token["second-device"].message == {
        "token": "second-device",
        "notification": notification,
        "data": {"id": "notification-123", "type": "game_invitation"},
        "android": {"priority": "NORMAL"},
    }
    assert {sent.project for sent in fcm.sends} == {"gamekeeper-test"}


async def test_the_notification_id_wins_over_a_game_data_key_of_the_same_name(
    fcm: FcmService, provider: FcmProvider
):
    await provider.send([push(data={"id": "the-game's-own", "type": "x"})])
    assert fcm.sends[0].message["data"] == {"id": "notification-123", "type": "game_invitation"}


async def test_the_token_uri_of_the_service_account_is_used_without_an_override(
    fcm: FcmService, account: dict[str, str]
):
    own = FcmProvider(service_account={**account, "token_uri": fcm.token_url}, base_url=fcm.url)
    try:
        assert (await own.send([push()]))[0].outcome is Outcome.DELIVERED
    finally:
        await own.aclose()
    assert fcm.token_requests == 1


async def test_100_concurrent_sends_fetch_the_access_token_once(
    fcm: FcmService, provider: FcmProvider
):
    verdicts = await asyncio.gather(*(provider.send([push(f"device-{i}")]) for i in range(100)))

    assert [v.outcome for (v,) in verdicts] == [Outcome.DELIVERED] * 100
    assert fcm.token_requests == 1
    assert len({sent.access_token for sent in fcm.sends}) == 1
    assert len(fcm.sends) == 100


@pytest.mark.parametrize(("lifetime", "token_requests"), [(3600, 1), (60, 2)])
async def test_the_access_token_is_kept_until_a_minute_before_it_expires(
    account: dict[str, str], lifetime: int, token_requests: int
):
    with serving(account, token_lifetime=lifetime) as fcm:
        client = FcmProvider(service_account=account, base_url=fcm.url, token_url=fcm.token_url)
        try:
            for _ in range(2):
                assert (await client.send([push()]))[0].outcome is Outcome.DELIVERED
        finally:
            await client.aclose()
    assert fcm.token_requests == token_requests
    assert len({sent.access_token for sent in fcm.sends}) == token_requests


async def test_a_token_revoked_early_is_replaced_and_the_message_still_delivered(
    fcm: FcmService, provider: FcmProvider
):
    await provider.send([push()])
    fcm.expire_tokens()

    assert await provider.send([push()]) == [Verdict(Outcome.DELIVERED, status=200)]
    assert fcm.token_requests == 2
    assert [sent.status for sent in fcm.sends] == [200, 200]  # the 401 came before any record


async def test_a_401_that_persists_is_a_credential_error_after_one_new_token(
    fcm: FcmService, provider: FcmProvider
):
    fcm.answer(DEVICE, "UNAUTHENTICATED", times=None)

    assert await provider.send([push()]) == [
        Verdict(Outcome.CREDENTIAL_ERROR, "UNAUTHENTICATED", status=401)
    ]
    assert fcm.token_requests == 2
    assert len({sent.access_token for sent in fcm.sends}) == 2


@pytest.mark.parametrize(
    ("answer", "outcome", "reason", "status"),
    [
        ("UNREGISTERED", Outcome.DEVICE_GONE, "UNREGISTERED", 404),
        ("INVALID_TOKEN", Outcome.DEVICE_GONE, "INVALID_ARGUMENT", 400),
        ("INVALID_FIELD", Outcome.FAILED, "INVALID_ARGUMENT", 400),
        ("SENDER_ID_MISMATCH", Outcome.DEVICE_GONE, "SENDER_ID_MISMATCH", 403),
        ("PERMISSION_DENIED", Outcome.CREDENTIAL_ERROR, "PERMISSION_DENIED", 403),
        ("QUOTA_EXCEEDED", Outcome.RETRY, "QUOTA_EXCEEDED", 429),
        ("INTERNAL", Outcome.RETRY, "INTERNAL", 500),
        ("UNAVAILABLE", Outcome.RETRY, "UNAVAILABLE", 503),
    ],
)
async def test_each_fcm_error_maps_to_its_outcome(
    fcm: FcmService,
    provider: FcmProvider,
    answer: str,
    outcome: Outcome,
    reason: str,
    status: int,
):
    fcm.answer(DEVICE, answer, times=None)

    (verdict,) = await provider.send([push()])

    assert (verdict.outcome, verdict.reason, verdict.status) == (outcome, reason, status)
    assert DEVICE not in verdict.reason
    assert fcm.sends[0].access_token not in verdict.reason


@pytest.mark.parametrize(
    ("retry_after", "low", "high"), [("17", 17, 17), ("date", 100, 120)], ids=["seconds", "date"]
)
async def test_a_refusal_once_is_retried_after_what_fcm_said_then_delivered(
    fcm: FcmService, provider: FcmProvider, retry_after: str, low: float, high: float
):
    if retry_after == "date":  # made here: every xdist worker must collect the same test ids
        retry_after = formatdate(time.time() + 120, usegmt=True)
    fcm.answer(DEVICE, "QUOTA_EXCEEDED", times=1, retry_after=retry_after)

    (first,) = await provider.send([push()])
    assert first.outcome is Outcome.RETRY
    assert first.retry_after is not None and low <= first.retry_after <= high
    assert await provider.send([push()]) == [Verdict(Outcome.DELIVERED, status=200)]


async def test_a_batch_answers_each_message_in_order(fcm: FcmService, provider: FcmProvider):
    fcm.answer("gone", "UNREGISTERED")
    fcm.answer("busy", "UNAVAILABLE")
    verdicts = await provider.send([push("fine"), push("gone"), push("busy"), push("fine-2")])
    assert [v.outcome for v in verdicts] == [
        Outcome.DELIVERED,
        Outcome.DEVICE_GONE,
        Outcome.RETRY,
        Outcome.DELIVERED,
    ]


async def test_a_payload_over_4096_bytes_fails_without_being_sent(
    fcm: FcmService, provider: FcmProvider
):
    too_large = push("large", data={"blob": "é" * 2100})  # 2,100 characters, 4,200 bytes

    assert await provider.send([too_large]) == [Verdict(Outcome.FAILED, "payload too large")]
    assert (fcm.token_requests, fcm.sends) == (0, [])
    verdicts = await provider.send([too_large, push("small", data={"blob": "e" * 2100})])
    assert [v.outcome for v in verdicts] == [Outcome.FAILED, Outcome.DELIVERED]
    assert [sent.message["token"] for sent in fcm.sends] == ["small"]


async def test_a_key_google_does_not_know_is_a_credential_error_for_the_whole_batch(
    fcm: FcmService, account: dict[str, str]
):
    forged = {**service_account(), "client_email": account["client_email"]}
    client = FcmProvider(service_account=forged, base_url=fcm.url, token_url=fcm.token_url)
    try:
        verdicts = await client.send([push(f"device-{i}") for i in range(5)])
    finally:
        await client.aclose()

    refused = Verdict(Outcome.CREDENTIAL_ERROR, "token refused: invalid_grant", status=400)
    assert verdicts == [refused] * 5
    assert fcm.token_requests == 1
    assert fcm.sends == []


async def test_another_project_than_the_accounts_is_a_credential_error(
    fcm: FcmService, account: dict[str, str]
):
    other = FcmProvider(
        service_account={**account, "project_id": "someone-else"},
        base_url=fcm.url,
        token_url=fcm.token_url,
    )
    try:
        (verdict,) = await other.send([push()])
    finally:
        await other.aclose()
    assert (verdict.outcome, verdict.status) == (Outcome.CREDENTIAL_ERROR, 403)


@pytest.mark.parametrize("down", ["token endpoint", "fcm"])
async def test_an_endpoint_that_is_down_means_retry(
    fcm: FcmService, account: dict[str, str], down: str
):
    closed = f"http://127.0.0.1:{free_port()}"
    client = FcmProvider(
        service_account=account,
        base_url=closed if down == "fcm" else fcm.url,
        token_url=closed + "/token" if down == "token endpoint" else fcm.token_url,
        timeout=TIMEOUT,
    )
    try:
        verdicts = await client.send([push("one"), push("two")])
    finally:
        await client.aclose()

    assert [v.outcome for v in verdicts] == [Outcome.RETRY, Outcome.RETRY]
    assert all(v.reason.startswith("connection error") for v in verdicts)
    assert fcm.sends == []


def test_a_service_account_json_is_parsed_and_checked(account: dict[str, str]):
    assert parse_service_account(json.dumps(account)) == account


@pytest.mark.parametrize(
    ("change", "complaint"),
    [
        ({"type": "authorized_user"}, "must be a service account"),
        ({"client_email": ""}, "lacks client_email"),
        ({"private_key": "-----BEGIN PRIVATE KEY-----\nnot a key\n"}, "not a PEM private key"),
    ],
)
def test_a_bad_service_account_is_refused_with_a_clear_message(
    account: dict[str, str], change: dict[str, str], complaint: str
):
    with pytest.raises(ValueError, match=complaint) as caught:
        parse_service_account(json.dumps({**account, **change}))
    assert account["private_key"] not in str(caught.value)


@pytest.mark.parametrize("text", ["not json", "[1, 2]"])
def test_what_is_not_a_json_object_is_refused(text: str):
    with pytest.raises(ValueError, match="FCM service account"):
        parse_service_account(text)
