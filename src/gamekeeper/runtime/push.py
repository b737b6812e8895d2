"""Push notifications in a running process: provider clients, the push relay, waiting sends.

The relay runs where ``Loop.PUSH`` is started (``serve`` with ``push_enabled``, and every
``gamekeeper worker``). A committed send wakes the relay here and, through pub/sub, in the other
processes; a change of a game's credentials drops its provider clients everywhere.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import Sequence

from gamekeeper.core.notify.events import PushCredentialsChanged, PushQueued
from gamekeeper.core.notify.types import ProviderName
from gamekeeper.core.secrets import SecretBox
from gamekeeper.core.uow import DomainEvent
from gamekeeper.db.database import Database
from gamekeeper.infra.http import SafeHttpClient
from gamekeeper.infra.metrics import Metrics
from gamekeeper.infra.pubsub import PubSub
from gamekeeper.infra.push.pool import ProviderPool
from gamekeeper.infra.push.relay import PushConfig, PushRelay
from gamekeeper.infra.push.waiters import Verdicts
from gamekeeper.settings import Settings

WAKE_TOPIC = "push.wake"
CREDENTIALS_TOPIC = "push.credentials"


class Push:
    def __init__(
        self,
        settings: Settings,
        db: Database,
        *,
        secret_key: str,
        box: SecretBox,
        metrics: Metrics,
        pubsub: PubSub,
    ) -> None:
        self.settings = settings
        self.db = db
        self.pubsub = pubsub
        self.verdicts = Verdicts()
        config = PushConfig.from_settings(settings)
        verify: ssl.SSLContext | bool = True
        if settings.push_ca_file:
            verify = ssl.create_default_context(cafile=settings.push_ca_file)
        # Web Push endpoints are user-given: the safe client, as for webhooks.
        self.http = SafeHttpClient(
            allowed_networks=settings.outbound_allowed_networks,
            timeout=settings.outbound_timeout,
            max_connections=config.per_provider,
            verify=verify,
        )
        self.pool = ProviderPool(
            settings, secret_key=secret_key, box=box, client=self.http, load=self._credentials
        )
        self.relay = PushRelay(
            db, pool=self.pool, box=box, metrics=metrics, verdicts=self.verdicts, config=config
        )
        self._task: asyncio.Task[None] | None = None

    @property
    def vapid_public_key(self) -> str:
        return self.pool.vapid_public_key

    async def _credentials(self, game_id: str) -> dict[ProviderName, str]:
        async with self.db.read() as uow:
            return await uow.notify.push_credentials(game_id)

    def subscribe(self, *, relay: bool) -> None:
        if relay:
            self.pubsub.subscribe(WAKE_TOPIC, self._woken)
        self.pubsub.subscribe(CREDENTIALS_TOPIC, self._credentials_changed)

    def start(self) -> None:
        self._task = asyncio.create_task(self.relay.run(), name="push-relay")

    async def stop(self) -> None:
        if self._task is not None:
            self.relay.stop()
            await self._task
            self._task = None
        await self.pool.aclose()
        await self.http.aclose()

    async def on_commit(self, events: Sequence[DomainEvent]) -> None:
        changed = {e.game_id for e in events if isinstance(e, PushCredentialsChanged)}
        for game_id in changed:
            self.pool.forget(game_id)
        queued = any(isinstance(e, PushQueued) for e in events)
        if queued and self._task is not None:
            self.relay.wake()
        if self.settings.redis_url:  # the other processes
            with contextlib.suppress(Exception):
                if queued:
                    await self.pubsub.publish(WAKE_TOPIC, b"")
                for game_id in changed:
                    await self.pubsub.publish(CREDENTIALS_TOPIC, game_id.encode())

    async def _woken(self, _topic: str, _message: bytes) -> None:
        self.relay.wake()

    async def _credentials_changed(self, _topic: str, message: bytes) -> None:
        self.pool.forget(message.decode())
