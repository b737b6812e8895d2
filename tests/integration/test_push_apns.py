"""The APNs provider against a loopback HTTP/2 stand-in that checks what Apple checks."""

from __future__ import annotations

import dataclasses
import json
import socket
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from gamekeeper.infra.push.apns import ApnsProvider, valid_device_token
from gamekeeper.infra.push.base import Outcome, PushMessage, Verdict
from support.push.apns import ApnsStandIn, serving

pytestmark = pytest.mark.anyio

TEAM_ID = "TEAM123456"
KEY_ID = "KEY7654321"
TOPIC = "com.example.go"
TOKEN = "5e1f" * 16
DELIVERY_ID = "3f2c4b9e-8a1d-4c6e-9f0b-7d5a2e1c8b4f"
TIMEOUT = 2.0


class Clock:
    """Seconds since the epoch, moved by hand; the provider and the stand-in share it."""

    def __init__(self) -> None:
        self.now = float(int(time.time()))

    def __call__(self) -> float:
        return self.now


def _message(**changes: Any) -> PushMessage:
    message = PushMessage(
        delivery_id=DELIVERY_ID,
        token=TOKEN,
        title="Your move",
        body="Ana played D4",
        type="turn",
        notification_id="n-1",
    )
    return dataclasses.replace(message, **changes)


def _pem(key: ec.EllipticCurvePrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


@pytest.fixture
def key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def apns(key: ec.EllipticCurvePrivateKey, clock: Clock) -> Iterator[ApnsStandIn]:
    stand_in = ApnsStandIn(
        team_id=TEAM_ID, key_id=KEY_ID, public_key=key.public_key(), topic=TOPIC, clock=clock
    )
    with serving(stand_in):
        yield stand_in


def _provider(apns: ApnsStandIn, key: ec.EllipticCurvePrivateKey, **changes: Any) -> ApnsProvider:
    options: dict[str, Any] = {
        "key_p8": _pem(key),
        "key_id": KEY_ID,
        "team_id": TEAM_ID,
        "topic": TOPIC,
        "base_url": apns.url,
        "verify": apns.client_tls,
        "timeout": TIMEOUT,
        "clock": apns.clock,
        **changes,
    }
    return ApnsProvider(**options)


@pytest.fixture
async def provider(
    apns: ApnsStandIn, key: ec.EllipticCurvePrivateKey
) -> AsyncIterator[ApnsProvider]:
    provider = _provider(apns, key)
    yield provider
    await provider.aclose()


async def _send(provider: ApnsProvider, **changes: Any) -> Verdict:
    [verdict] = await provider.send([_message(**changes)])
    return verdict


# --- what goes out -------------------------------------------------------------------------


async def test_an_alert_reaches_apns_with_apples_headers_and_payload(
    apns: ApnsStandIn, provider: ApnsProvider, clock: Clock
):
    verdict = await _send(
        provider,
        data={"gameId": 42, "move": "D4"},
        deep_link="ogs://games/42",
        ttl=3600,
        collapse_key="game-42",
    )

    assert verdict == Verdict(Outcome.DELIVERED, status=200)
    [request] = apns.accepted
    assert request.token == TOKEN
    assert request.headers[":method"] == "POST"
    assert request.headers[":path"] == f"/3/device/{TOKEN}"
    assert request.headers["apns-topic"] == TOPIC
    assert request.headers["apns-push-type"] == "alert"
    assert request.headers["apns-id"] == DELIVERY_ID
    assert request.headers["apns-priority"] == "10"
    assert request.headers["apns-collapse-id"] == "game-42"
    assert request.headers["apns-expiration"] == str(int(clock.now) + 3600)
    assert (
        request.body
        == json.dumps(
            {
                "aps": {
                    "alert": {"title": "Your move", "body": "Ana played D4"},
                    "sound": "default",
                },
                "id": "n-1",
                "type": "turn",
                "data": {"gameId": 42, "move": "D4"},
                "deepLink": "ogs://games/42",
            },
            separators=(",", ":"),
        ).encode()
    )


@pytest.mark.parametrize(
    ("changes", "present", "absent"),
    [
        ({"priority": "normal"}, {"apns-priority": "5"}, ["apns-expiration", "apns-collapse-id"]),
        ({"ttl": 0}, {"apns-expiration": "0"}, ["apns-collapse-id"]),
        ({"collapse_key": "k" * 64}, {"apns-collapse-id": "k" * 64}, ["apns-expiration"]),
        ({"collapse_key": "k" * 65}, {}, ["apns-collapse-id"]),  # over Apple's 64 bytes
    ],
)
async def test_optional_headers_follow_the_message(
    apns: ApnsStandIn,
    provider: ApnsProvider,
    changes: dict[str, Any],
    present: dict[str, str],
    absent: list[str],
):
    assert (await _send(provider, **changes)).outcome is Outcome.DELIVERED

    [request] = apns.accepted
    assert present.items() <= request.headers.items()
    assert not set(absent) & request.headers.keys()
    assert request.payload.keys() == {"aps", "id", "type"}  # no data, no deep link


async def test_a_delivery_id_that_is_not_a_uuid_gets_the_same_apns_id_on_every_retry(
    apns: ApnsStandIn, provider: ApnsProvider
):
    for delivery_id in ("delivery-17", "delivery-17", "delivery-18"):
        assert (await _send(provider, delivery_id=delivery_id)).outcome is Outcome.DELIVERED

    first, retried, other = (request.headers["apns-id"] for request in apns.accepted)
    assert first == retried != other
    assert str(uuid.UUID(first)) == first


async def test_a_batch_goes_out_as_concurrent_streams_on_one_connection(
    apns: ApnsStandIn, provider: ApnsProvider
):
    ids = [str(uuid.uuid4()) for _ in range(300)]

    verdicts = await provider.send([_message(delivery_id=i) for i in ids])

    assert [v.outcome for v in verdicts] == [Outcome.DELIVERED] * 300
    assert sorted(r.headers["apns-id"] for r in apns.accepted) == sorted(ids)
    assert apns.connections == 1
    assert len({r.stream_id for r in apns.accepted}) == 300
    assert len(apns.provider_tokens) == 1  # one JWT for the whole batch


# --- what comes back -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "reason", "outcome"),
    [
        (400, "BadDeviceToken", Outcome.DEVICE_GONE),
        (400, "DeviceTokenNotForTopic", Outcome.DEVICE_GONE),
        (410, "Unregistered", Outcome.DEVICE_GONE),
        (410, "ExpiredToken", Outcome.DEVICE_GONE),
        (403, "InvalidProviderToken", Outcome.CREDENTIAL_ERROR),
        (403, "ExpiredProviderToken", Outcome.CREDENTIAL_ERROR),
        (429, "TooManyRequests", Outcome.RETRY),
        (429, "TooManyProviderTokenUpdates", Outcome.RETRY),
        (500, "InternalServerError", Outcome.RETRY),
        (503, "ServiceUnavailable", Outcome.RETRY),
        (413, "PayloadTooLarge", Outcome.FAILED),
        (400, "BadTopic", Outcome.FAILED),
        (400, "TopicDisallowed", Outcome.FAILED),
        (400, "BadCollapseId", Outcome.FAILED),
    ],
)
async def test_apples_answers_become_verdicts(
    apns: ApnsStandIn, provider: ApnsProvider, status: int, reason: str, outcome: Outcome
):
    apns.answer(TOKEN, status, reason)

    verdict = await _send(provider)

    assert verdict == Verdict(outcome, reason, status=status)
    assert TOKEN not in verdict.reason


