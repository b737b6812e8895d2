"""Per-game push provider credentials: checked, sealed, never shown again.

The admin API takes ``{apns?, fcm?, expo?}``; each value is that provider's credentials or
null to clear them; providers left out keep theirs. ``GET`` tells only which are set. The same
shapes make the deployment's defaults (``push_credentials_file``).

- ``apns``: ``{keyP8, keyId, teamId, topic, environment?}`` (token auth: the ``.p8`` key's PEM,
  its 10-character key id, the 10-character team id, the app's bundle id; ``production`` or
  ``sandbox``).
- ``fcm``: ``{serviceAccount}``, the service account's JSON key file as an object.
- ``expo``: ``{accessToken?}`` (needed only when the Expo project requires access tokens).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from gamekeeper.core import audit
from gamekeeper.core.audit import Actor
from gamekeeper.core.errors import InvalidInput, NotFound
from gamekeeper.core.notify.events import PushCredentialsChanged
from gamekeeper.core.notify.store import NotifyUow
from gamekeeper.core.notify.types import ProviderName
from gamekeeper.core.secrets import SecretBox

CONFIGURABLE = (ProviderName.APNS, ProviderName.FCM, ProviderName.EXPO)
_APPLE_ID = re.compile(r"[A-Z0-9]{10}")
_BUNDLE = re.compile(r"[A-Za-z0-9.\-]{1,155}")
_FCM_FIELDS = ("project_id", "private_key_id", "private_key", "client_email", "token_uri")


def context(game_id: str, provider: ProviderName) -> str:
    """The ``SecretBox`` context a game's credentials for ``provider`` are sealed under."""
    return f"push-credentials:{game_id}:{provider.value}"


def _bad(provider: str, why: str) -> InvalidInput:
    return InvalidInput(f"{provider}: {why}", code="invalid_push_credentials")


def _string(value: Mapping[str, Any], name: str, provider: str) -> str:
    found = value.get(name)
    if not isinstance(found, str) or not found or len(found) > 8192:
        raise _bad(provider, f"{name} must be a non-empty string")
    return found


def check(provider: ProviderName, value: object) -> dict[str, Any]:
    """One provider's credentials, validated and in canonical form."""
    if not isinstance(value, Mapping):
        raise _bad(provider.value, "must be an object")
    if provider is ProviderName.APNS:
        return _apns(value)
    if provider is ProviderName.FCM:
        return {"serviceAccount": _service_account(value.get("serviceAccount"))}
    token = value.get("accessToken")
    if token is not None and (not isinstance(token, str) or not 1 <= len(token) <= 256):
        raise _bad("expo", "accessToken must be a string of 1 to 256 characters")
    return {"accessToken": token}


def _apns(value: Mapping[str, Any]) -> dict[str, Any]:
    key = _string(value, "keyP8", "apns")
    try:
        loaded = serialization.load_pem_private_key(key.encode(), password=None)
    except (ValueError, TypeError):
        raise _bad("apns", "keyP8 must be the PEM text of the .p8 key") from None
    if not isinstance(loaded, ec.EllipticCurvePrivateKey) or loaded.curve.name != "secp256r1":
        raise _bad("apns", "keyP8 must be a P-256 key (ES256), as Apple issues them")
    key_id, team_id = _string(value, "keyId", "apns"), _string(value, "teamId", "apns")
    if not _APPLE_ID.fullmatch(key_id) or not _APPLE_ID.fullmatch(team_id):
        raise _bad("apns", "keyId and teamId are 10 capital letters or digits")
    topic = _string(value, "topic", "apns")
    if not _BUNDLE.fullmatch(topic):
        raise _bad("apns", "topic must be the app's bundle id")
    environment = value.get("environment", "production")
    if environment not in ("production", "sandbox"):
        raise _bad("apns", "environment must be production or sandbox")
    return {
        "keyP8": key, "keyId": key_id, "teamId": team_id, "topic": topic,
        "environment": environment,
    }  # fmt: skip


def _service_account(value: object) -> dict[str, str]:
    if not isinstance(value, Mapping) or value.get("type") != "service_account":
        raise _bad(
            "fcm", 'serviceAccount must be the service account key ("type": "service_account")'
        )
    fields = {name: _string(value, name, "fcm") for name in _FCM_FIELDS}
    try:
        loaded = serialization.load_pem_private_key(fields["private_key"].encode(), password=None)
    except (ValueError, TypeError):
        raise _bad("fcm", "serviceAccount.private_key must be a PEM private key") from None
    if not isinstance(loaded, rsa.RSAPrivateKey):
        raise _bad("fcm", "serviceAccount.private_key must be an RSA key")
    return {"type": "service_account", **fields}


async def set_credentials(
    uow: NotifyUow,
    *,
    game_id: str,
    changes: Mapping[ProviderName, object | None],
    box: SecretBox,
    actor: Actor,
) -> dict[ProviderName, bool]:
    """Set or clear (None) each named provider's credentials; which are set afterwards."""
    if await uow.identity.get_game(game_id) is None:
        raise NotFound("no game with that id", code="game_not_found")
    sealed: dict[ProviderName, str | None] = {}
    for provider, value in changes.items():
        if value is None:
            sealed[provider] = None
            continue
        text = json.dumps(check(provider, value), separators=(",", ":"))
        sealed[provider] = box.seal(text, context=context(game_id, provider))
    if sealed:
        await uow.notify.set_push_credentials(game_id, sealed, uow.now())
        uow.emit(PushCredentialsChanged(game_id))
        await audit.record(
            uow, "push.credentials_changed", actor=actor, target_type="game", target_id=game_id,
            game_id=game_id, set=sorted(p for p, v in sealed.items() if v is not None),
            cleared=sorted(p for p, v in sealed.items() if v is None),
        )  # fmt: skip
    return await credentials_set(uow, game_id=game_id)


async def credentials_set(uow: NotifyUow, *, game_id: str) -> dict[ProviderName, bool]:
    """Which providers have credentials of the game's own."""
    if await uow.identity.get_game(game_id) is None:
        raise NotFound("no game with that id", code="game_not_found")
    stored = await uow.notify.push_credentials(game_id)
    return {provider: provider in stored for provider in CONFIGURABLE}
