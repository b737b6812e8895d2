"""A Web Push subscription is checked once, in core: by device registration and by the sender.

``parse_subscription`` says what is wrong with a bad one; registering a ``web`` device stores the
canonical JSON, so the same browser registered as an object or as JSON text is one device.
"""

from __future__ import annotations

import base64
import json

import pytest

from gamekeeper.core.notify.errors import InvalidDeviceToken
from gamekeeper.core.notify.subscription import parse_subscription
from gamekeeper.core.notify.tokens import device_token
from gamekeeper.core.notify.types import Platform, ProviderName


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


P256DH = b64url(b"\x04" + bytes.fromhex(
    "6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296"
    "4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5"
))  # fmt: skip  # the P-256 generator point
AUTH = b64url(bytes(range(16)))
GOOD = {"endpoint": "https://push.example/send/abc", "keys": {"p256dh": P256DH, "auth": AUTH}}


def with_keys(**keys: object) -> dict[str, object]:
    return {**GOOD, "keys": {**GOOD["keys"], **keys}}  # type: ignore[dict-item]


def test_a_subscription_is_accepted_as_an_object_or_its_json():
    from_dict = parse_subscription({**GOOD, "expirationTime": None})
    from_json = parse_subscription(json.dumps(GOOD))
    assert from_dict == from_json
    assert from_dict.endpoint == GOOD["endpoint"]
    assert (from_dict.p256dh[0], len(from_dict.p256dh), from_dict.auth) == (4, 65, bytes(range(16)))
    assert parse_subscription(from_dict.to_json()) == from_dict
    assert "abc" not in repr(from_dict)  # its parts are secrets


@pytest.mark.parametrize(
    ("value", "complaint"),
    [
        ({**GOOD, "endpoint": "http://push.example/send/abc"}, "https"),
        ({**GOOD, "endpoint": "https:///no-host"}, "host"),
        ({**GOOD, "endpoint": "/relative/path"}, "https"),
        ({**GOOD, "endpoint": "https://u:p@push.example/x"}, "credentials"),
        ({**GOOD, "endpoint": "https://push.example/" + "a" * 2048}, "2048"),
        ({**GOOD, "endpoint": "https://push.example/\x00abc"}, "printable"),
        ({**GOOD, "endpoint": "https://push.example:0/x"}, "port"),
        ({**GOOD, "endpoint": "https://push.example:99999/x"}, "valid URL"),
        ({**GOOD, "endpoint": 42}, "endpoint"),
        ({"keys": GOOD["keys"]}, "endpoint"),
        ({"endpoint": GOOD["endpoint"]}, "keys"),
        (with_keys(p256dh=None), "p256dh"),
        ({**GOOD, "keys": {"p256dh": P256DH}}, "auth"),
        (with_keys(p256dh=P256DH[:-3]), "65 bytes, not 63"),
        (with_keys(auth=b64url(bytes(15))), "16 bytes"),
        (with_keys(p256dh=b64url(b"\x03" + bytes(64))), "uncompressed"),
        (with_keys(p256dh=b64url(b"\x04" + bytes(63) + b"\x01")), "curve"),
        (with_keys(auth=AUTH[:10] + "\x00" + AUTH[11:]), "base64url"),
        (with_keys(auth=AUTH[:10] + "+/" + AUTH[12:]), "base64url"),
        ("not json", "JSON"),
        ('{"endpoint": "https://push.example/x",\x00 "keys": {}}', "JSON"),
        ("[" * 3000, "JSON"),
        ("x" * 5000, "longer"),
        (["https://push.example/x"], "object"),
        (None, "object"),
    ],
)
def test_a_bad_subscription_is_refused_with_a_clear_message(value, complaint):
    with pytest.raises(ValueError, match=complaint):
        parse_subscription(value)


@pytest.mark.parametrize(
    ("endpoint", "origin"),
    [
        ("https://push.example/send/abc", "https://push.example"),
        ("https://push.example:443/send/abc", "https://push.example"),
        ("https://Push.Example:8443/send/abc", "https://push.example:8443"),
        ("https://[2001:db8::1]:8443/send/abc", "https://[2001:db8::1]:8443"),
    ],
)
def test_the_vapid_audience_is_the_endpoints_origin(endpoint, origin):
    assert parse_subscription({**GOOD, "endpoint": endpoint}).origin == origin


def test_a_web_device_is_stored_as_the_canonical_subscription_whatever_form_it_came_in():
    padded = with_keys(p256dh=P256DH + "=", auth=AUTH + "==")
    forms = [GOOD, json.dumps(GOOD), {**padded, "expirationTime": None}, json.dumps(padded)]
    stored = {device_token(Platform.WEB, form) for form in forms}
    canonical = json.dumps(GOOD, separators=(",", ":"))
    assert stored == {(ProviderName.WEBPUSH, canonical)}  # one device, not four


@pytest.mark.parametrize(
    ("token", "complaint"),
    [
        ({**GOOD, "endpoint": "http://push.example/send/abc"}, "must be an https URL"),
        (with_keys(auth=b64url(bytes(15))), "keys.auth must be 16 bytes, not 15"),
        ("not json", "subscription is not valid JSON"),
        ("ExponentPushToken[abc]", "subscription is not valid JSON"),  # not a web token
    ],
)
def test_a_bad_web_device_token_is_an_invalid_device_token_saying_why(token, complaint):
    with pytest.raises(InvalidDeviceToken) as refused:
        device_token(Platform.WEB, token)
    assert complaint in refused.value.message
    assert refused.value.code == "invalid_device_token"
    assert "push.example" not in refused.value.message  # an endpoint is a capability