async def test_a_retry_after_is_passed_on_and_the_retry_is_delivered(
    apns: ApnsStandIn, provider: ApnsProvider
):
    apns.answer(TOKEN, 503, "ServiceUnavailable", once=True, retry_after=30)

    assert await _send(provider) == Verdict(
        Outcome.RETRY, "ServiceUnavailable", retry_after=30.0, status=503
    )
    assert await _send(provider) == Verdict(Outcome.DELIVERED, status=200)
    assert [r.headers["apns-id"] for r in apns.requests] == [DELIVERY_ID, DELIVERY_ID]


@pytest.mark.parametrize(
    ("wrong", "verdict"),
    [
        ("key_p8", Verdict(Outcome.CREDENTIAL_ERROR, "InvalidProviderToken", status=403)),
        ("key_id", Verdict(Outcome.CREDENTIAL_ERROR, "InvalidProviderToken", status=403)),
        ("team_id", Verdict(Outcome.CREDENTIAL_ERROR, "InvalidProviderToken", status=403)),
        ("topic", Verdict(Outcome.FAILED, "TopicDisallowed", status=400)),
    ],
)
async def test_credentials_apple_does_not_know_are_refused_without_blaming_the_device(
    apns: ApnsStandIn, key: ec.EllipticCurvePrivateKey, wrong: str, verdict: Verdict
):
    other = {
        "key_p8": _pem(ec.generate_private_key(ec.SECP256R1())),
        "key_id": "OTHERKEY00",
        "team_id": "OTHERTEAM0",
        "topic": "com.example.chess",
    }
    provider = _provider(apns, key, **{wrong: other[wrong]})
    try:
        assert await _send(provider) == verdict
    finally:
        await provider.aclose()
    assert apns.accepted == []


# --- the provider token --------------------------------------------------------------------


