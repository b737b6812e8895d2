"""The matchmaking engine: waiting requests and servers in memory, matches formed by ``tick``.

Pure: no I/O, no clock of its own (``now`` is passed in, seconds on the caller's clock), and
deterministic: the same calls give the same matches. The caller persists what it needs.

Rules:

- **Pools.** Requests match only within one pool, keyed by (project, team sizes, match tag,
  server tag). A match takes exactly ``sum(team_sizes)`` requests of one pool.
- **Order and skill.** Requests anchor matches oldest first (``enqueued_at``, then arrival).
  An anchor takes the ``sum(team_sizes) - 1`` requests nearest to it in rating (on a tie the
  older, then the lower), if the farthest of them is within the anchor's allowed gap:
  ``EngineConfig.base_gap`` plus ``widen_per_second`` per second waited, unbounded from
  ``open_lead`` seconds before its deadline (at least the tick interval, so a request whose
  deadline falls before the next tick accepts anyone now). An anchor that finds too few
  partners stays waiting and the next oldest request anchors.
- **Teams** are dealt in snake order by rating, strongest first (team 1, 2, 2, 1, 1, …),
  into the pool's team sizes in order.
- **Servers.** A server qualifies for a pool when it is of the pool's project and either the
  pool has no server tag or the tags are equal. A pool *needs a server* when a registered,
  unexpired server qualifies; a match in it takes the qualifying server that has been free the
  longest and marks it busy until ``release_server``; with none free it forms no match. Other
  pools match peer to peer (``server=None``). ``tick`` first drops servers whose
  ``expires_at <= now`` (a busy one is simply gone); a renewal keeps the busy state.
- **Deadlines.** ``tick`` then fails every waiting request whose ``deadline <= now``, before
  matching. The reason is ``noServer`` when its pool needs a server, none that qualifies is
  free, and the pool holds at least ``sum(team_sizes)`` waiting requests (itself included):
  at its deadline it accepts anyone, so only the missing server kept it from a match.
  Otherwise ``timedOut``. A matched, failed or cancelled request leaves the engine for good.

Cost: a tick looks only at pools marked by an arrival or a server change and at pools where
some request's wake time (when its gap reaches the partners it found) has come; in those it
walks only the requests near arrivals and those due (see ``engine_pool``). Pools that cannot
match cost nothing per tick; a tick that matches most of a pool costs about 5 µs per request.
"""

from __future__ import annotations

import heapq
import itertools
import math

from gamekeeper.core.matchmaking.engine_pool import Pool
from gamekeeper.core.matchmaking.engine_servers import Scope, ServerBook
from gamekeeper.core.matchmaking.engine_types import (
    EngineConfig,
    Failure,
    FailureReason,
    Match,
    PoolKey,
    QueuedRequest,
    ServerSlot,
    TickOutcome,
)

__all__ = [
    "Engine",
    "EngineConfig",
    "Failure",
    "FailureReason",
    "Match",
    "PoolKey",
    "QueuedRequest",
    "ServerSlot",
    "TickOutcome",
]


