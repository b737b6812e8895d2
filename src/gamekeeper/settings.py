"""One Settings object, read from ``GAMEKEEPER_*`` environment variables and an optional TOML file.

Environment wins over the file. Lists may be given as JSON or comma-separated; tables (rate
limits) as JSON. Nothing here runs at import time: ``load_settings`` is called by the CLI and by
``create_app``.

A name that is no setting stops the start, in the file as in the environment, naming the closest
setting (``gamekeeper.setting_names``). Two kinds of ``GAMEKEEPER_*`` variable are read elsewhere
and left alone: ``GAMEKEEPER_ADMIN_URL`` (the admin commands' server) and every
``GAMEKEEPER_TEST_*`` (the test suite's services, such as ``GAMEKEEPER_TEST_POSTGRES_URL``).
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any

import msgspec

from gamekeeper.setting_names import SettingsError as SettingsError  # raised here, imported here
from gamekeeper.setting_names import check_http_url, refuse_unknown_keys, unknown_variable

ENV_PREFIX = "GAMEKEEPER_"
# Variables with the prefix that are not settings: read by the admin commands, the test suite.
NOT_SETTINGS = frozenset({f"{ENV_PREFIX}CONFIG", f"{ENV_PREFIX}ADMIN_URL"})
NOT_SETTINGS_PREFIX = f"{ENV_PREFIX}TEST_"
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")

DEFAULT_RATE_LIMITS = {
    # Every request, counted per client IP before authentication.
    "ip": "1200/minute",
    # Failed authentications per client IP: brute-force protection.
    "auth_failure": "30/minute",
    # Per credential (or per IP where a route has none), by route category.
    "admin": "1200/minute",
    "server": "6000/minute",
    "player": "600/minute",
    "public": "60/minute",
    # OGP batch-save-points, per developer.
    "points_batch": "3/second",
    # Failed sign-ins and code entries per account (the per-IP count is auth_failure).
    "account_failure": "10/15 minutes",
    # Mails (codes) sent to one address.
    "email_send": "5/15 minutes",
    # Push notifications sent per game, and device registrations per player.
    "push_send": "100/second",
    "push_register": "30/hour",
    # Cast: join attempts per player (codes are short), inputs per controller of a session.
    "cast_join": "10/minute",
    "cast_input": "25/second",
}

Seconds = Annotated[int, msgspec.Meta(gt=0)]


class Settings(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    data_dir: str = "gamekeeper-data"
    database_url: str | None = None
    redis_url: str | None = None
    public_url: str | None = None
    secret_key: str | None = None
    admin_token: str | None = None
    host: str = "127.0.0.1"
    port: Annotated[int, msgspec.Meta(ge=0, le=65535)] = 8000
    workers: Annotated[int, msgspec.Meta(ge=1, le=64)] = 1
    cors_origins: list[str] = []
    trusted_proxies: list[str] = msgspec.field(default_factory=lambda: ["127.0.0.1"])
    access_token_ttl: Seconds = 900
    refresh_token_ttl: Seconds = 7 * 24 * 3600
    web_code_ttl: Seconds = 300
    link_token_ttl: Seconds = 1800
    email_code_ttl: Seconds = 600
    # Outgoing mail (sign-in and verification codes). Without smtp_host each message is written
    # to the log and to <data_dir>/mail, so a local user can still sign in.
    smtp_host: str | None = None
    smtp_port: Annotated[int, msgspec.Meta(ge=1, le=65535)] = 587
    smtp_tls: str = "starttls"  # starttls | tls (implicit, port 465) | none
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_sender: str = "Gamekeeper <noreply@localhost>"
    key_cache_ttl: Annotated[float, msgspec.Meta(ge=0)] = 30.0
    # Public catalog reads (OGP listing, game by id) answered from memory until the catalog
    # changes, and for at most this many seconds; 0 turns the cache off.
    catalog_cache_ttl: Annotated[float, msgspec.Meta(ge=0, le=3600)] = 60.0
    max_body_size: Annotated[int, msgspec.Meta(gt=0)] = 1024 * 1024
    rate_limits: dict[str, str] = {}
    rate_limits_enabled: bool = True
    db_pool_size: Annotated[int, msgspec.Meta(ge=1, le=500)] = 10
    # The garbage collector of serve (and each worker process): what the started app holds is
    # frozen and generation 0 is collected after this many allocations (then the other two
    # thresholds); "off" keeps Python's (700,10,10), whose full collections stop a server with
    # thousands of sockets for ~0.5 s. See docs/benchmarks.md (TV casting).
    gc_threshold: str = "50000,20,100"
    auto_migrate: bool = True
    log_level: str = "INFO"
    log_format: str = "json"
    # Outbound requests to user-given URLs (webhooks, callbacks, ownership claims).
    outbound_allowed_networks: list[str] = []  # CIDRs exempt from the private-address refusal
    outbound_timeout: Annotated[float, msgspec.Meta(gt=0, le=120)] = 15.0
    # Identity providers asked when a BattlePlace client signs in (tests point them at loopback).
    itch_base_url: str = "https://itch.io"
    steam_api_base_url: str = "https://partner.steam-api.com"
    external_auth_timeout: Annotated[float, msgspec.Meta(gt=0, le=60)] = 5.0
    battleplace_client_token_ttl: Seconds = 24 * 3600  # BattlePlace client tokens
    # Event sinks; each is off unless configured.
    nats_url: str | None = None
    nats_stream: str = "GAMEKEEPER"
    nats_subject_prefix: str = "gamekeeper"  # events go to <prefix>.<game>.<event type>
    sqs_queue_url: str | None = None
    sqs_endpoint_url: str | None = None
    sqs_region: str = "us-east-1"
    relay_enabled: bool = True  # run the outbox relay inside `serve` (embedded mode)
    # Matchmaking: every process with the matchmaker enabled stands for the leadership of each
    # shard (games are spread over shards by id); one leads each shard, the others stand by.
    matchmaker_enabled: bool = True
    matchmaker_shards: Annotated[int, msgspec.Meta(ge=1, le=256)] = 1
    matchmaker_tick_seconds: Annotated[float, msgspec.Meta(ge=0.01, le=5)] = 0.1
    # A session without a result this long after it formed ends as cancelled (unrated), and
    # its dedicated server is free again.
    match_session_timeout: Annotated[int, msgspec.Meta(ge=60, le=7 * 86400)] = 3 * 3600
    # How long `POST /v1a/server/match/sessions` waits for a session before answering empty.
    server_poll_seconds: Annotated[float, msgspec.Meta(ge=0, le=30)] = 5.0
    # How long a relay owns the deliveries it claimed: those of a relay that died are sent
    # again after this. At least twice outbound_timeout, so a claim never ends mid-request.
    relay_lease_seconds: Annotated[int, msgspec.Meta(ge=2, le=86400)] = 60
    # Push notifications. The relay runs in `serve` (push_enabled) and in `gamekeeper worker`.
    # Web Push signs with a VAPID key derived from secret_key unless push_vapid_private_key
    # (PEM, P-256) is set; push_credentials_file holds the deployment's default APNs, FCM and
    # Expo credentials (the JSON body of PUT /admin/v1/games/{id}/push). The base URLs and
    # push_ca_file (an extra CA bundle to trust) exist for proxies and test stand-ins.
    push_enabled: bool = True
    push_vapid_private_key: str | None = None
    push_vapid_subject: str | None = None  # mailto: or https: contact; default the public URL
    push_credentials_file: str | None = None
    push_apns_base_url: str | None = None  # default: Apple's, by the credential's environment
    push_fcm_base_url: str = "https://fcm.googleapis.com"
    push_fcm_token_url: str | None = None  # default: the service account's token_uri
    push_expo_base_url: str = "https://exp.host"
    push_ca_file: str | None = None
    # How long a send waits for the first provider verdict before answering "queued".
    push_send_wait: Annotated[float, msgspec.Meta(ge=0, le=10)] = 2.0
    push_concurrency: Annotated[int, msgspec.Meta(ge=1, le=1000)] = 100  # per provider
    push_lease_seconds: Annotated[int, msgspec.Meta(ge=10, le=3600)] = 60
    push_receipt_delay: Annotated[int, msgspec.Meta(ge=1, le=3600)] = 15  # Expo receipts
    # TV casting: a session without activity for cast_idle_after seconds becomes idle, and
    # ends cast_end_after seconds later; every serve and worker process checks every
    # cast_expire_every seconds (any may end a session: the database decides once).
    cast_idle_after: Seconds = 1800
    cast_end_after: Seconds = 300
    cast_expire_every: Annotated[float, msgspec.Meta(gt=0, le=3600)] = 30.0
    # Uploaded images: stored under blob_dir (default <data_dir>/blobs), linked at media_url
    # (default <base_url>/media; point it at a CDN in front of /media if there is one).
    blob_dir: str | None = None
    media_url: str | None = None

    def __post_init__(self) -> None:
        self.rate_limits = {**DEFAULT_RATE_LIMITS, **self.rate_limits}

    @property
    def data_path(self) -> Path:
        return Path(self.data_dir)

    @property
    def blob_path(self) -> Path:
        return Path(self.blob_dir) if self.blob_dir else self.data_path / "blobs"

    @property
    def media_base_url(self) -> str:
        return (self.media_url or f"{self.base_url}/media").rstrip("/")

    @property
    def embedded(self) -> bool:
        """True when the database is SQLite: one node, in-process everything."""
        return self.sqlalchemy_url.startswith("sqlite")

    @property
    def sqlalchemy_url(self) -> str:
        if self.database_url is None:
            return f"sqlite+aiosqlite:///{self.data_path / 'gamekeeper.db'}"
        return normalize_database_url(self.database_url)

    @property
    def base_url(self) -> str:
        if self.public_url:
            return self.public_url.rstrip("/")
        return f"http://{self.host}:{self.port}"


def normalize_database_url(url: str) -> str:
    """Map the URLs people write (``postgres://``, ``sqlite:///``) to the async drivers we use."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        raise SettingsError(f"GAMEKEEPER_DATABASE_URL: not a URL: {url!r}")
    base = scheme.split("+", 1)[0]
    if base in {"postgres", "postgresql"}:
        return f"postgresql+asyncpg://{rest}"
    if base == "sqlite":
        return f"sqlite+aiosqlite://{rest}"
    raise SettingsError(
        f"GAMEKEEPER_DATABASE_URL: unsupported database {scheme!r} (use sqlite or postgresql)"
    )


_NATS_PREFIX = re.compile(r"[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*")
_LIST_FIELDS = {"cors_origins", "trusted_proxies", "outbound_allowed_networks"}
_TABLE_FIELDS = {"rate_limits"}


def _env_value(name: str, raw: str) -> Any:
    if name in _LIST_FIELDS:
        raw = raw.strip()
        if raw.startswith("["):
            return json.loads(raw)
        return [part.strip() for part in raw.split(",") if part.strip()]
    if name in _TABLE_FIELDS:
        return json.loads(raw)
    return raw


def load_settings(
    env: Mapping[str, str] | None = None,
    config_file: str | Path | None = None,
    **overrides: Any,
) -> Settings:
    """Build Settings from a TOML file, then ``GAMEKEEPER_*`` variables, then explicit overrides."""
    env = os.environ if env is None else env
    values: dict[str, Any] = {}
    config_file = config_file or env.get(f"{ENV_PREFIX}CONFIG")
    if config_file:
        try:
            values.update(tomllib.loads(Path(config_file).read_text()))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise SettingsError(f"GAMEKEEPER_CONFIG: cannot read {config_file}: {exc}") from exc
        refuse_unknown_keys(
            values, where=str(config_file), fields=[*Settings.__struct_fields__],
            categories=[*DEFAULT_RATE_LIMITS],
        )  # fmt: skip
    fields = set(Settings.__struct_fields__)
    for key, raw in env.items():
        if not key.startswith(ENV_PREFIX) or key in NOT_SETTINGS:
            continue
        if key.startswith(NOT_SETTINGS_PREFIX):
            continue
        name = key[len(ENV_PREFIX) :].lower()
        if name.startswith("rate_limit_") and name != "rate_limits_enabled":
            category = name.removeprefix("rate_limit_")
            if category not in DEFAULT_RATE_LIMITS:
                raise unknown_variable(key, _variable_names())
            values.setdefault("rate_limits", {})[category] = raw
            continue
        if name not in fields:
            raise unknown_variable(key, _variable_names())
        try:
            values[name] = _env_value(name, raw)
        except json.JSONDecodeError as exc:
            raise SettingsError(f"{key}: not valid JSON ({exc.msg})") from exc
    values.update({k: v for k, v in overrides.items() if v is not None})
    try:
        settings = msgspec.convert(values, Settings, strict=False)
    except msgspec.ValidationError as exc:
        raise SettingsError(_explain(exc)) from exc
    _check(settings)
    return settings


def _variable_names() -> list[str]:
    categories = (f"{ENV_PREFIX}RATE_LIMIT_{c.upper()}" for c in DEFAULT_RATE_LIMITS)
    return [*(f"{ENV_PREFIX}{f.upper()}" for f in Settings.__struct_fields__), *categories]


def _explain(exc: msgspec.ValidationError) -> str:
    message = str(exc)
    if " - at `$." in message:
        detail, _, where = message.partition(" - at `$.")
        field = where.rstrip("`").split("[", 1)[0].split(".", 1)[0]
        return f"{ENV_PREFIX}{field.upper()}: {detail}"
    if message.startswith("Object contains unknown field"):
        field = message.split("`")[1]
        return f"unknown setting {field!r} in the configuration file"
    return message


def gc_thresholds(text: str) -> tuple[int, int, int] | None:
    """``"50000,20,100"`` as three thresholds; None for ``"off"`` (Python's own)."""
    if text.strip().lower() in {"off", "default", ""}:
        return None
    parts = text.split(",")
    if len(parts) != 3 or not all(p.strip().isdigit() for p in parts) or int(parts[0]) < 1:
        raise SettingsError(
            f"GAMEKEEPER_GC_THRESHOLD: {text!r} is not three whole numbers such as "
            "50000,20,100 (the first at least 1), or off"
        )
    first, second, third = (int(p) for p in parts)
    return first, second, third


def _check(settings: Settings) -> None:
    settings.sqlalchemy_url  # noqa: B018 - validates the URL
    gc_thresholds(settings.gc_threshold)
    from limits import parse

    for category, text in settings.rate_limits.items():
        try:
            parse(text)
        except ValueError as exc:
            raise SettingsError(
                f"GAMEKEEPER_RATE_LIMIT_{category.upper()}: {text!r} "
                "is not a rate such as 60/minute"
            ) from exc
    if settings.redis_url and not settings.redis_url.startswith(("redis://", "rediss://")):
        raise SettingsError("GAMEKEEPER_REDIS_URL: must start with redis:// or rediss://")
    for network in settings.outbound_allowed_networks:
        try:
            ipaddress.ip_network(network, strict=False)
        except ValueError as exc:
            raise SettingsError(
                f"GAMEKEEPER_OUTBOUND_ALLOWED_NETWORKS: {network!r} is not a network such as "
                "10.0.0.0/8"
            ) from exc
    if settings.nats_url and not settings.nats_url.startswith(("nats://", "tls://")):
        raise SettingsError("GAMEKEEPER_NATS_URL: must start with nats:// or tls://")
    if not _NATS_PREFIX.fullmatch(settings.nats_subject_prefix):
        raise SettingsError(
            "GAMEKEEPER_NATS_SUBJECT_PREFIX: dot-separated tokens of letters, digits, - and _ "
            "(no spaces or wildcards), such as gamekeeper or acme.events"
        )
    if settings.relay_lease_seconds < 2 * settings.outbound_timeout:
        raise SettingsError(
            f"GAMEKEEPER_RELAY_LEASE_SECONDS: must be at least twice GAMEKEEPER_OUTBOUND_TIMEOUT "
            f"({settings.outbound_timeout:g} s), so a claim never ends while its request is out"
        )
    _check_push(settings)
    for name in ("itch_base_url", "steam_api_base_url"):
        if not getattr(settings, name).startswith(("https://", "http://")):
            raise SettingsError(f"{ENV_PREFIX}{name.upper()}: must start with https:// or http://")
    if settings.smtp_tls not in {"starttls", "tls", "none"}:
        raise SettingsError("GAMEKEEPER_SMTP_TLS: must be starttls, tls or none")
    if settings.log_format not in {"json", "console"}:
        raise SettingsError("GAMEKEEPER_LOG_FORMAT: must be json or console")
    if settings.log_level.upper() not in LOG_LEVELS:
        raise SettingsError(
            f"GAMEKEEPER_LOG_LEVEL: {settings.log_level!r} is not one of {', '.join(LOG_LEVELS)}"
        )
    for name in ("public_url", "media_url"):
        check_http_url(f"{ENV_PREFIX}{name.upper()}", getattr(settings, name))
    if not settings.embedded:
        for name in ("secret_key", "admin_token"):
            if not getattr(settings, name):
                raise SettingsError(
                    f"{ENV_PREFIX}{name.upper()}: required with a PostgreSQL database "
                    "(every replica must share it)"
                )
    if settings.secret_key is not None and len(settings.secret_key) < 32:
        raise SettingsError("GAMEKEEPER_SECRET_KEY: must be at least 32 characters")
    if settings.admin_token is not None and len(settings.admin_token) < 24:
        raise SettingsError("GAMEKEEPER_ADMIN_TOKEN: must be at least 24 characters")


def _check_push(settings: Settings) -> None:
    subject = settings.push_vapid_subject
    if subject is not None and not subject.startswith(("mailto:", "https://")):
        raise SettingsError(
            "GAMEKEEPER_PUSH_VAPID_SUBJECT: a contact push services may use, mailto: or https:"
        )
    for name in ("push_apns_base_url", "push_fcm_base_url", "push_fcm_token_url"):
        value = getattr(settings, name)
        if value is not None and not value.startswith(("https://", "http://")):
            raise SettingsError(f"{ENV_PREFIX}{name.upper()}: must start with https:// or http://")
    if not settings.push_expo_base_url.startswith(("https://", "http://")):
        raise SettingsError("GAMEKEEPER_PUSH_EXPO_BASE_URL: must start with https:// or http://")
    for name in ("push_credentials_file", "push_ca_file"):
        value = getattr(settings, name)
        if value is not None and not Path(value).is_file():
            raise SettingsError(f"{ENV_PREFIX}{name.upper()}: no file at {value}")
