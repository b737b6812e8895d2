"""One pool's waiting requests and the pass that forms its matches; see ``engine`` for the rules.

The pool keeps its requests in two exact orders: by rating (then age, then arrival) and by
age (then arrival). A few arrivals or departures are placed by bisection; many at once by one
sort or one filter.

A pass lays the rating order out as a doubly linked list. For each anchor, oldest first, it
walks outwards to the ``size - 1`` nearest requests: they form a run of the list, so a match
unlinks them in O(1).

Not every anchor needs a walk. An anchor that found no match keeps a *wake* time: when its
allowed gap will reach the partners it found. Departures only push partners away, so that
time stays a lower bound; only an arrival can bring it forward, and then the arrival lands
within ``size - 1`` places of the anchor in rating order. So a pass walks the anchors near
arrivals and those whose wake time has come, oldest first; every anchor only when that is
most of the pool, or after a pass that ran out of servers.
"""

from __future__ import annotations

import heapq
import itertools
import math
from bisect import bisect_left, insort
from collections.abc import Callable
from operator import attrgetter
from typing import Any, TypeVar

from gamekeeper.core.matchmaking.engine_types import (
    EngineConfig,
    Match,
    PoolKey,
    QueuedRequest,
)

# Wake times are brought forward by this much, so float rounding in the gap arithmetic can
# never make them late; waking early only costs a walk that finds nothing.
_EARLY = 1e-3
# Below one change per this many requests, changes are placed one by one (bisection and a
# memmove each); above, the whole order is sorted or filtered again.
_ONE_BY_ONE = 16
# A pass walks every anchor when those it must walk are more than one in this many requests.
_MOST = 4

_T = TypeVar("_T")
_BY_RATING = attrgetter("rating")
_BY_AGE = attrgetter("enqueued_at")
# The two orders, equal keys in arrival order. Sorting many at once goes by the plain floats
# (a tuple key sorts 5x slower): by age, then by rating with a stable sort of that.
_RATING_ORDER = attrgetter("rating", "enqueued_at")
_AGE_ORDER = _BY_AGE