class Engine:
    """Match requests within pools, oldest first, preferring close ratings; see the module."""

    def __init__(self, config: EngineConfig | None = None) -> None:
        self.config = config or EngineConfig()
        self._requests: dict[str, QueuedRequest] = {}
        self._pools: dict[PoolKey, Pool] = {}
        self._scopes: dict[Scope, dict[PoolKey, None]] = {}  # (project, pool's server tag)
        self._servers = ServerBook()
        self._order = itertools.count()  # ties in the heaps never compare the payloads
        self._deadlines: list[tuple[float, int, QueuedRequest]] = []
        self._wakes: list[tuple[float, int, PoolKey]] = []
        self._marked: dict[PoolKey, None] = {}  # pools to look at in the next tick, in order

    def __len__(self) -> int:
        return len(self._requests)

    def __contains__(self, request_id: object) -> bool:
        return request_id in self._requests

    def get(self, request_id: str) -> QueuedRequest | None:
        """The waiting request with this id, or None."""
        return self._requests.get(request_id)

    def add(self, request: QueuedRequest) -> None:
        """Queue a request; ValueError for an id already waiting or an unusable request."""
        if request.id in self._requests:
            raise ValueError(f"request {request.id!r} is already waiting")
        if not math.isfinite(request.rating):
            raise ValueError(f"request {request.id!r}: rating must be finite")
        key = request.pool
        pool = self._pools.get(key)
        if pool is None:
            pool = self._new_pool(key)
        pool.add(request)
        self._requests[request.id] = request
        heapq.heappush(self._deadlines, (request.deadline, next(self._order), request))
        self._marked[key] = None

    def cancel(self, request_id: str) -> bool:
        """Withdraw a waiting request; False when it is not waiting (unknown, matched, failed)."""
        request = self._requests.pop(request_id, None)
        if request is None:
            return False
        self._leave(request)
        return True

    def register_server(self, slot: ServerSlot) -> None:
        """Offer a server until ``slot.expires_at``: new, or a renewal that keeps it busy if so."""
        self._mark_scopes(self._servers.register(slot))

    def remove_server(self, project_id: str, name: str) -> None:
        """Forget a server, busy or not; unknown names are ignored."""
        self._mark_scopes(self._servers.remove(project_id, name))

    def release_server(self, project_id: str, name: str) -> None:
        """A busy server's session ended: it can host the next match. Otherwise nothing."""
        self._mark_scopes(self._servers.release(project_id, name))

    def occupy_server(self, project_id: str, name: str) -> None:
        """A free server already hosts a session (known from storage): busy until released."""
        self._servers.occupy(project_id, name)

    def tick(self, now: float) -> TickOutcome:
        """Drop expired servers, fail overdue requests, then form every match possible now."""
        self._mark_scopes(self._servers.expire(now))
        failures = self._fail_overdue(now)
        while self._wakes and self._wakes[0][0] <= now:
            wake, _, key = heapq.heappop(self._wakes)
            pool = self._pools.get(key)
            if pool is not None and pool.wake == wake:
                self._marked[key] = None
        marked, self._marked = self._marked, {}
        matches: list[Match] = []
        for key in marked:
            pool = self._pools.get(key)
            if pool is not None:
                matches += self._match(pool, now)
        return TickOutcome(matches, failures)

    def _match(self, pool: Pool, now: float) -> list[Match]:
        project_id, server_tag = pool.key[0], pool.key[3]
        servers = self._servers
        needs_server = servers.needs_server(project_id, server_tag)
        if len(pool.members) < pool.size or (
            needs_server and not servers.has_free(project_id, server_tag)
        ):
            pool.wake = math.inf  # an arrival or a server change marks the pool again
            return []

        def take_server() -> str | None:
            return servers.take(project_id, server_tag)

        matches = pool.form_matches(now, self.config, take_server if needs_server else None)
        for match in matches:
            for team in match.teams:
                for request in team:
                    del self._requests[request.id]
        if not pool.members:
            self._drop_pool(pool)
        elif pool.wake != math.inf:
            heapq.heappush(self._wakes, (pool.wake, next(self._order), pool.key))
            if len(self._wakes) > 2 * len(self._pools) + 64:  # superseded wake times
                self._wakes = [
                    (p.wake, next(self._order), k)
                    for k, p in self._pools.items()
                    if p.wake != math.inf
                ]
                heapq.heapify(self._wakes)
        return matches

    def _fail_overdue(self, now: float) -> list[Failure]:
        overdue: dict[PoolKey, list[QueuedRequest]] = {}
        deadlines = self._deadlines
        while deadlines and deadlines[0][0] <= now:
            request = heapq.heappop(deadlines)[2]
            if self._requests.get(request.id) is request:
                overdue.setdefault(request.pool, []).append(request)
        failures: list[Failure] = []
        for key, requests in overdue.items():
            reason = self._failure_reason(self._pools[key])
            for request in requests:
                failures.append(Failure(request, reason))
                del self._requests[request.id]
                self._leave(request)
        if len(deadlines) > 2 * len(self._requests) + 1024:  # cancelled and matched requests
            self._deadlines = [(r.deadline, next(self._order), r) for r in self._requests.values()]
            heapq.heapify(self._deadlines)
        return failures

    def _failure_reason(self, pool: Pool) -> FailureReason:
        project_id, server_tag = pool.key[0], pool.key[3]
        if (
            len(pool.members) >= pool.size
            and self._servers.needs_server(project_id, server_tag)
            and not self._servers.has_free(project_id, server_tag)
        ):
            return "noServer"
        return "timedOut"

    def _leave(self, request: QueuedRequest) -> None:
        pool = self._pools[request.pool]
        pool.discard(request)
        if not pool.members:
            self._drop_pool(pool)

    def _new_pool(self, key: PoolKey) -> Pool:
        project_id, team_sizes, _, server_tag = key
        if not team_sizes or not all(type(s) is int and s > 0 for s in team_sizes):
            raise ValueError(f"team sizes must be positive integers, not {team_sizes!r}")
        pool = self._pools[key] = Pool(key)
        self._scopes.setdefault((project_id, server_tag), {})[key] = None
        return pool

    def _drop_pool(self, pool: Pool) -> None:
        key = pool.key
        del self._pools[key]
        self._marked.pop(key, None)
        scope = (key[0], key[3])
        del self._scopes[scope][key]
        if not self._scopes[scope]:
            del self._scopes[scope]

    def _mark_scopes(self, scopes: list[Scope]) -> None:
        """Mark the pools a server change concerns: its tag's pools and the untagged ones."""
        for project_id, server_tag in scopes:
            keys = list(self._scopes.get((project_id, server_tag), ()))
            if server_tag is not None:
                keys += self._scopes.get((project_id, None), ())
            self._marked.update(dict.fromkeys(keys))