async def test_the_provider_token_is_reused_for_50_minutes_then_renewed(
    apns: ApnsStandIn, provider: ApnsProvider, clock: Clock
):
    assert (await _send(provider)).outcome is Outcome.DELIVERED
    clock.now += 50 * 60 - 1
    assert (await _send(provider)).outcome is Outcome.DELIVERED
    assert len(apns.provider_tokens) == 1

    clock.now += 1
    assert (await _send(provider)).outcome is Outcome.DELIVERED

    assert len(apns.provider_tokens) == 2
    renewed = jwt.decode(apns.provider_tokens[1], options={"verify_signature": False})
    assert renewed == {"iss": TEAM_ID, "iat": int(clock.now)}
    assert len(apns.accepted) == 3


async def test_an_expired_provider_token_is_replaced_on_the_next_send(
    apns: ApnsStandIn, provider: ApnsProvider, clock: Clock
):
    apns.answer(TOKEN, 403, "ExpiredProviderToken", once=True)
    assert (await _send(provider)).outcome is Outcome.CREDENTIAL_ERROR

    clock.now += 60
    assert (await _send(provider)).outcome is Outcome.DELIVERED

    assert len(apns.provider_tokens) == 2
    [accepted] = apns.accepted
    assert accepted.headers["authorization"] == f"bearer {apns.provider_tokens[1]}"
    renewed = jwt.decode(apns.provider_tokens[1], options={"verify_signature": False})
    assert renewed["iat"] == int(clock.now)


async def test_other_refusals_keep_the_provider_token(apns: ApnsStandIn, provider: ApnsProvider):
    apns.answer(TOKEN, 403, "InvalidProviderToken", once=True)
    assert (await _send(provider)).outcome is Outcome.CREDENTIAL_ERROR
    assert (await _send(provider)).outcome is Outcome.DELIVERED
    assert len(apns.provider_tokens) == 1  # minting more often than every 20 min is throttled


# --- refused before sending ----------------------------------------------------------------


async def test_an_oversized_payload_fails_without_a_request(
    apns: ApnsStandIn, provider: ApnsProvider
):
    assert (await _send(provider, body="")).outcome is Outcome.DELIVERED
    size = len(apns.accepted[0].body)  # the payload around an empty body

    exactly = await _send(provider, body="x" * (4096 - size))
    over = await _send(provider, body="x" * (4097 - size))

    assert exactly.outcome is Outcome.DELIVERED
    assert len(apns.accepted[1].body) == 4096
    assert over == Verdict(Outcome.FAILED, "payload too large")
    assert len(apns.requests) == 2


async def test_a_malformed_device_token_is_gone_without_a_request(
    apns: ApnsStandIn, provider: ApnsProvider
):
    assert await _send(provider, token="../../3/device/x") == Verdict(
        Outcome.DEVICE_GONE, "BadDeviceToken"
    )
    assert apns.requests == []
    assert apns.connections == 0


@pytest.mark.parametrize(
    ("token", "valid"),
    [
        ("ab" * 16, True),
        ("0123456789ABCDEF" * 4, True),
        ("a" * 200, True),
        ("a" * 31, False),
        ("a" * 201, False),
        ("g" * 64, False),
        ("a" * 64 + "\n", False),
        ("", False),
    ],
)
async def test_device_tokens_are_32_to_200_hex_digits(token: str, valid: bool):
    assert valid_device_token(token) is valid


# --- when APNs cannot be reached -----------------------------------------------------------


async def test_apns_going_down_means_retry(key: ec.EllipticCurvePrivateKey, clock: Clock):
    stand_in = ApnsStandIn(
        team_id=TEAM_ID, key_id=KEY_ID, public_key=key.public_key(), topic=TOPIC, clock=clock
    )
    with serving(stand_in):
        provider = _provider(stand_in, key)
        assert (await _send(provider)).outcome is Outcome.DELIVERED
    try:
        verdict = await _send(provider)  # the pooled connection is gone, and so is the server
    finally:
        await provider.aclose()

    assert verdict.outcome is Outcome.RETRY
    assert verdict.reason.startswith("connection error")
    assert len(stand_in.requests) == 1


async def test_a_silent_apns_means_retry_after_the_timeout(
    apns: ApnsStandIn, key: ec.EllipticCurvePrivateKey
):
    with socket.socket() as silent:  # accepts connections (the backlog) and never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        url = f"https://127.0.0.1:{silent.getsockname()[1]}"
        provider = _provider(apns, key, base_url=url, timeout=0.3)
        try:
            started = time.monotonic()
            verdict = await _send(provider)
            elapsed = time.monotonic() - started
        finally:
            await provider.aclose()

    assert verdict == Verdict(Outcome.RETRY, "timeout")
    assert elapsed < TIMEOUT
