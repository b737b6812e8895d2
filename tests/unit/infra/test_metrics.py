"""Metrics: one registry per instance, and worker processes summed in multi-process mode."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from gamekeeper.infra.metrics import Metrics


def test_render_exposes_requests_latency_and_storage_errors() -> None:
    metrics = Metrics()
    metrics.http_requests.labels("GET", "/admin/v1/games/{id}", "200").inc()
    metrics.http_latency.labels("GET", "/admin/v1/games/{id}").observe(0.003)
    metrics.ratelimit_errors.inc()

    body, content_type = metrics.render()

    assert content_type.startswith("text/plain")
    text = body.decode()
    assert (
        'gamekeeper_http_requests_total{method="GET",route="/admin/v1/games/{id}",status="200"} 1.0'
        in text
    )
    assert (
        'gamekeeper_http_request_duration_seconds_bucket{le="0.005",method="GET",'
        'route="/admin/v1/games/{id}"} 1.0' in text
    )
    assert "gamekeeper_ratelimit_storage_errors_total 1.0" in text


def test_latency_buckets_span_a_millisecond_to_ten_seconds() -> None:
    metrics = Metrics()
    metrics.http_latency.labels("GET", "/x").observe(0.0005)
    text = metrics.render()[0].decode()

    assert 'le="0.001"' in text
    assert 'le="10.0"' in text


def test_instances_in_one_process_count_separately() -> None:
    first, second = Metrics(), Metrics()
    first.ratelimit_errors.inc(3)

    assert first.registry.get_sample_value("gamekeeper_ratelimit_storage_errors_total") == 3
    assert second.registry.get_sample_value("gamekeeper_ratelimit_storage_errors_total") == 0


def test_multiprocess_mode_needs_the_environment_variable(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="PROMETHEUS_MULTIPROC_DIR"):
        Metrics(multiprocess_dir=str(tmp_path))


_WORKER = textwrap.dedent(
    """
    import sys
    from gamekeeper.infra.metrics import Metrics

    metrics = Metrics(multiprocess_dir=sys.argv[1])
    metrics.http_requests.labels("GET", "/healthz", "200").inc(int(sys.argv[2]))
    metrics.http_latency.labels("GET", "/healthz").observe(0.002)
    if sys.argv[3] == "render":
        sys.stdout.write(metrics.render()[0].decode())
    """
)


@pytest.mark.slow
def test_multiprocess_render_sums_every_worker(tmp_path: Path) -> None:
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}

    def worker(count: int, action: str) -> str:
        done = subprocess.run(
            [sys.executable, "-c", _WORKER, str(tmp_path), str(count), action],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        return done.stdout

    worker(2, "quiet")
    text = worker(5, "render")

    assert 'gamekeeper_http_requests_total{method="GET",route="/healthz",status="200"} 7.0' in text
    assert 'gamekeeper_http_request_duration_seconds_count{method="GET",route="/healthz"} 2.0' in (
        text
    )
    assert text.count("# TYPE gamekeeper_http_requests_total counter") <= 1