class Pool:
    """The waiting requests of one pool, in rating and in age order, with their wake times."""

    __slots__ = (
        "by_age",
        "by_rating",
        "deal",
        "fresh",
        "full",
        "gone",
        "heap",
        "key",
        "members",
        "serial",
        "size",
        "wake",
        "wakes",
    )

    def __init__(self, key: PoolKey) -> None:
        self.key = key
        self.size = sum(key[1])
        self.deal = snake_order(key[1])
        self.members: dict[str, QueuedRequest] = {}
        self.by_rating: list[QueuedRequest] = []  # placed members only
        self.by_age: list[QueuedRequest] = []
        self.fresh: list[QueuedRequest] = []  # arrivals, placed by the next pass
        self.gone: list[QueuedRequest] = []  # departures, taken out by the next pass
        self.wakes: dict[str, float] = {}  # per anchor that found no match
        self.heap: list[tuple[float, int, QueuedRequest]] = []  # the finite wakes
        self.serial = itertools.count()
        self.wake = math.inf  # the earliest wake time
        self.full = False  # the next pass walks every anchor

    def add(self, request: QueuedRequest) -> None:
        self.members[request.id] = request
        self.fresh.append(request)

    def discard(self, request: QueuedRequest) -> None:
        del self.members[request.id]
        self.wakes.pop(request.id, None)
        self.gone.append(request)
        if len(self.gone) > len(self.members) + 64:  # many leave a pool no pass looks at
            self._take_out_gone()

    def _take_out_gone(self) -> None:
        members, gone, self.gone = self.members, self.gone, []
        if not gone:
            return
        self.fresh = [r for r in self.fresh if members.get(r.id) is r]
        if len(gone) * _ONE_BY_ONE < len(self.by_rating):
            for request in gone:
                at = _locate(self.by_rating, request, _RATING_ORDER)
                if at >= 0:  # else it left before being placed
                    del self.by_rating[at]
                    del self.by_age[_locate(self.by_age, request, _AGE_ORDER)]
        else:
            self.by_rating = [r for r in self.by_rating if members.get(r.id) is r]
            self.by_age = [r for r in self.by_age if members.get(r.id) is r]

    def _place(self) -> list[QueuedRequest]:
        """Take the departures out of the orders and put the arrivals in; returns these."""
        self._take_out_gone()
        arrivals, self.fresh = self.fresh, []
        if len(arrivals) * _ONE_BY_ONE < len(self.by_rating):
            for request in arrivals:
                insort(self.by_rating, request, key=_RATING_ORDER)
                insort(self.by_age, request, key=_AGE_ORDER)
        elif arrivals:
            self.by_age += arrivals
            self.by_age.sort(key=_BY_AGE)
            self.by_rating = sorted(self.by_age, key=_BY_RATING)
        return arrivals

    def _anchors(self, arrivals: list[QueuedRequest], now: float) -> list[int] | None:
        """Places (1-based, rating order) of the anchors to walk, oldest first; None for all."""
        rated, reach = self.by_rating, self.size - 1
        if self.full or len(arrivals) * _MOST > len(rated):
            return None
        places: set[int] = set()
        for request in arrivals:
            at = _locate(rated, request, _RATING_ORDER) + 1
            places.update(range(max(1, at - reach), min(len(rated), at + reach) + 1))
        heap = self.heap
        while heap and heap[0][0] <= now:
            entry = heapq.heappop(heap)
            if self._current(entry):
                places.add(_locate(rated, entry[2], _RATING_ORDER) + 1)
        if len(places) * _MOST > len(rated):
            return None

        return sorted(places, key=lambda at: _AGE_ORDER(rated[at - 1]))

    def form_matches(
        self,
        now: float,
        config: EngineConfig,
        take_server: Callable[[], str | None] | None,
    ) -> list[Match]:
        """Form every match the pool allows at ``now``; sets ``wake``.

        ``take_server`` is None when the pool plays peer to peer; otherwise it hands out a free
        server, or None when there is none left, which ends the pass.
        """
        anchors = self._anchors(self._place(), now)
        rated, size, deal, team_sizes = self.by_rating, self.size, self.deal, self.key[1]
        n = len(rated)
        # The list in rating order, places 1..n; 0 and n + 1 are sentinels, infinitely far,
        # so the walk needs no bounds checks.
        ratings: list[float] | _Lazy[float]
        ages: list[float] | _Lazy[float]
        prv: list[int] | _Lazy[int]
        nxt: list[int] | _Lazy[int]
        taken: bytearray | _Lazy[int]
        if anchors is None:  # every anchor: their wake times are all made anew
            where = {r.id: i for i, r in enumerate(rated, 1)}
            anchors = [where[r.id] for r in self.by_age]
            self.wakes, self.heap = {}, []
            ratings = [-math.inf, *map(_BY_RATING, rated), math.inf]
            ages = [math.inf, *map(_BY_AGE, rated), math.inf]
            prv = [0, *range(n + 1)]
            nxt = [*range(1, n + 2), n + 1]
            taken = bytearray(n + 2)
        else:  # a few anchors: the same tables, filled where the walks read them
            ratings = _Lazy(
                lambda j: -math.inf if j == 0 else math.inf if j > n else rated[j - 1].rating
            )
            ages = _Lazy(lambda j: math.inf if j == 0 or j > n else rated[j - 1].enqueued_at)
            prv = _Lazy(lambda j: max(j - 1, 0))
            nxt = _Lazy(lambda j: min(j + 1, n + 1))
            taken = _Lazy(lambda j: 0)
        matches: list[Match] = []
        woken: list[tuple[float, int, QueuedRequest]] = []
        removed: list[int] = []  # places taken by matches
        wakes, serial = self.wakes, self.serial
        allowed_gap, gap_reached_at = config.allowed_gap, config.gap_reached_at
        self.full = False
        for at in anchors:
            if taken[at]:
                continue
            anchor, rating, lo, hi, far = rated[at - 1], ratings[at], prv[at], nxt[at], 0.0
            for _ in range(size - 1):  # take the nearer neighbour, the older one on a tie
                below, above = rating - ratings[lo], ratings[hi] - rating
                if above < below or (above == below and ages[hi] < ages[lo]):
                    far, hi = above, nxt[hi]
                else:
                    far, lo = below, prv[lo]
            if far == math.inf:  # too few left: an arrival marks the pool, near this anchor
                wakes[anchor.id] = math.inf
                continue
            if far > allowed_gap(anchor, now):
                wake = wakes[anchor.id] = gap_reached_at(anchor, far) - _EARLY
                woken.append((wake, next(serial), anchor))
                continue
            server = None
            if take_server is not None:
                server = take_server()
                if server is None:  # nothing more without a server; a free one marks the pool
                    self.full = True
                    break
            teams: list[list[QueuedRequest]] = [[] for _ in team_sizes]
            j = prv[hi]  # the group is the run lo < j < hi: deal it strongest first
            for t in deal:
                taken[j] = 1
                removed.append(j)
                teams[t].append(rated[j - 1])
                j = prv[j]
            nxt[lo], prv[hi] = hi, lo
            matches.append(Match(self.key, tuple(map(tuple, teams)), server))
        self._settle(removed, woken)
        return matches

    def _settle(self, removed: list[int], woken: list[tuple[float, int, QueuedRequest]]) -> None:
        """Take the matched out of the orders; keep the new wake times."""
        members, wakes, rated = self.members, self.wakes, self.by_rating
        for at in removed:
            request = rated[at - 1]
            del members[request.id]
            wakes.pop(request.id, None)
        if len(removed) * _ONE_BY_ONE < len(rated):
            for at in sorted(removed, reverse=True):
                del self.by_age[_locate(self.by_age, rated.pop(at - 1), _AGE_ORDER)]
        else:
            self.by_rating = [r for r in rated if r.id in members]
            self.by_age = [r for r in self.by_age if r.id in members]
        heap = self.heap
        if len(woken) > len(heap):
            heap += woken
            heapq.heapify(heap)
        else:
            for entry in woken:
                heapq.heappush(heap, entry)
        while heap and not self._current(heap[0]):  # superseded, or the request left
            heapq.heappop(heap)
        if len(heap) > 2 * len(wakes) + 64:
            heap[:] = [entry for entry in heap if self._current(entry)]
            heapq.heapify(heap)
        self.wake = math.inf if self.full or not heap else heap[0][0]

    def _current(self, entry: tuple[float, int, QueuedRequest]) -> bool:
        wake, _, request = entry
        return self.members.get(request.id) is request and self.wakes.get(request.id) == wake


