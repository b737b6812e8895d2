"""The engine's book of dedicated servers: which are registered, which are free.

A server *qualifies* for a pool when it belongs to the pool's project and either the pool has
no server tag or the server's tag equals it. A pool *needs a server* when at least one
registered server qualifies. Free servers are handed out longest-free first.
"""

from __future__ import annotations

import heapq
from collections import Counter
from dataclasses import dataclass

from gamekeeper.core.matchmaking.engine_types import ServerSlot

Scope = tuple[str, str | None]
"""(project_id, server_tag): the pools a server change concerns are those of these scopes."""


@dataclass(slots=True)
class _Server:
    slot: ServerSlot
    busy: bool


class ServerBook:
    """Registered servers per project and tag, with their busy state and expiry."""

    def __init__(self) -> None:
        self._servers: dict[tuple[str, str], _Server] = {}
        self._registered: Counter[Scope] = Counter()
        self._registered_in: Counter[str] = Counter()
        # Insertion-ordered name sets: the first is the one free the longest.
        self._free: dict[Scope, dict[str, None]] = {}
        self._free_in: dict[str, dict[str, None]] = {}
        self._expiry: list[tuple[float, str, str]] = []

    def __len__(self) -> int:
        return len(self._servers)

    def register(self, slot: ServerSlot) -> list[Scope]:
        """Add a server or renew it (a busy one stays busy); returns the scopes touched."""
        key = (slot.project_id, slot.name)
        known = self._servers.get(key)
        touched = [(slot.project_id, slot.server_tag)]
        if known is not None:
            if known.slot.server_tag != slot.server_tag:
                touched.append((slot.project_id, known.slot.server_tag))
            busy = known.busy
            self._drop(key, known)
        else:
            busy = False
        self._servers[key] = _Server(slot, busy)
        self._registered[slot.project_id, slot.server_tag] += 1
        self._registered_in[slot.project_id] += 1
        if not busy:
            self._mark_free(slot)
        heapq.heappush(self._expiry, (slot.expires_at, slot.project_id, slot.name))
        return touched

    def remove(self, project_id: str, name: str) -> list[Scope]:
        """Forget a server, busy or not; returns the scopes touched."""
        known = self._servers.get((project_id, name))
        if known is None:
            return []
        self._drop((project_id, name), known)
        return [(project_id, known.slot.server_tag)]

    def release(self, project_id: str, name: str) -> list[Scope]:
        """A busy server's session ended: it is free again. Unknown or free: nothing."""
        known = self._servers.get((project_id, name))
        if known is None or not known.busy:
            return []
        known.busy = False
        self._mark_free(known.slot)
        return [(project_id, known.slot.server_tag)]

    def occupy(self, project_id: str, name: str) -> None:
        """A free server is known to host a session already: busy. Otherwise nothing."""
        known = self._servers.get((project_id, name))
        if known is not None and not known.busy:
            self._unmark_free(known.slot)
            known.busy = True

    def expire(self, now: float) -> list[Scope]:
        """Drop every server whose ``expires_at`` is ``now`` or earlier."""
        touched: list[Scope] = []
        while self._expiry and self._expiry[0][0] <= now:
            expires_at, project_id, name = heapq.heappop(self._expiry)
            known = self._servers.get((project_id, name))
            if known is not None and known.slot.expires_at == expires_at:
                self._drop((project_id, name), known)
                touched.append((project_id, known.slot.server_tag))
        if len(self._expiry) > 2 * len(self._servers) + 64:  # renewals leave stale entries
            self._expiry = [(s.slot.expires_at, *k) for k, s in self._servers.items()]
            heapq.heapify(self._expiry)
        return touched

    def needs_server(self, project_id: str, server_tag: str | None) -> bool:
        """Whether a pool with this project and server tag must get a server."""
        if server_tag is None:
            return self._registered_in[project_id] > 0
        return self._registered[project_id, server_tag] > 0

    def has_free(self, project_id: str, server_tag: str | None) -> bool:
        return bool(self._free_set(project_id, server_tag))

    def take(self, project_id: str, server_tag: str | None) -> str | None:
        """Give out the qualifying server free the longest (now busy): its name, or None."""
        free = self._free_set(project_id, server_tag)
        if not free:
            return None
        name = next(iter(free))
        known = self._servers[project_id, name]
        self._unmark_free(known.slot)
        known.busy = True
        return name

    def _free_set(self, project_id: str, server_tag: str | None) -> dict[str, None] | None:
        if server_tag is None:
            return self._free_in.get(project_id)
        return self._free.get((project_id, server_tag))

    def _mark_free(self, slot: ServerSlot) -> None:
        self._free.setdefault((slot.project_id, slot.server_tag), {})[slot.name] = None
        self._free_in.setdefault(slot.project_id, {})[slot.name] = None

    def _unmark_free(self, slot: ServerSlot) -> None:
        scope = (slot.project_id, slot.server_tag)
        del self._free[scope][slot.name]
        if not self._free[scope]:
            del self._free[scope]
        del self._free_in[slot.project_id][slot.name]
        if not self._free_in[slot.project_id]:
            del self._free_in[slot.project_id]

    def _drop(self, key: tuple[str, str], known: _Server) -> None:
        slot = known.slot
        del self._servers[key]
        self._registered[slot.project_id, slot.server_tag] -= 1
        if not self._registered[slot.project_id, slot.server_tag]:
            del self._registered[slot.project_id, slot.server_tag]
        self._registered_in[slot.project_id] -= 1
        if not self._registered_in[slot.project_id]:
            del self._registered_in[slot.project_id]
        if not known.busy:
            self._unmark_free(slot)
