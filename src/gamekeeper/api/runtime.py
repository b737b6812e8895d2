"""Everything a running server holds: settings, database, caches, limiter, pub/sub, metrics, blobs.

Built by ``create_app``; started and stopped by the application's lifespan.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
from dataclasses import dataclass, field
from datetime import datetime

import structlog

from gamekeeper.core.clock import Clock, utcnow
from gamekeeper.core.events.domain import CatalogChanged, DomainEvent, OutboxRecorded
from gamekeeper.core.identity.secrets import SecretBox, derive_key
from gamekeeper.core.identity.sessions import SessionPolicy
from gamekeeper.core.matchmaking.tokens import Signer
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
from gamekeeper.infra.sinks import make_sinks
from gamekeeper.infra.steam import HttpSteamVerifier
from gamekeeper.settings import Settings

log = structlog.get_logger(__name__)
USAGE_FLUSH_SECONDS = 30.0
WAKE_TOPIC = "outbox.wake"
CATALOG_TOPIC = "catalog.changed"


@dataclass
class UsageRecorder:
    """Remembers when keys were last used and writes it in batches, off the hot path."""

    pending: dict[str, datetime] = field(default_factory=dict)

    def saw(self, credential_id: str, at: datetime) -> None:
        self.pending[credential_id] = at

    async def flush(self, db: Database) -> None:
        if not self.pending:
            return
        batch, self.pending = self.pending, {}
        try:
            async with db.transaction() as uow:
                await uow.identity.touch_credentials(batch)
        except Exception:
            log.warning("could not record key usage", keys=len(batch), exc_info=True)


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
        self.db = Database(
            settings.sqlalchemy_url,
            pool_size=settings.db_pool_size,
            clock=clock,
            on_commit=self._on_commit,
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
        self._tasks: list[asyncio.Task[None]] = []
        self._relay_task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        if self.relay is not None:
            self.pubsub.subscribe(WAKE_TOPIC, self._woken)
        self.invalidator.start()
        self.matchmaker.subscribe()
        self.pubsub.subscribe(CATALOG_TOPIC, self._catalog_changed, on_gap=self._catalog_gap)
        await self.pubsub.start()
        for sink in self.sinks:
            await sink.start()
        self._tasks.append(asyncio.create_task(self._flush_usage_forever()))
        if self.relay is not None:
            self._relay_task = asyncio.create_task(self.relay.run(), name="relay")
        if self.settings.matchmaker_enabled:
            self.matchmaker.start()

    async def stop(self) -> None:
        await self.matchmaker.stop()
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
        for sink in self.sinks:
            await sink.close()
        await self.http.aclose()
        await self.itch.aclose()
        await self.steam.aclose()
        await self.db.close()

    async def _on_commit(self, events: list[DomainEvent]) -> None:
        await self.invalidator.on_commit(events)
        await self.matchmaker.on_commit(events)
        if any(isinstance(event, CatalogChanged) for event in events):
            self.catalog_cache.invalidate()
            if self.settings.redis_url:  # the other replicas' caches
                with contextlib.suppress(Exception):
                    await self.pubsub.publish(CATALOG_TOPIC, b"")
        if any(isinstance(event, OutboxRecorded) for event in events):
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

    async def _flush_usage_forever(self) -> None:
        while True:
            await asyncio.sleep(USAGE_FLUSH_SECONDS)
            await self.usage.flush(self.db)
