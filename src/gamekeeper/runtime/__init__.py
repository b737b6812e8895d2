"""The composition root: everything a running process holds, wired once.

Settings, database, caches, limiter, pub/sub, metrics, blobs, sinks, the relay, the
matchmaker, push (``runtime/push.py``) and cast (``runtime/cast.py``). ``serve`` (through
``create_app``) and ``worker`` both build a ``Runtime`` and start only the loops they run
(``Loop``). Reactions to committed domain events are subscribed
here by event type (``Reactions``): a new domain adds its subscriptions in ``_react``.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
from collections.abc import Iterable, Sequence
from enum import StrEnum

import structlog

import gamekeeper.domains  # noqa: F401  (registers every domain's event types)
from gamekeeper.core.cast.events import CastControllerSeated, CastInputRecorded, CastSessionEnded
from gamekeeper.core.catalog.events import CatalogChanged
from gamekeeper.core.clock import Clock, utcnow
from gamekeeper.core.events.events import OutboxRecorded
from gamekeeper.core.identity.events import (
    CredentialRevoked,
    DeveloperSecretRotated,
    GameChanged,
    SessionRevoked,
)
from gamekeeper.core.identity.types import SessionPolicy
from gamekeeper.core.matchmaking.events import (
    GameServerChanged,
    MatchRequestCancelled,
    MatchRequestPlaced,
)
from gamekeeper.core.matchmaking.tokens import Signer
from gamekeeper.core.notify.events import PushCredentialsChanged, PushQueued
from gamekeeper.core.secrets import SecretBox, derive_key
from gamekeeper.core.uow import DomainEvent
from gamekeeper.db.database import Database
from gamekeeper.infra.authcache import AuthCache, Invalidator
from gamekeeper.infra.blobs import BlobStore, make_blob_store
from gamekeeper.infra.http import SafeHttpClient
from gamekeeper.infra.itch import HttpItchVerifier
from gamekeeper.infra.matchmaker import Matchmaker
from gamekeeper.infra.metrics import Metrics
from gamekeeper.infra.pubsub import PubSub, make_pubsub
from gamekeeper.infra.ratelimit import RateLimiter
from gamekeeper.infra.readcache import ReadCache
from gamekeeper.infra.relay import Relay, RelayConfig
from gamekeeper.infra.replay import ReplayGuard
from gamekeeper.infra.sinks import make_sinks
from gamekeeper.infra.steam import HttpSteamVerifier
from gamekeeper.runtime.cast import Cast
from gamekeeper.runtime.push import Push
from gamekeeper.runtime.reactions import Reactions
from gamekeeper.runtime.usage import UsageRecorder
from gamekeeper.settings import Settings

log = structlog.get_logger(__name__)
USAGE_FLUSH_SECONDS = 30.0
WAKE_TOPIC = "outbox.wake"
CATALOG_TOPIC = "catalog.changed"


class Loop(StrEnum):
    """The background loops a process may run."""

    USAGE = "usage"  # writes key usage in batches
    RELAY = "relay"  # delivers the outbox (needs settings.relay_enabled)
    MATCHMAKER = "matchmaker"  # leads matchmaking shards (needs settings.matchmaker_enabled)
    PUSH = "push"  # sends push notifications (serve: needs settings.push_enabled)
    CAST = "cast"  # idles and ends cast sessions without activity


def serve_loops(settings: Settings) -> frozenset[Loop]:
    """The loops a ``serve`` process runs: key usage, cast expiry, and the relay, matchmaker and
    push relay if enabled."""
    loops = {Loop.USAGE, Loop.CAST}
    if settings.relay_enabled:
        loops.add(Loop.RELAY)
    if settings.matchmaker_enabled:
        loops.add(Loop.MATCHMAKER)
    if settings.push_enabled:
        loops.add(Loop.PUSH)
    return frozenset(loops)


class Runtime:
    def __init__(
        self, settings: Settings, *, secret_key: str, admin_token: str, clock: Clock = utcnow
    ) -> None:
        self.settings = settings
        self.clock = clock
        self.box = SecretBox(secret_key)
        self.session_policy = SessionPolicy(
            signing_key=derive_key(secret_key, "gamekeeper/session-jwt/v1"),
            access_ttl=settings.access_token_ttl,
            refresh_ttl=settings.refresh_token_ttl,
        )
        self.match_signer = Signer(derive_key(secret_key, "gamekeeper/battleplace/v1"))
        self.admin_token_hash = hashlib.sha256(admin_token.encode()).digest()
        self.metrics = Metrics(multiprocess_dir=os.environ.get("PROMETHEUS_MULTIPROC_DIR"))
        self.pubsub: PubSub = make_pubsub(settings.redis_url)
        self.cache = AuthCache(settings.key_cache_ttl)
        self.invalidator = Invalidator(self.cache, self.pubsub)
        self.catalog_cache = ReadCache(ttl=settings.catalog_cache_ttl)
        self.sinks = make_sinks(settings)
        self.reactions = Reactions()
        self.db = Database(
            settings.sqlalchemy_url,
            pool_size=settings.db_pool_size,
            clock=clock,
            on_commit=self.reactions.dispatch,
            sinks=tuple(sink.name for sink in self.sinks),
        )
        relay_config = RelayConfig.from_settings(settings)
        self.http = SafeHttpClient(
            allowed_networks=settings.outbound_allowed_networks,
            timeout=settings.outbound_timeout,
            max_connections=relay_config.max_in_flight,  # every delivery may hold a connection
        )
        self.relay: Relay | None = None
        if settings.relay_enabled:
            self.relay = Relay(
                self.db, client=self.http, box=self.box, metrics=self.metrics, sinks=self.sinks,
                config=relay_config,
            )  # fmt: skip
        self.limiter = RateLimiter(
            settings.rate_limits,
            redis_url=settings.redis_url,
            enabled=settings.rate_limits_enabled,
            metrics=self.metrics,
            clock=lambda: self.clock().timestamp(),  # embedded counters; Redis keeps its own
        )
        # Signatures of OGP writes already used (in the Redis of the cluster, if any).
        self.replays = ReplayGuard(settings.redis_url, clock=lambda: self.clock().timestamp())
        self.usage = UsageRecorder()
        # Identity providers behind BattlePlace client auth (their base URLs are settings).
        self.itch = HttpItchVerifier.from_settings(settings)
        self.steam = HttpSteamVerifier.from_settings(settings)
        self.matchmaker = Matchmaker(
            self.db,
            self.pubsub,
            clock=clock,
            metrics=self.metrics,
            shards=settings.matchmaker_shards,
            tick_interval=settings.matchmaker_tick_seconds,
            session_timeout=settings.match_session_timeout,
            distributed=settings.redis_url is not None,
        )
        self.blobs: BlobStore = make_blob_store(settings)
        self.push = Push(
            settings, self.db, secret_key=secret_key, box=self.box, metrics=self.metrics,
            pubsub=self.pubsub,
        )  # fmt: skip
        self.cast = Cast(settings, self.db, pubsub=self.pubsub, metrics=self.metrics, clock=clock)
        self._tasks: list[asyncio.Task[None]] = []
        self._relay_task: asyncio.Task[None] | None = None
        self._loops: frozenset[Loop] = frozenset()
        self._react()

    def _react(self) -> None:
        """Subscribe what this process does after a commit, by event type."""
        on = self.reactions.on
        on(
            CredentialRevoked,
            DeveloperSecretRotated,
            SessionRevoked,
            react=self.invalidator.on_commit,
        )
        on(
            MatchRequestPlaced,
            MatchRequestCancelled,
            GameServerChanged,
            react=self.matchmaker.on_commit,
        )
        on(CatalogChanged, GameChanged, react=self._catalog_committed)
        on(OutboxRecorded, react=self._outbox_committed)
        on(PushQueued, PushCredentialsChanged, react=self.push.on_commit)
        on(CastInputRecorded, CastControllerSeated, CastSessionEnded, react=self.cast.hub.on_commit)

    async def start(self, loops: Iterable[Loop] | None = None) -> None:
        """Connect and start ``loops`` (by default those of ``serve``)."""
        self._loops = frozenset(serve_loops(self.settings) if loops is None else loops)
        if Loop.RELAY in self._loops and self.relay is None:
            raise ValueError("the relay loop needs settings.relay_enabled")
        if Loop.RELAY in self._loops:
            self.pubsub.subscribe(WAKE_TOPIC, self._woken)
        self.invalidator.start()
        self.matchmaker.subscribe()
        self.push.subscribe(relay=Loop.PUSH in self._loops)
        self.pubsub.subscribe(CATALOG_TOPIC, self._catalog_changed, on_gap=self._catalog_gap)
        await self.pubsub.start()
        for sink in self.sinks:
            await sink.start()
        if Loop.USAGE in self._loops:
            self._tasks.append(
                asyncio.create_task(self.usage.run(self.db, every=USAGE_FLUSH_SECONDS))
            )
        if Loop.RELAY in self._loops and self.relay is not None:
            self._relay_task = asyncio.create_task(self.relay.run(), name="relay")
        if Loop.MATCHMAKER in self._loops:
            self.matchmaker.start()
        if Loop.PUSH in self._loops:
            self.push.start()
        self.cast.start(expiry=Loop.CAST in self._loops)

    async def stop(self) -> None:
        await self.cast.stop()
        await self.matchmaker.stop()
        await self.push.stop()
        if self.relay is not None and self._relay_task is not None:
            self.relay.stop()
            await self._relay_task
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.usage.flush(self.db)
        self.invalidator.stop()
        await self.pubsub.close()
        await self.limiter.close()
        await self.replays.close()
        for sink in self.sinks:
            await sink.close()
        await self.http.aclose()
        await self.itch.aclose()
        await self.steam.aclose()
        await self.db.close()

    async def _catalog_committed(self, _events: Sequence[DomainEvent]) -> None:
        self.catalog_cache.invalidate()
        if self.settings.redis_url:  # the other replicas' caches
            with contextlib.suppress(Exception):
                await self.pubsub.publish(CATALOG_TOPIC, b"")

    async def _outbox_committed(self, _events: Sequence[DomainEvent]) -> None:
        if self.relay is not None:
            self.relay.wake()
        if self.settings.redis_url:  # relays in other processes
            with contextlib.suppress(Exception):
                await self.pubsub.publish(WAKE_TOPIC, b"")

    async def _catalog_changed(self, _topic: str, _message: bytes) -> None:
        self.catalog_cache.invalidate()

    async def _catalog_gap(self) -> None:
        self.catalog_cache.invalidate()

    async def _woken(self, _topic: str, _message: bytes) -> None:
        if self.relay is not None:
            self.relay.wake()
