"""Device tokens: which provider a token goes to, and what a valid token of each platform is.

- ``web``: a Web Push subscription as the browser's ``PushSubscription.toJSON()`` gives it (the
  object or its JSON text): an https endpoint and the P-256 key and auth secret to encrypt for.
  Stored as a canonical compact JSON text.
- ``ios`` / ``android``: an APNs device token (hex) or an FCM registration token; an Expo push
  token (``ExponentPushToken[…]``) on either platform goes to Expo, which relays it.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.asymmetric import ec

from gamekeeper.core.notify.errors import InvalidDeviceToken
from gamekeeper.core.notify.types import Platform, ProviderName

MAX_ENDPOINT = 2048
MAX_TOKEN = 4096
_EXPO = re.compile(r"Expo(?:nent)?PushToken\[[A-Za-z0-9_\-]{1,200}\]")
_APNS = re.compile(r"[0-9a-fA-F]{32,200}")
_FCM = re.compile(r"[A-Za-z0-9_\-:.]{20,4096}")
_B64URL = re.compile(r"[A-Za-z0-9_\-]{1,200}={0,2}")


def device_token(platform: Platform, raw: object) -> tuple[ProviderName, str]:
    """The provider and the token to store, or InvalidDeviceToken saying what is wrong."""
    if platform is Platform.WEB:
        return ProviderName.WEBPUSH, web_subscription(raw)
    if not isinstance(raw, str) or not raw or len(raw) > MAX_TOKEN:
        raise InvalidDeviceToken(f"deviceToken must be a string of 1 to {MAX_TOKEN} characters")
    if _EXPO.fullmatch(raw):
        return ProviderName.EXPO, raw
    if platform is Platform.IOS:
        if not _APNS.fullmatch(raw):
            raise InvalidDeviceToken("an iOS deviceToken is an APNs token in hex or an Expo token")
        return ProviderName.APNS, raw.lower()
    if not _FCM.fullmatch(raw):
        raise InvalidDeviceToken(
            "an Android deviceToken is an FCM registration token or an Expo token"
        )
    return ProviderName.FCM, raw


def web_subscription(raw: object) -> str:
    """The canonical JSON of a Web Push subscription (object or JSON text), validated."""
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            raise InvalidDeviceToken("a web deviceToken is a PushSubscription as JSON") from None
    if not isinstance(raw, dict):
        raise InvalidDeviceToken("a web deviceToken is a PushSubscription (endpoint and keys)")
    endpoint, keys = raw.get("endpoint"), raw.get("keys")
    if not isinstance(endpoint, str) or not _https_url(endpoint):
        raise InvalidDeviceToken(
            f"the subscription's endpoint must be an https URL of at most {MAX_ENDPOINT} characters"
        )
    if not isinstance(keys, dict):
        raise InvalidDeviceToken("the subscription has no keys (p256dh and auth)")
    p256dh = _b64url(keys.get("p256dh"), "p256dh")
    auth = _b64url(keys.get("auth"), "auth")
    if len(auth) != 16:
        raise InvalidDeviceToken("the subscription's auth secret must be 16 bytes")
    if len(p256dh) != 65 or p256dh[0] != 4:
        raise InvalidDeviceToken("the subscription's p256dh must be an uncompressed P-256 key")
    try:
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), p256dh)
    except ValueError:
        raise InvalidDeviceToken("the subscription's p256dh is not a point on P-256") from None
    return json.dumps(
        {"endpoint": endpoint, "keys": {"p256dh": keys["p256dh"], "auth": keys["auth"]}},
        separators=(",", ":"),
    )


def _https_url(value: str) -> bool:
    if len(value) > MAX_ENDPOINT or not value.isprintable() or not value.isascii():
        return False
    try:
        parts = urlsplit(value)
        return parts.scheme == "https" and bool(parts.hostname) and parts.port != 0
    except ValueError:
        return False


def _b64url(value: object, name: str) -> bytes:
    if not isinstance(value, str) or not _B64URL.fullmatch(value):
        raise InvalidDeviceToken(f"the subscription's {name} must be base64url text")
    try:
        return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError):
        raise InvalidDeviceToken(f"the subscription's {name} must be base64url text") from None
