"""The OGP request signature: HMAC-SHA256 over method, path and timestamp."""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass

from gamekeeper.core.errors import Unauthorized

SCHEME = "HMAC-SHA256"
WINDOW_SECONDS = 300
# Timestamps above this are milliseconds: 1e11 seconds is the year 5138.
_MILLISECONDS_FROM = 100_000_000_000
_PART = re.compile(r"(apiKey|signature|timestamp)=([^,\s]+)")


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


def check_timestamp(timestamp: str, now: float) -> None:
    """Accept seconds or milliseconds within the window around ``now``."""
    if not timestamp.isdigit():
        raise Unauthorized("The signature timestamp is not a number", code="invalid_signature")
    value = int(timestamp)
    seconds = value / 1000 if value >= _MILLISECONDS_FROM else value
    if abs(now - seconds) > WINDOW_SECONDS:
        raise Unauthorized(
            "The signature timestamp is more than 5 minutes from server time",
            code="expired_signature",
        )


def verify(secret: str, request: SignedRequest, method: str, path: str) -> None:
    expected = sign(secret, method, path, request.timestamp)
    if not hmac.compare_digest(expected.encode(), request.signature.encode()):
        raise Unauthorized("The signature does not match", code="invalid_signature")
