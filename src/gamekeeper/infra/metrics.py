"""Prometheus metrics, one registry per ``Metrics`` instance (several apps may share a process).

Multi-process mode (``uvicorn --workers N``) is a process-wide switch in prometheus-client: it is
chosen when the library is imported, from ``PROMETHEUS_MULTIPROC_DIR``. The launcher must set that
variable to an empty directory before starting the workers; each worker then writes its values
to files there and ``render`` sums the files of every worker.
"""

from __future__ import annotations

import os

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    values,
)
from prometheus_client.multiprocess import MultiProcessCollector

__all__ = ["LATENCY_BUCKETS", "Metrics"]

LATENCY_BUCKETS = (
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
)  # fmt: skip


class Metrics:
    """The server's metrics and the registry that renders them for ``GET /metrics``."""

    def __init__(self, *, multiprocess_dir: str | None = None) -> None:
        self.multiprocess_dir = multiprocess_dir
        self.registry = CollectorRegistry(auto_describe=True)
        if multiprocess_dir is None:
            owner: CollectorRegistry | None = self.registry
        else:
            _check_multiprocess(multiprocess_dir)
            # The collector reads every worker's files, this one's included; registering the
            # metrics too would export this worker's values twice.
            MultiProcessCollector(self.registry, path=multiprocess_dir)  # type: ignore[no-untyped-call]
            owner = None
        self.http_requests = Counter(
            "gamekeeper_http_requests",
            "HTTP requests answered, by method, route template and status.",
            ("method", "route", "status"),
            registry=owner,
        )
        self.http_latency = Histogram(
            "gamekeeper_http_request_duration_seconds",
            "Time from receiving an HTTP request to the end of the handler, in seconds.",
            ("method", "route"),
            buckets=LATENCY_BUCKETS,
            registry=owner,
        )
        self.ratelimit_errors = Counter(
            "gamekeeper_ratelimit_storage_errors",
            "Rate-limit storage failures (the request was allowed: the limiter fails open).",
            registry=owner,
        )

        self.deliveries = Counter(
            "gamekeeper_deliveries",
            "Delivery attempts of events, by sink and outcome (delivered, retry, dead, postponed).",
            ("sink", "outcome"),
            registry=owner,
        )
        self.delivery_latency = Histogram(
            "gamekeeper_delivery_latency_seconds",
            "Time from recording an event to its successful delivery, in seconds.",
            ("sink",),
            buckets=(*LATENCY_BUCKETS, 30.0, 300.0, 3600.0),
            registry=owner,
        )
        self.outbox_lag = Gauge(
            "gamekeeper_outbox_lag_seconds",
            "Age of the oldest undelivered event (0 when nothing waits).",
            registry=owner,
            multiprocess_mode="max",
        )
        self.circuits_open = Gauge(
            "gamekeeper_webhook_circuits_open",
            "Webhook endpoints whose circuit breaker is open in this process.",
            registry=owner,
            multiprocess_mode="livesum",
        )
        self.push_sends = Counter(
            "gamekeeper_push_sends",
            "Notifications games sent, by how the send ended (queued, failed).",
            ("status",),
            registry=owner,
        )
        self.push_deliveries = Counter(
            "gamekeeper_push_deliveries",
            "Push delivery attempts, by provider and outcome (delivered, sent, retry, device_gone,"
            " credential_error, failed, postponed).",
            ("provider", "outcome"),
            registry=owner,
        )
        self.push_latency = Histogram(
            "gamekeeper_push_latency_seconds",
            "Time from a send to the provider's first answer for a device, in seconds.",
            ("provider",),
            buckets=(*LATENCY_BUCKETS, 30.0, 300.0, 3600.0),
            registry=owner,
        )
        self.push_queue = Gauge(
            "gamekeeper_push_queue_depth",
            "Push deliveries waiting to be sent.",
            registry=owner,
            multiprocess_mode="max",
        )
        self.matches = Counter(
            "gamekeeper_matchmaking_sessions",
            "Sessions the matchmaker formed.",
            registry=owner,
        )
        self.match_failures = Counter(
            "gamekeeper_matchmaking_failures",
            "Match requests that failed (no server, timed out).",
            registry=owner,
        )
        self.match_shards_led = Gauge(
            "gamekeeper_matchmaking_shards_led",
            "Matchmaking shards this process leads.",
            registry=owner,
            multiprocess_mode="livesum",
        )
        self.match_waiting = Gauge(
            "gamekeeper_matchmaking_waiting",
            "Match requests waiting in the engines this process leads.",
            registry=owner,
            multiprocess_mode="livesum",
        )
        self.cast_receivers = Gauge(
            "gamekeeper_cast_receivers",
            "Cast receivers (TV pages) connected to this process over WebSocket.",
            registry=owner,
            multiprocess_mode="livesum",
        )
        self.cast_controllers = Gauge(
            "gamekeeper_cast_controllers",
            "Cast controllers (players' phones) connected to this process over WebSocket.",
            registry=owner,
            multiprocess_mode="livesum",
        )
        self.cast_inputs = Counter(
            "gamekeeper_cast_inputs_relayed",
            "Cast inputs sent to a receiver connected to this process.",
            registry=owner,
        )
        self.cast_latency = Histogram(
            "gamekeeper_cast_input_latency_seconds",
            "Time from storing a cast input to sending it to its receiver, in seconds.",
            # Finer than LATENCY_BUCKETS around the targets (p99 20 ms, 30 ms across replicas).
            buckets=(0.001, 0.002, 0.005, 0.01, 0.02, 0.03, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0),
            registry=owner,
        )

    def matchmaking_tick(self, sessions: int, failures: int, waiting: int) -> None:
        self.matches.inc(sessions)
        self.match_failures.inc(failures)
        self.match_waiting.set(waiting)

    def render(self) -> tuple[bytes, str]:
        """Return the exposition body and its content type."""
        return generate_latest(self.registry), CONTENT_TYPE_LATEST


def _check_multiprocess(path: str) -> None:
    env_dir = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if not getattr(values.ValueClass, "_multiprocess", False) or env_dir is None:
        raise ValueError(
            "multi-process metrics need PROMETHEUS_MULTIPROC_DIR in the environment before "
            "prometheus_client is imported (set it in the launcher, not in Python)"
        )
    if not os.path.isdir(path) or not os.path.samefile(path, env_dir):
        raise ValueError(
            f"metrics directory {path!r} must be PROMETHEUS_MULTIPROC_DIR ({env_dir!r}) and exist"
        )
