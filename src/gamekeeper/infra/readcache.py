"""Encoded answers of public catalog reads, kept until the catalog changes.

Every committed change to a listed game (``CatalogChanged``) moves the generation on, in this
process at once and in the other replicas through pub/sub; an answer computed under an older
generation is never served. A replica that may have missed a note (a pub/sub gap) drops
everything, and every answer also expires after ``ttl`` seconds whatever happens.
"""

from __future__ import annotations

import time
from collections import OrderedDict


class ReadCache:
    def __init__(self, *, ttl: float, capacity: int = 10_000) -> None:
        self._ttl = ttl
        self._capacity = capacity
        self._answers: OrderedDict[str, tuple[int, float, bytes]] = OrderedDict()
        self.generation = 0

    @property
    def enabled(self) -> bool:
        return self._ttl > 0

    def get(self, key: str) -> bytes | None:
        found = self._answers.get(key)
        if found is None:
            return None
        generation, expires, answer = found
        if generation != self.generation or expires < time.monotonic():
            del self._answers[key]
            return None
        return answer

    def put(self, key: str, answer: bytes, *, generation: int) -> None:
        """Keep ``answer``, computed from data read under ``generation`` (read before it)."""
        if not self.enabled or generation != self.generation:
            return  # the catalog changed while it was computed
        self._answers[key] = (generation, time.monotonic() + self._ttl, answer)
        self._answers.move_to_end(key)
        while len(self._answers) > self._capacity:
            self._answers.popitem(last=False)

    def invalidate(self) -> None:
        self.generation += 1
        self._answers.clear()
