"""The OGP request signature: HMAC-SHA256 over method, path and timestamp."""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass

from gamekeeper.core.errors import Unauthorized
from gamekeeper.core.secrets import constant_time_equal

SCHEME = "HMAC-SHA256"
WINDOW_SECONDS = 300
# Timestamps above this are milliseconds: 1e11 seconds is the year 5138.
_MILLISECONDS_FROM = 100_000_000_000
# Seconds take 10 digits and milliseconds 13 until the year 2286; anything longer is refused
# before it becomes an integer (a 5,000-digit one is slow to parse and too big for a float).
MAX_TIMESTAMP_DIGITS = 16
_TIMESTAMP = re.compile(rf"[0-9]{{1,{MAX_TIMESTAMP_DIGITS}}}")
_PART = re.compile(r"(apiKey|signature|timestamp)=([^,\s]+)")


class SignatureReused(Unauthorized):
    """A state-changing request came with a signature already used: the body and query are
    not signed, so a replay could carry another change."""

    code = "replayed_signature"
    message = (
        "This signature was already used; sign every request that changes something "
        "with a fresh timestamp (milliseconds tell apart requests in the same second)"
    )


@dataclass(frozen=True, slots=True)
class SignedRequest:
    api_key: str
    signature: str
    timestamp: str


def string_to_sign(method: str, path: str, timestamp: str) -> str:
    return f"{method.lower()}\n{path.lower()}\n{timestamp}"


def sign(secret: str, method: str, path: str, timestamp: str) -> str:
    """Hex HMAC-SHA256 of the string to sign."""
    message = string_to_sign(method, path, timestamp).encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def header_value(api_key: str, secret: str, method: str, path: str, timestamp: str) -> str:
    signature = sign(secret, method, path, timestamp)
    return f"{SCHEME} apiKey={api_key}, signature={signature}, timestamp={timestamp}"


def parse_header(value: str) -> SignedRequest:
    """Parse ``HMAC-SHA256 apiKey=…, signature=…, timestamp=…`` (commas optional)."""
    scheme, _, rest = value.strip().partition(" ")
    if scheme != SCHEME:
        raise Unauthorized("Authorization must use the HMAC-SHA256 scheme", code="invalid_auth")
    parts = dict(_PART.findall(rest))
    if set(parts) != {"apiKey", "signature", "timestamp"}:
        raise Unauthorized(
            "Authorization must carry apiKey, signature and timestamp", code="invalid_auth"
        )
    return SignedRequest(parts["apiKey"], parts["signature"].lower(), parts["timestamp"])


def check_timestamp(timestamp: str, now: float) -> float:
    """Accept seconds or milliseconds within the window around ``now``; returns the seconds."""
    # ASCII digits only: str.isdigit() also admits "²³", which int() then refuses.
    if not _TIMESTAMP.fullmatch(timestamp):
        raise Unauthorized(
            f"The signature timestamp must be 1 to {MAX_TIMESTAMP_DIGITS} digits 0-9 "
            "(seconds or milliseconds since 1970)",
            code="invalid_signature",
        )
    value = int(timestamp)
    seconds = value / 1000 if value >= _MILLISECONDS_FROM else float(value)
    if abs(now - seconds) > WINDOW_SECONDS:
        raise Unauthorized(
            "The signature timestamp is more than 5 minutes from server time",
            code="expired_signature",
        )
    return seconds


def verify(secret: str, request: SignedRequest, method: str, path: str) -> None:
    expected = sign(secret, method, path, request.timestamp)
    if not constant_time_equal(expected, request.signature):
        raise Unauthorized("The signature does not match", code="invalid_signature")
