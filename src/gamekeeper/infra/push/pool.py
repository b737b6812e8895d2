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
from dataclasses import dataclass
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
RETIRE_AFTER = 120.0  # seconds: longer than any send through a client takes
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


@dataclass(frozen=True, slots=True)
class _Built:
    client: Provider | None
    config: dict[str, Any] | None
    at: float  # monotonic time the credentials were last read


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
        # (provider, game id or None) -> the client (None: not configured) and what built it
        self._built: dict[tuple[ProviderName, str | None], _Built] = {}
        # Clients whose credentials changed: closed once their sends are surely over.
        self._retired: list[tuple[Provider, float]] = []

    async def get(self, provider: ProviderName, game_id: str | None) -> Provider | None:
        """The client for a device of ``game_id``'s app (None: the deployment's), if any.

        Credentials are read again every ``ttl`` seconds; the client is kept while they are
        the same, and one replaced is closed only after sends through it have had time to end.
        """
        if provider is ProviderName.WEBPUSH:
            return self._webpush
        key = (provider, game_id)
        now = time.monotonic()
        found = self._built.get(key)
        if found is not None and now - found.at < self._ttl:
            return found.client
        config = await self._config(provider, game_id)
        if found is not None and found.config == config:
            self._built[key] = _Built(found.client, config, now)
            return found.client
        made = None if config is None else self._make(provider, config)
        self._built[key] = _Built(made, config, now)
        if found is not None and found.client is not None:
            self._retired.append((found.client, now))
        await self._close_retired(now)
        return made

    async def _config(self, provider: ProviderName, game_id: str | None) -> dict[str, Any] | None:
        if game_id is not None:
            sealed = (await self._load(game_id)).get(provider)
            if sealed is not None:
                opened = self._box.open(sealed, context=credentials.context(game_id, provider))
                config: dict[str, Any] = json.loads(opened)
                return config
        return self._defaults.get(provider)

    async def _close_retired(self, now: float) -> None:
        done = [c for c, at in self._retired if now - at > RETIRE_AFTER]
        self._retired = [(c, at) for c, at in self._retired if now - at <= RETIRE_AFTER]
        for client in done:
            await client.aclose()

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
        """The game's credentials changed: read them again at the next send."""
        for key in [k for k in self._built if k[1] == game_id]:
            built = self._built[key]
            self._built[key] = _Built(built.client, built.config, float("-inf"))

    async def aclose(self) -> None:
        clients = [b.client for b in self._built.values()] + [c for c, _ in self._retired]
        for client in clients:
            if client is not None:
                await client.aclose()
        self._built.clear()
        self._retired.clear()
        await self._webpush.aclose()
