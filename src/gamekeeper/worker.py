"""``gamekeeper worker``: a process that only delivers (events from the outbox, push notifications)
and ends cast sessions left idle.

In embedded mode ``serve`` runs the relay itself. In a cluster, run one or more workers beside
the ``serve`` replicas (which may then set ``GAMEKEEPER_RELAY_ENABLED=false``); on PostgreSQL
they share the work without ever taking the same delivery.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Callable

import msgspec
import structlog

from gamekeeper.bootstrap import ensure_secrets
from gamekeeper.db.migrate import upgrade
from gamekeeper.infra.logging import configure_logging
from gamekeeper.runtime import Loop, Runtime
from gamekeeper.settings import Settings

log = structlog.get_logger(__name__)


def main(settings: Settings, *, metrics_port: int | None = None) -> None:
    """Run the worker in an event loop of its own: uvloop when installed, as ``serve`` does.

    The relay spends most of its time in the loop's socket and timer handling, where uvloop
    costs a fraction of the standard loop's CPU.
    """
    loop_factory: Callable[[], asyncio.AbstractEventLoop] | None = None
    with contextlib.suppress(ImportError):
        import uvloop

        loop_factory = uvloop.new_event_loop
    with asyncio.Runner(loop_factory=loop_factory) as runner:
        runner.run(run_worker(settings, metrics_port=metrics_port))


async def run_worker(settings: Settings, *, metrics_port: int | None = None) -> None:
    """Run the relay until SIGTERM or SIGINT, then finish in-flight deliveries and stop."""
    configure_logging(settings.log_level, settings.log_format)
    settings = msgspec.structs.replace(settings, relay_enabled=True)
    found = ensure_secrets(settings)
    runtime = Runtime(settings, secret_key=found.secret_key, admin_token=found.admin_token)
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stopping.set)
    try:
        if settings.auto_migrate:
            await upgrade(runtime.db.engine)
        await runtime.start(loops={Loop.RELAY, Loop.PUSH, Loop.CAST})
        if metrics_port is not None:
            from prometheus_client import start_http_server

            start_http_server(metrics_port, addr=settings.host, registry=runtime.metrics.registry)
        log.info("worker started", metrics_port=metrics_port)
        await stopping.wait()
        log.info("worker stopping")
    finally:
        await runtime.stop()
