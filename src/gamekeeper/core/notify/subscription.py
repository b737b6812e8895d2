"""What a valid Web Push subscription is: the browser's ``PushSubscription.toJSON()``.

An https endpoint at the browser's push service, the browser's P-256 public key (``p256dh``,
uncompressed) and its 16-byte auth secret, as the object or its JSON text. Registering a device
stores the canonical JSON (``Subscription.to_json``); the Web Push provider parses it again to
encrypt for the browser. The endpoint is a capability (whoever knows it can push to the browser):
no message names it.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.asymmetric import ec

__all__ = ["MAX_ENDPOINT", "MAX_SUBSCRIPTION", "Subscription", "parse_subscription"]

MAX_ENDPOINT = 2048
MAX_SUBSCRIPTION = 4096  # characters of JSON; a real one is about a third of it
_B64URL = re.compile(r"[A-Za-z0-9_-]*")
_ENDPOINT_CHARS = re.compile(r"[\x21-\x7e]+")  # printable ASCII: no spaces, controls or NUL


@dataclass(frozen=True, slots=True)
class Subscription:
    """A browser's push subscription, validated. Its fields are secrets: none is in its repr."""

    endpoint: str = field(repr=False)
    p256dh: bytes = field(repr=False)  # the browser's P-256 public key, uncompressed (65 bytes)
    auth: bytes = field(repr=False)  # the browser's 16-byte authentication secret

    @property
    def origin(self) -> str:
        """``https://host[:port]``: the VAPID audience."""
        parts = urlsplit(self.endpoint)
        host = parts.hostname or ""
        host = f"[{host}]" if ":" in host else host
        return f"https://{host}" if parts.port in (None, 443) else f"https://{host}:{parts.port}"

    def to_json(self) -> str:
        """The canonical compact JSON of this subscription (what is stored, encrypted)."""
        keys = {"p256dh": _b64url(self.p256dh), "auth": _b64url(self.auth)}
        return json.dumps({"endpoint": self.endpoint, "keys": keys}, separators=(",", ":"))


def parse_subscription(value: object) -> Subscription:
    """Validate a ``PushSubscription.toJSON()`` object or its JSON string; ``ValueError`` if bad."""
    if isinstance(value, str):
        if len(value) > MAX_SUBSCRIPTION:
            raise ValueError(f"subscription is longer than {MAX_SUBSCRIPTION} characters")
        try:
            value = json.loads(value)
        except (ValueError, RecursionError):
            raise ValueError("subscription is not valid JSON") from None
    if not isinstance(value, dict):
        raise ValueError("subscription must be an object with endpoint and keys")
    endpoint = _check_endpoint(value.get("endpoint"))
    keys = value.get("keys")
    if not isinstance(keys, dict):
        raise ValueError("subscription keys must be an object with p256dh and auth")
    p256dh = _decode_key(keys.get("p256dh"), "p256dh", 65)
    if p256dh[0] != 0x04:
        raise ValueError("keys.p256dh must be an uncompressed P-256 point")
    try:
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), p256dh)
    except ValueError:
        raise ValueError("keys.p256dh is not a point on the P-256 curve") from None
    auth = _decode_key(keys.get("auth"), "auth", 16)
    return Subscription(endpoint, p256dh, auth)


def _check_endpoint(endpoint: object) -> str:
    if not isinstance(endpoint, str) or not endpoint:
        raise ValueError("subscription endpoint must be a non-empty string")
    if len(endpoint) > MAX_ENDPOINT:
        raise ValueError(f"subscription endpoint is longer than {MAX_ENDPOINT} characters")
    if not _ENDPOINT_CHARS.fullmatch(endpoint):
        raise ValueError("subscription endpoint must be printable ASCII without spaces")
    try:
        parts = urlsplit(endpoint)
        port = parts.port  # raises on a port that is not a number in range
    except ValueError:
        raise ValueError("subscription endpoint is not a valid URL") from None
    if parts.scheme != "https":
        raise ValueError("subscription endpoint must be an https URL")
    if not parts.hostname or "@" in parts.netloc:
        raise ValueError("subscription endpoint must name a host (and no credentials)")
    if port == 0:
        raise ValueError("subscription endpoint's port must be 1 to 65535")
    return endpoint


def _decode_key(value: object, name: str, length: int) -> bytes:
    text = value.rstrip("=") if isinstance(value, str) else ""
    if not text or not _B64URL.fullmatch(text):
        raise ValueError(f"keys.{name} must be a base64url string")
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except binascii.Error:
        raise ValueError(f"keys.{name} must be a base64url string") from None
    if len(raw) != length:
        raise ValueError(f"keys.{name} must be {length} bytes, not {len(raw)}")
    return raw


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
