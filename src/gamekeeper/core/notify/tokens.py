"""Device tokens: which provider a token goes to, and what a valid token of each platform is.

- ``web``: a Web Push subscription as the browser's ``PushSubscription.toJSON()`` gives it (the
  object or its JSON text), validated by ``core/notify/subscription.py``; stored as its
  canonical compact JSON text.
- ``ios`` / ``android``: an APNs device token (hex) or an FCM registration token; an Expo push
  token (``ExponentPushToken[…]``) on either platform goes to Expo, which relays it.
"""

from __future__ import annotations

import re

from gamekeeper.core.notify.errors import InvalidDeviceToken
from gamekeeper.core.notify.subscription import parse_subscription
from gamekeeper.core.notify.types import Platform, ProviderName

MAX_TOKEN = 4096
_EXPO = re.compile(r"Expo(?:nent)?PushToken\[[A-Za-z0-9_\-]{1,200}\]")
_APNS = re.compile(r"[0-9a-fA-F]{32,200}")
_FCM = re.compile(r"[A-Za-z0-9_\-:.]{20,4096}")


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
    try:
        return parse_subscription(raw).to_json()
    except ValueError as exc:
        raise InvalidDeviceToken(str(exc)) from None
