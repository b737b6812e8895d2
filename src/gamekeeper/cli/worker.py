"""``gamekeeper worker``: the outbox relay as a process of its own."""

from __future__ import annotations

from typing import Annotated

import typer

from gamekeeper.cli.common import ConfigOption, lock_data_dir, read_settings


def worker(
    config: ConfigOption = None,
    metrics_port: Annotated[
        int | None, typer.Option(help="Serve Prometheus metrics on this port.")
    ] = None,
) -> None:
    """Deliver events from the outbox (webhooks, callbacks, NATS, SQS) until stopped."""
    settings = read_settings(config)
    if settings.embedded:
        lock_data_dir(settings)
    from gamekeeper.worker import main as run_worker

    run_worker(settings, metrics_port=metrics_port)
