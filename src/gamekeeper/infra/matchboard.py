"""Each replica's memory of match requests, so that status polls need no database query.

A seat is written when a request is placed here, when any replica says it was placed, and
when the engine's leader settles it; it is only a cache: a poll that finds no seat, or a
waiting seat well past its deadline (news of its end lost), asks the database.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from gamekeeper.core.matchmaking.types import MatchSession

# A waiting seat this long past its deadline is not trusted: the leader should have said.
STALE_AFTER_DEADLINE = 3.0


@dataclass(slots=True)
class Seat:
    game_id: str
    player_id: str
    deadline: float
    status: str  # waiting | matched | failed
    reason: str | None = None
    session: MatchSession | None = None
    answer: bytes | None = None  # the status answer, once settled: it never changes again


class Board:
    """Seats by request id, the oldest forgotten first beyond ``capacity``."""

    def __init__(self, capacity: int = 500_000) -> None:
        self._seats: OrderedDict[str, Seat] = OrderedDict()
        self._capacity = capacity

    def __len__(self) -> int:
        return len(self._seats)

    def get(self, request_id: str, *, now: float) -> Seat | None:
        seat = self._seats.get(request_id)
        if seat is None or seat.status != "waiting":
            return seat
        return None if now > seat.deadline + STALE_AFTER_DEADLINE else seat

    def put(self, request_id: str, seat: Seat) -> None:
        known = self._seats.get(request_id)
        if known is not None and known.status != "waiting" and seat.status == "waiting":
            return  # news of a placement arriving after news of its end
        self._seats[request_id] = seat
        self._seats.move_to_end(request_id)
        while len(self._seats) > self._capacity:
            self._seats.popitem(last=False)

    def settled(self, request_id: str) -> bool:
        seat = self._seats.get(request_id)
        return seat is not None and seat.status != "waiting"

    def clear(self) -> None:
        self._seats.clear()
