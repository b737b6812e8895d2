"""The Web Push provider against a push service stand-in on loopback over HTTPS.

The stand-in decrypts each push with the browser's private key and verifies the VAPID JWT, as a
real push service does, so a payload or header the provider gets wrong is refused, not recorded.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import AsyncIterator, Iterator
from email.utils import formatdate
from typing import Any

import jwt
import pytest
import trustme
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    load_pem_private_key,
)

from gamekeeper.core.notify.subscription import parse_subscription
from gamekeeper.infra.http import SafeHttpClient
from gamekeeper.infra.push.base import Outcome, PushMessage
from gamekeeper.infra.push.webpush import WebPushProvider, generate_vapid_key, public_key_b64url
from support.loopback import free_port
from support.push.webpush import WebPushService, serving

pytestmark = pytest.mark.anyio

LOOPBACK = ["127.0.0.0/8"]
SUBJECT = "mailto:ops@gamekeeper.test"


class Clock:
    """Seconds since the epoch, moved by hand (starts at the real time: the stand-in checks it)."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def vapid_key() -> str:
    return generate_vapid_key()


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def service(ca: trustme.CA) -> Iterator[WebPushService]:
    with serving(ca) as stand_in:
        yield stand_in


@pytest.fixture
async def client(service: WebPushService) -> AsyncIterator[SafeHttpClient]:
    safe = SafeHttpClient(allowed_networks=LOOPBACK, verify=service.client_tls)
    yield safe
    await safe.aclose()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def provider(vapid_key: str, client: SafeHttpClient, clock: Clock) -> WebPushProvider:
    return WebPushProvider(vapid_private_key=vapid_key, subject=SUBJECT, client=client, clock=clock)


def message(token: str, **changes: Any) -> PushMessage:
    base = {"title": "Your turn", "body": "Alice moved her knight", "type": "turn"}
    ids = {"delivery_id": "delivery-1", "notification_id": "notification-1"}
    return PushMessage(token=token, **{**base, **ids, **changes})


def vapid_token(push_headers: dict[str, str]) -> str:
    params = dict(p.strip().split("=", 1) for p in push_headers["authorization"][6:].split(","))
    return params["t"]


# --- Delivery ----------------------------------------------------------------------------------


async def test_the_browser_decrypts_exactly_what_was_sent(provider, service, vapid_key):
    browser = service.browser()
    data = {"gameId": "g-42", "moves": [1, 2, 3], "note": "échec ♞"}
    sent = message(
        browser.token(),
        data=data,
        deep_link="game://match/42",
        ttl=600,
        priority="normal",
        collapse_key="match-42_turn",
    )
    [verdict] = await provider.send([sent])
    assert (verdict.outcome, verdict.status) == (Outcome.DELIVERED, 201)
    [push] = service.accepted()
    assert push.payload == {
        "id": "notification-1",
        "type": "turn",
        "title": "Your turn",
        "body": "Alice moved her knight",
        "data": data,
        "deepLink": "game://match/42",
    }
    assert b"Alice" not in push.body  # only the browser can read it
    assert push.path == f"/push/{browser.id}"
    assert push.headers["content-encoding"] == "aes128gcm"
    assert (push.headers["ttl"], push.headers["urgency"]) == ("600", "normal")
    assert push.headers["topic"] == "match-42_turn"
    assert push.claims is not None
    assert (push.claims["aud"], push.claims["sub"]) == (service.url, SUBJECT)
    assert time.time() + 11 * 3600 < push.claims["exp"] <= time.time() + 12 * 3600
    assert push.public_key == public_key_b64url(vapid_key)


@pytest.mark.parametrize("collapse_key", [None, "has spaces", "x" * 33, "dots.not.allowed"])
async def test_defaults_and_no_topic_for_a_collapse_key_push_services_refuse(
    provider, service, collapse_key
):
    browser = service.browser()
    [verdict] = await provider.send([message(browser.token(), collapse_key=collapse_key)])
    assert verdict.outcome is Outcome.DELIVERED
    [push] = service.accepted()
    assert set(push.payload) == {"id", "type", "title", "body"}  # no data, no deepLink
    assert (push.headers["ttl"], push.headers["urgency"]) == ("2419200", "high")
    assert "topic" not in push.headers


