"""The garbage collector of a server process (``settings.gc_threshold``).

A server holding thousands of WebSocket connections keeps hundreds of thousands of tracked
objects (coroutines, tasks, queues per socket); every full collection walks them all and stops
the process meanwhile (0.4-0.5 s with 3,000 cast sockets, docs/benchmarks.md). After the app
is built, what it imported and built is moved out of the collector's sight (``gc.freeze``),
and generation 0 is collected after more allocations, so the older generations are reached
less often.
"""

from __future__ import annotations

import gc

from gamekeeper.settings import gc_thresholds


def tune_gc(threshold: str) -> tuple[int, ...] | None:
    """Apply ``threshold`` (``"50000,20,100"``; ``"off"``: Python's own) to this process once
    its app is built: what is alive now is frozen, then the thresholds set. The thresholds set,
    or None."""
    values = gc_thresholds(threshold)
    if values is None:
        return None
    gc.collect()  # the garbage of the start, so that only what lives is frozen
    gc.freeze()
    gc.set_threshold(*values)
    return values