class _Lazy(dict[int, _T]):
    """A table filled on first read: the part of an O(n) table that a few walks read."""

    __slots__ = ("fill",)

    def __init__(self, fill: Callable[[int], _T]) -> None:
        super().__init__()
        self.fill = fill

    def __missing__(self, place: int) -> _T:
        value = self[place] = self.fill(place)
        return value


def _locate(ordered: list[QueuedRequest], request: QueuedRequest, key: Any) -> int:
    """The index of ``request`` in ``ordered`` (sorted by ``key``), or -1.

    Requests with an equal key are scanned: cheap unless many share rating and enqueue time.
    """
    value = key(request)
    at = bisect_left(ordered, value, key=key)
    while at < len(ordered) and key(ordered[at]) == value:
        if ordered[at] is request:
            return at
        at += 1
    return -1


def snake_order(team_sizes: tuple[int, ...]) -> tuple[int, ...]:
    """The team of each player, strongest first: 0, 1, 1, 0, 0, 1… for two teams.

    Full teams are skipped, so unequal sizes work too: (2, 1) deals 0, 1, 0.
    """
    counts = [0] * len(team_sizes)
    forward = range(len(team_sizes))
    order: list[int] = []
    turn = 0
    while len(order) < sum(team_sizes):
        for t in forward if turn % 2 == 0 else forward[::-1]:
            if counts[t] < team_sizes[t]:
                counts[t] += 1
                order.append(t)
        turn += 1
    return tuple(order)
