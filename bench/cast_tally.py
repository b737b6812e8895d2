"""What a load generator counts in a step (``cast_load.py``), and its latency histograms,
merged across generators by ``cast_report.py``."""

from __future__ import annotations

import math
from collections import Counter
from typing import Any

RESOLUTION = 1.02  # each bucket 2 % wider than the one before
K = 1 / math.log(RESOLUTION)


class Hist:
    """Latencies in buckets 2 % wide, mergeable across processes (``cast_report``)."""

    def __init__(self) -> None:
        self.counts: Counter[int] = Counter()

    def add(self, seconds: float) -> None:
        self.counts[int(math.log(max(seconds, 1e-6) * 1e6) * K)] += 1


class Step:
    """What one step counted: sent, skipped, acked, received, gaps, ...; errors; latencies."""

    def __init__(self, no: int) -> None:
        self.no, self.mid = no, 0.0
        self.tally: Counter[str] = Counter()
        self.errors: Counter[str] = Counter()
        self.hists = {name: Hist() for name in ("latency", "first", "second", "stored", "ack")}

    def report(self) -> dict[str, Any]:
        hists = {name: dict(h.counts) for name, h in self.hists.items()}
        return {"tally": dict(self.tally), "errors": dict(self.errors), "hists": hists}


def bucket_ms(bucket: int) -> float:
    """The middle of a bucket, in milliseconds."""
    return math.exp((bucket + 0.5) / K) / 1e3