async def test_a_batch_gets_one_verdict_per_message_in_order(provider, service):
    browsers = [service.browser() for _ in range(4)]
    service.answer(browsers[1], 410)
    tokens = [b.token() for b in browsers]
    tokens[2] = json.dumps({"endpoint": "http://insecure.example/push/1", "keys": {}})
    tokens[3] = parse_subscription(browsers[3].subscription()).to_json()  # as the API stores it
    verdicts = await provider.send(
        [message(t, notification_id=f"n-{i}") for i, t in enumerate(tokens)]
    )
    assert [v.outcome for v in verdicts] == [
        Outcome.DELIVERED, Outcome.DEVICE_GONE, Outcome.DEVICE_GONE, Outcome.DELIVERED,
    ]  # fmt: skip
    assert verdicts[2].reason == "malformed subscription"
    assert sorted(p.payload["id"] for p in service.accepted()) == ["n-0", "n-3"]


# --- What the push service answers -------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        (404, Outcome.DEVICE_GONE),
        (410, Outcome.DEVICE_GONE),
        (500, Outcome.RETRY),
        (503, Outcome.RETRY),
        (413, Outcome.FAILED),
        (400, Outcome.FAILED),
        (401, Outcome.CREDENTIAL_ERROR),
        (403, Outcome.CREDENTIAL_ERROR),
    ],
)
async def test_each_answer_of_the_push_service_has_its_outcome(provider, service, status, outcome):
    browser = service.browser()
    service.answer(browser, status)
    [verdict] = await provider.send([message(browser.token())])
    assert (verdict.outcome, verdict.status) == (outcome, status)
    assert verdict.reason.startswith(str(status))
    assert browser.id not in verdict.reason and browser.endpoint not in verdict.reason
    assert service.accepted() == []


async def test_a_failure_told_once_is_delivered_on_the_retry(provider, service):
    browser = service.browser()
    service.answer(browser, 500)
    [first] = await provider.send([message(browser.token())])
    [second] = await provider.send([message(browser.token())])
    assert (first.outcome, second.outcome) == (Outcome.RETRY, Outcome.DELIVERED)
    assert len(service.accepted()) == 1


@pytest.mark.parametrize(
    ("header", "expected"),
    [("120", 120.0), ("a date 300 s ahead", 300.0), (None, None), ("soon", None)],
)
async def test_429_is_retried_after_what_retry_after_says(
    provider, service, clock, header, expected
):
    browser = service.browser()
    if header == "a date 300 s ahead":
        header = formatdate(clock.now + 300, usegmt=True)
    service.answer(browser, 429, retry_after=header)
    [verdict] = await provider.send([message(browser.token())])
    assert (verdict.outcome, verdict.status) == (Outcome.RETRY, 429)
    assert verdict.retry_after == (expected and pytest.approx(expected, abs=1.0))


async def test_a_payload_too_large_for_the_push_service_fails_without_retry(provider, service):
    browser = service.browser()
    [verdict] = await provider.send([message(browser.token(), body="x" * 5000)])
    assert (verdict.outcome, verdict.status) == (Outcome.FAILED, 413)
    assert verdict.reason == "413 payload too large"
    assert service.accepted() == []


async def test_an_unreachable_push_service_is_retried(provider, service):
    browser = service.browser()
    gone = dict(browser.subscription(), endpoint=f"https://127.0.0.1:{free_port()}/push/secret-id")
    [verdict] = await provider.send([message(json.dumps(gone))])
    assert verdict.outcome is Outcome.RETRY
    assert verdict.status is None
    assert "secret-id" not in verdict.reason


async def test_a_broken_answer_is_retried_and_its_reason_never_names_the_endpoint(
    provider, service
):
    browser = service.browser()
    service.answer(browser, 200, garbled=True)
    [verdict] = await provider.send([message(browser.token())])
    assert verdict.outcome is Outcome.RETRY
    assert verdict.reason.startswith("ProtocolError")
    assert browser.id not in verdict.reason  # the client's error quotes the URL; we do not


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
async def test_an_endpoint_at_a_private_address_fails_and_is_never_retried(
    vapid_key, service, host
):
    browser = service.browser()
    private = dict(browser.subscription(), endpoint=browser.endpoint.replace("127.0.0.1", host))
    strict = SafeHttpClient(verify=service.client_tls)  # no allowed networks
    provider = WebPushProvider(vapid_private_key=vapid_key, subject=SUBJECT, client=strict)
    try:
        [verdict] = await provider.send([message(json.dumps(private))])
    finally:
        await strict.aclose()
    assert verdict.outcome is Outcome.FAILED
    assert "not a public address" in verdict.reason
    assert browser.id not in verdict.reason
    assert service.pushes == []  # refused before any connection


