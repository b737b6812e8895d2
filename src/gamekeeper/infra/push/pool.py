"""The provider clients the push relay sends with, built once per set of credentials.

A device is sent to with the credentials of the app that registered it: its game's own, set
through the admin API, or the deployment's defaults (``push_credentials_file``). Web Push has
one VAPID key for the deployment, derived from the secret key unless a key is set. A game's
clients are dropped when its credentials change (``forget``) and rebuilt at the next send;
other replicas see a change within ``ttl`` seconds.
"""

from __future__ import annotations

import json
import ssl
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import structlog
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from gamekeeper.core.errors import InvalidInput
from gamekeeper.core.notify import credentials
from gamekeeper.core.notify.types import ProviderName
from gamekeeper.core.secrets import SecretBox, derive_key
from gamekeeper.infra.http import SafeHttpClient
from gamekeeper.infra.push.apns import ApnsProvider
from gamekeeper.infra.push.base import Provider
from gamekeeper.infra.push.expo import ExpoProvider
from gamekeeper.infra.push.fcm import FcmProvider
from gamekeeper.infra.push.webpush import WebPushProvider, public_key_b64url
from gamekeeper.settings import Settings, SettingsError

log = structlog.get_logger(__name__)

APNS_HOSTS = {
    "production": "https://api.push.apple.com",
    "sandbox": "https://api.sandbox.push.apple.com",
}
# Loads a game's sealed credentials: {provider: sealed text}.
Loader = Callable[[str], Awaitable[dict[ProviderName, str]]]


def vapid_key(settings: Settings, secret_key: str) -> str:
    """The VAPID private key (PEM): the one set, or one derived from the secret key."""
    if settings.push_vapid_private_key:
        return settings.push_vapid_private_key
    seed = int.from_bytes(derive_key(secret_key, "gamekeeper/vapid/v1"), "big")
    order = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551  # of P-256
    key = ec.derive_private_key(seed % (order - 1) + 1, ec.SECP256R1())
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def vapid_subject(settings: Settings) -> str:
    """Who push services may contact about our pushes: the setting, else an https public URL."""
    if settings.push_vapid_subject:
        return settings.push_vapid_subject
    if settings.base_url.startswith("https://"):
        return settings.base_url
    return "mailto:admin@localhost"  # a local installation: no public contact to give


def load_defaults(settings: Settings) -> dict[ProviderName, dict[str, Any]]:
    """The deployment's default credentials from ``push_credentials_file``, checked."""
    path = settings.push_credentials_file
    if not path:
        return {}
    where = "GAMEKEEPER_PUSH_CREDENTIALS_FILE"
    try:
        raw = json.loads(Path(path).read_text())
    except (OSError, ValueError) as exc:
        raise SettingsError(f"{where}: cannot read {path} as JSON: {exc}") from None
    if not isinstance(raw, dict):
        raise SettingsError(f"{where}: {path} must hold a JSON object {{apns?, fcm?, expo?}}")
    unknown = set(raw) - {p.value for p in credentials.CONFIGURABLE}
    if unknown:
        raise SettingsError(f"{where}: unknown providers {sorted(unknown)} in {path}")
    try:
        return {ProviderName(k): credentials.check(ProviderName(k), v) for k, v in raw.items()}
    except InvalidInput as exc:
        raise SettingsError(f"{where}: {exc.message}") from None


class ProviderPool:
    def __init__(
        self,
        settings: Settings,
        *,
        secret_key: str,
        box: SecretBox,
        client: SafeHttpClient,
        load: Loader,
        ttl: float = 60.0,
    ) -> None:
        self._settings = settings
        self._box = box
        self._load = load
        self._ttl = ttl
        self._defaults = load_defaults(settings)
        self._verify: ssl.SSLContext | bool = True
        if settings.push_ca_file:
            self._verify = ssl.create_default_context(cafile=settings.push_ca_file)
        pem = vapid_key(settings, secret_key)
        self.vapid_public_key = public_key_b64url(pem)
        self._webpush = WebPushProvider(
            vapid_private_key=pem,
            subject=vapid_subject(settings),
            client=client,
            concurrency=settings.push_concurrency,
        )
        # (provider, game id or None) -> (client or None when not configured, built at)
        self._built: dict[tuple[ProviderName, str | None], tuple[Provider | None, float]] = {}

    async def get(self, provider: ProviderName, game_id: str | None) -> Provider | None:
        """The client for a device of ``game_id``'s app (None: the deployment's), if any."""
        if provider is ProviderName.WEBPUSH:
            return self._webpush
        key = (provider, game_id)
        found = self._built.get(key)
        if found is not None and time.monotonic() - found[1] < self._ttl:
            return found[0]
        config = None
        if game_id is not None:
            sealed = (await self._load(game_id)).get(provider)
            if sealed is not None:
                config = json.loads(
                    self._box.open(sealed, context=credentials.context(game_id, provider))
                )
        if config is None:
            config = self._defaults.get(provider)
        made = None if config is None else self._make(provider, config)
        old = self._built.get(key)
        self._built[key] = (made, time.monotonic())
        if old is not None and old[0] is not None and old[0] is not made:
            await old[0].aclose()
        return made

    def _make(self, provider: ProviderName, config: dict[str, Any]) -> Provider:
        s = self._settings
        if provider is ProviderName.APNS:
            return ApnsProvider(
                key_p8=config["keyP8"],
                key_id=config["keyId"],
                team_id=config["teamId"],
                topic=config["topic"],
                base_url=s.push_apns_base_url or APNS_HOSTS[config["environment"]],
                concurrency=s.push_concurrency,
                verify=self._verify,
            )
        if provider is ProviderName.FCM:
            return FcmProvider(
                service_account=config["serviceAccount"],
                base_url=s.push_fcm_base_url,
                token_url=s.push_fcm_token_url,
                concurrency=s.push_concurrency,
            )
        return ExpoProvider(access_token=config.get("accessToken"), base_url=s.push_expo_base_url)

    def forget(self, game_id: str) -> None:
        """The game's credentials changed: rebuild its clients at the next send."""
        for key in [k for k in self._built if k[1] == game_id]:
            made, _ = self._built[key]
            self._built[key] = (made, float("-inf"))  # closed when replaced

    async def aclose(self) -> None:
        for made, _ in self._built.values():
            if made is not None:
                await made.aclose()
        self._built.clear()
        await self._webpush.aclose()
