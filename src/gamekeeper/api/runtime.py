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
from gamekeeper.core.events.domain import DomainEvent, OutboxRecorded
from gamekeeper.core.identity.secrets import SecretBox, derive_key
from gamekeeper.core.identity.sessions import SessionPolicy
from gamekeeper.db.database import Database
from gamekeeper.infra.authcache import AuthCache, Invalidator
from gamekeeper.infra.blobs import BlobStore, make_blob_store
from gamekeeper.infra.http import SafeHttpClient
from gamekeeper.infra.metrics import Metrics
from gamekeeper.infra.pubsub import PubSub, make_pubsub
from gamekeeper.infra.ratelimit import RateLimiter
from gamekeeper.infra.relay import Relay
from gamekeeper.infra.sinks import make_sinks
from gamekeeper.settings import Settings

log = structlog.get_logger(__name__)
USAGE_FLUSH_SECONDS = 30.0
WAKE_TOPIC = "outbox.wake"


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
        self.admin_token_hash = hashlib.sha256(admin_token.encode()).digest()
        self.metrics = Metrics(multiprocess_dir=os.environ.get("PROMETHEUS_MULTIPROC_DIR"))
        self.pubsub: PubSub = make_pubsub(settings.redis_url)
        self.cache = AuthCache(settings.key_cache_ttl)
        self.invalidator = Invalidator(self.cache, self.pubsub)
        self.sinks = make_sinks(settings)
        self.db = Database(
            settings.sqlalchemy_url,
            pool_size=settings.db_pool_size,
            clock=clock,
            on_commit=self._on_commit,
            sinks=tuple(sink.name for sink in self.sinks),
        )
        self.http = SafeHttpClient(
            allowed_networks=settings.outbound_allowed_networks, timeout=settings.outbound_timeout
        )
        self.relay: Relay | None = None
        if settings.relay_enabled:
            self.relay = Relay(
                self.db, client=self.http, box=self.box, metrics=self.metrics, sinks=self.sinks
            )
        self.limiter = RateLimiter(
            settings.rate_limits,
            redis_url=settings.redis_url,
            enabled=settings.rate_limits_enabled,
            metrics=self.metrics,
        )
        self.usage = UsageRecorder()
        self.blobs: BlobStore = make_blob_store(settings)
        self._tasks: list[asyncio.Task[None]] = []
        self._relay_task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        if self.relay is not None:
            self.pubsub.subscribe(WAKE_TOPIC, self._woken)
        self.invalidator.start()
        await self.pubsub.start()
        for sink in self.sinks:
            await sink.start()
        self._tasks.append(asyncio.create_task(self._flush_usage_forever()))
        if self.relay is not None:
            self._relay_task = asyncio.create_task(self.relay.run(), name="relay")

    async def stop(self) -> None:
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
        await self.db.close()

    async def _on_commit(self, events: list[DomainEvent]) -> None:
        await self.invalidator.on_commit(events)
        if any(isinstance(event, OutboxRecorded) for event in events):
            if self.relay is not None:
                self.relay.wake()
            if self.settings.redis_url:  # relays in other processes
                with contextlib.suppress(Exception):
                    await self.pubsub.publish(WAKE_TOPIC, b"")

    async def _woken(self, _topic: str, _message: bytes) -> None:
        if self.relay is not None:
            self.relay.wake()

    async def _flush_usage_forever(self) -> None:
        while True:
            await asyncio.sleep(USAGE_FLUSH_SECONDS)
            await self.usage.flush(self.db)
