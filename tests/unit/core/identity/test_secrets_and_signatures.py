"""Secrets at rest and the OGP signature, without storage."""

from __future__ import annotations

import hashlib
import hmac as std_hmac

import pytest

from gamekeeper.core.errors import Unauthorized
from gamekeeper.core.identity import hmac_auth
from gamekeeper.core.identity.keys import new_key
from gamekeeper.core.identity.types import KeyKind
from gamekeeper.core.secrets import SecretBox, hash_secret


def test_keys_carry_their_kind_prefix_and_256_bits():
    key, prefix = new_key(KeyKind.OPERATOR)
    assert key.startswith("sk_live_") and key.startswith(prefix)
    assert len(key) - len("sk_live_") >= 43
    assert new_key(KeyKind.OPERATOR)[0] != key
    assert hash_secret(key) == hashlib.sha256(key.encode()).hexdigest()


def test_secret_box_round_trips_and_detects_tampering_or_another_row():
    box = SecretBox("m" * 40)
    sealed = box.seal("top secret", context="dev-1")
    assert "top secret" not in sealed
    assert box.open(sealed, context="dev-1") == "top secret"
    with pytest.raises(ValueError):
        box.open(sealed, context="dev-2")  # copied onto another developer's row
    with pytest.raises(ValueError):
        SecretBox("n" * 40).open(sealed, context="dev-1")  # another installation's key
    tampered = sealed[:-4] + ("AAAA" if not sealed.endswith("AAAA") else "BBBB")
    with pytest.raises(ValueError):
        box.open(tampered, context="dev-1")


def test_signature_matches_an_independent_computation():
    expected = std_hmac.new(b"s3cret", b"post\n/games\n1700000000", hashlib.sha256).hexdigest()
    assert hmac_auth.sign("s3cret", "POST", "/Games", "1700000000") == expected


@pytest.mark.parametrize(
    "value",
    [
        "HMAC-SHA256 apiKey=k, signature=ABC, timestamp=1",
        "HMAC-SHA256 apiKey=k signature=ABC timestamp=1",
        "HMAC-SHA256 timestamp=1,signature=ABC,apiKey=k",
    ],
)
def test_header_separators(value):
    parsed = hmac_auth.parse_header(value)
    assert (parsed.api_key, parsed.signature, parsed.timestamp) == ("k", "abc", "1")


@pytest.mark.parametrize(
    "value", ["Bearer abc", "HMAC-SHA256 apiKey=k, signature=s", "HMAC-SHA256", ""]
)
def test_malformed_headers(value):
    with pytest.raises(Unauthorized):
        hmac_auth.parse_header(value)


def test_timestamp_window_in_seconds_and_milliseconds():
    now = 1_700_000_000.0
    for ok in ("1700000000", "1699999701", "1700000299", "1700000000000", "1699999700500"):
        hmac_auth.check_timestamp(ok, now)
    for bad in ("1699999600", "1700000400", "1699999000000", "-5", "abc", ""):
        with pytest.raises(Unauthorized):
            hmac_auth.check_timestamp(bad, now)
