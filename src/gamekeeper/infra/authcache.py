"""A short-lived, bounded cache of resolved credentials, invalidated by tag.

Resolving a key on every request would cost a database round trip; this cache answers from
memory instead. Entries expire after ``ttl`` seconds whatever happens; revocations drop them at
once through ``invalidate`` — locally, and on every replica through pub/sub (see
``Invalidator``). When pub/sub reports that messages may have been missed, the whole cache is
cleared, so a lost message can never keep a revoked key alive past that moment.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import structlog

from gamekeeper.core.identity.events import (
    CredentialRevoked,
    DeveloperSecretRotated,
    SessionRevoked,
)
from gamekeeper.core.uow import DomainEvent
from gamekeeper.infra.pubsub import PubSub

TOPIC = "auth.invalidate"
log = structlog.get_logger(__name__)


class AuthCache:
    def __init__(
        self,
        ttl: float,
        *,
        max_entries: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self._clock = clock
        self._entries: dict[str, tuple[float, Any, str]] = {}
        self._by_tag: dict[str, set[str]] = {}
        # Bumped by every invalidation: a value read from storage before an invalidation
        # must not be cached after it.
        self.generation = 0

    def get(self, key: str) -> Any | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        expires, value, _tag = entry
        if expires <= self._clock():
            self._drop(key)
            return None
        return value

    def put(self, key: str, value: Any, *, tag: str, generation: int) -> None:
        """Cache ``value`` unless an invalidation happened since ``generation`` was read."""
        if self.ttl <= 0 or generation != self.generation:
            return
        if key not in self._entries and len(self._entries) >= self.max_entries:
            self._drop(next(iter(self._entries)))  # oldest inserted first
        self._entries[key] = (self._clock() + self.ttl, value, tag)
        self._by_tag.setdefault(tag, set()).add(key)

    def invalidate(self, tag: str) -> None:
        self.generation += 1
        for key in self._by_tag.pop(tag, ()):
            self._entries.pop(key, None)

    def clear(self) -> None:
        self.generation += 1
        self._entries.clear()
        self._by_tag.clear()

    def __len__(self) -> int:
        return len(self._entries)

    def _drop(self, key: str) -> None:
        _, _, tag = self._entries.pop(key)
        keys = self._by_tag.get(tag)
        if keys is not None:
            keys.discard(key)
            if not keys:
                del self._by_tag[tag]


def tag_for(event: DomainEvent) -> str | None:
    """The cache tag an event invalidates, if any."""
    match event:
        case CredentialRevoked(credential_id=cid):
            return f"credential:{cid}"
        case DeveloperSecretRotated(developer_id=did):
            return f"developer:{did}"
        case SessionRevoked(session_id=sid):
            return f"session:{sid}"
        case _:
            return None


class Invalidator:
    """Applies committed events to the local cache and tells the other replicas."""

    def __init__(self, cache: AuthCache, pubsub: PubSub) -> None:
        self.cache = cache
        self.pubsub = pubsub
        self._unsubscribe: Callable[[], None] | None = None

    def start(self) -> None:
        self._unsubscribe = self.pubsub.subscribe(TOPIC, self._on_message, on_gap=self._on_gap)

    def stop(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()

    async def on_commit(self, events: list[DomainEvent]) -> None:
        for event in events:
            tag = tag_for(event)
            if tag is None:
                continue
            self.cache.invalidate(tag)
            try:
                await self.pubsub.publish(TOPIC, tag.encode())
            except Exception:
                # The local replica is already correct; others fall back on the TTL.
                log.warning("could not publish cache invalidation", tag=tag, exc_info=True)

    async def _on_message(self, _topic: str, message: bytes) -> None:
        self.cache.invalidate(message.decode())

    async def _on_gap(self) -> None:
        self.cache.clear()