@pytest.mark.parametrize("token", ["", "not json", '{"endpoint": "https://x.example/p"}', "[1]"])
async def test_a_malformed_subscription_is_a_gone_device(provider, service, token):
    [verdict] = await provider.send([message(token)])
    assert (verdict.outcome, verdict.reason) == (Outcome.DEVICE_GONE, "malformed subscription")
    assert service.pushes == []


# --- VAPID ------------------------------------------------------------------------------------


async def test_one_jwt_per_push_service_reused_until_an_hour_before_it_expires(
    provider, service, ca, clock, vapid_key
):
    first, second = service.browser(), service.browser()
    await provider.send([message(first.token())])
    await provider.send([message(second.token())])
    with serving(ca) as other_service:
        other = other_service.browser()
        [elsewhere] = await provider.send([message(other.token())])
        [other_push] = other_service.accepted()
    clock.now += 10.5 * 3600
    await provider.send([message(first.token())])
    clock.now += 1 * 3600  # 11.5 h: less than an hour left
    [renewed] = await provider.send([message(first.token())])
    assert (elsewhere.outcome, renewed.outcome) == (Outcome.DELIVERED, Outcome.DELIVERED)
    tokens = [vapid_token(p.headers) for p in service.accepted()]
    assert tokens[0] == tokens[1] == tokens[2] != tokens[3]
    assert vapid_token(other_push.headers) not in tokens
    assert other_push.claims is not None and other_push.claims["aud"] == other_service.url
    keys = {p.public_key for p in [*service.accepted(), other_push]}
    assert keys == {public_key_b64url(vapid_key)}  # what browsers subscribe with signs


def forged_vapid(
    service: WebPushService, vapid_key: str, *, signer: str = "", exp_in: int = 3600, **claims: str
) -> str:
    """A VAPID header with ``k`` of ``vapid_key``, its JWT signed by ``signer`` (default: it)."""
    key = load_pem_private_key((signer or vapid_key).encode(), password=None)
    good = {"aud": service.url, "exp": int(time.time()) + exp_in, "sub": SUBJECT}
    token = jwt.encode({**good, **claims}, key, algorithm="ES256")  # type: ignore[arg-type]
    return f"vapid t={token}, k={public_key_b64url(vapid_key)}"


@pytest.mark.parametrize(
    ("forgery", "problem"),
    [
        ({"signer": generate_vapid_key()}, "Signature verification failed"),
        ({"aud": "https://push.example"}, "Audience doesn't match"),
        ({"exp_in": -60}, "expired"),
        ({"exp_in": 25 * 3600}, "24 h"),
        ({"sub": "ops"}, "sub"),
    ],
)
async def test_the_stand_in_refuses_a_vapid_header_a_push_service_refuses(
    service, client, vapid_key, forgery, problem
):
    browser = service.browser()
    headers = {"Authorization": forged_vapid(service, vapid_key, **forgery), "TTL": "60"}
    answer = await client.request("POST", browser.endpoint, headers=headers, content=b"x")
    assert answer.status == 401
    [push] = service.pushes
    assert problem in push.problem


async def test_the_stand_in_refuses_a_body_it_cannot_decrypt(service, client, vapid_key):
    browser = service.browser()
    headers = {"Authorization": forged_vapid(service, vapid_key), "TTL": "60"}
    headers["Content-Encoding"] = "aes128gcm"
    answer = await client.request("POST", browser.endpoint, headers=headers, content=b"\0" * 100)
    assert answer.status == 400
    assert service.accepted() == []


# --- The VAPID key ---------------------------------------------------------------------------


def test_the_public_key_is_the_uncompressed_point_browsers_expect(vapid_key):
    p384 = ec.generate_private_key(ec.SECP384R1())
    p384_pem = p384.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()).decode()
    raw = base64.urlsafe_b64decode(public_key_b64url(vapid_key) + "=")
    assert (len(raw), raw[0]) == (65, 4)
    assert "=" not in public_key_b64url(vapid_key)
    with pytest.raises(ValueError, match="P-256"):
        WebPushProvider(vapid_private_key=p384_pem, subject=SUBJECT, client=SafeHttpClient())
    with pytest.raises(ValueError, match="subject"):
        WebPushProvider(vapid_private_key=vapid_key, subject="ops", client=SafeHttpClient())
