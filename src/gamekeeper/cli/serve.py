"""``gamekeeper serve``: the HTTP server, in one process or several (``--workers``)."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.text import Text

from gamekeeper import __version__
from gamekeeper.bootstrap import ADMIN_TOKEN_FILE, SECRET_KEY_FILE, Secrets, ensure_secrets
from gamekeeper.cli.common import (
    ConfigOption,
    fail,
    lock_data_dir,
    make_data_dir,
    out,
    read_settings,
)
from gamekeeper.cli.migrate import run_migrations
from gamekeeper.settings import Settings

if TYPE_CHECKING:
    from litestar import Litestar

_ANY_ADDRESS = frozenset({"0.0.0.0", "::", "[::]", ""})

_CREATED = {
    SECRET_KEY_FILE: "secret key   {path}  (encrypts stored secrets: back it up)",
    ADMIN_TOKEN_FILE: "admin token  {path}  (readable by you alone)",
}


def serve(
    host: Annotated[str | None, typer.Option(help="Interface to listen on.")] = None,
    port: Annotated[int | None, typer.Option(help="TCP port.")] = None,
    workers: Annotated[int | None, typer.Option(help="Worker processes.")] = None,
    config: ConfigOption = None,
) -> None:
    """Run the HTTP server. The first embedded start creates the data directory and secrets."""
    settings = read_settings(config, host=host, port=port, workers=workers)
    if settings.embedded:  # one process per SQLite data directory (workers are its children)
        lock_data_dir(settings)
    _warn_unreachable_links(settings)
    _announce(settings)
    if settings.workers == 1:
        _serve_one(settings)
    else:
        _serve_many(settings, config)


def _warn_unreachable_links(settings: Settings) -> None:
    """Say so when links and media URLs would name an address no browser can open."""
    if settings.public_url is None and settings.host in _ANY_ADDRESS:
        typer.echo(
            f"warning: listening on every interface ({settings.host}) without a public URL: "
            f"links and media URLs will start with {settings.base_url}, which browsers cannot "
            "open; set GAMEKEEPER_PUBLIC_URL to the address players use",
            err=True,
        )


def _announce(settings: Settings) -> None:
    url = settings.base_url
    if not settings.embedded:
        make_data_dir(settings)  # holds the metrics directory of a multi-worker server
        out.print(f"Gamekeeper {__version__} (PostgreSQL) on {url}")
        return
    try:
        found = ensure_secrets(settings)
    except OSError as exc:
        fail(f"cannot set up the data directory {settings.data_path}: {exc.strerror or exc}")
    token_file = settings.data_path / ADMIN_TOKEN_FILE
    if found.created:
        _first_start(settings, found, token_file)
    elif settings.admin_token:
        out.print(f"Gamekeeper {__version__} on {url} (admin token from GAMEKEEPER_ADMIN_TOKEN)")
    else:
        out.print(f"Gamekeeper {__version__} on {url} (admin token in {token_file.resolve()})")


def _first_start(settings: Settings, found: Secrets, token_file: Path) -> None:
    url = settings.base_url
    data = settings.data_path.resolve()
    out.print(Text(f"Gamekeeper {__version__}: first start, set up in {data}", style="bold green"))
    for path in found.created:
        out.print("  " + _CREATED[path.name].format(path=path.resolve()))
    if token_file in found.created:
        out.print("\nAdmin token (shown this once; it stays in the file above):")
        out.print(Text(f"  {found.admin_token}", style="bold"))
        token = f"$(cat {token_file.resolve()})"
    else:
        token = "$GAMEKEEPER_ADMIN_TOKEN"
    out.print(f"\nServer:   {url}\nAPI docs: {url}/docs\n\nTry it:")
    out.print('  gamekeeper admin games create --name "My game"')
    out.print(f"  export TOKEN={token}")
    out.print(f'  curl -H "Authorization: Bearer $TOKEN" {url}/admin/v1/games\n')


def _uvicorn_options(settings: Settings) -> dict[str, Any]:
    return {
        "host": settings.host,
        "port": settings.port,
        "proxy_headers": True,
        "forwarded_allow_ips": ",".join(settings.trusted_proxies),
        "access_log": False,  # the request middleware logs every request
        "log_config": None,  # create_app configures logging (structlog)
        "lifespan": "on",
        "timeout_graceful_shutdown": 10,
        # WebSocket messages (cast frames are at most 4 KB): refused by the protocol beyond this.
        "ws_max_size": 64 * 1024,
    }


def _serve_one(settings: Settings) -> None:
    import uvicorn

    from gamekeeper.runtime.memory import tune_gc

    # Migrations run in the application's lifespan (settings.auto_migrate): one place.
    application: Litestar = _create_app(settings)
    tune_gc(settings.gc_threshold)
    server = uvicorn.Server(uvicorn.Config(application, **_uvicorn_options(settings)))
    with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C: uvicorn has already shut down
        server.run()
    if not server.started:
        raise typer.Exit(3)  # uvicorn's code for a failed startup (e.g. port in use)


def _serve_many(settings: Settings, config: Path | None) -> None:
    import uvicorn

    from gamekeeper.infra.logging import configure_logging

    configure_logging(settings.log_level, settings.log_format)
    if settings.auto_migrate:
        run_migrations(settings)
    # Workers are fresh interpreters that build their settings from the environment: hand the
    # flags over there. The schema is current, so they need not each migrate again.
    metrics_dir = tempfile.mkdtemp(prefix="metrics-", dir=settings.data_path)
    env = {
        "GAMEKEEPER_HOST": settings.host,
        "GAMEKEEPER_PORT": str(settings.port),
        "GAMEKEEPER_AUTO_MIGRATE": "false",
        # Read by prometheus-client when a worker imports it: values go to files in this
        # directory so that /metrics can add up every worker's.
        "PROMETHEUS_MULTIPROC_DIR": metrics_dir,
    }
    if config is not None:
        env["GAMEKEEPER_CONFIG"] = str(config.resolve())
    os.environ.update(env)
    try:
        uvicorn.run(
            "gamekeeper.cli.serve:worker_app",
            factory=True,
            workers=settings.workers,
            **_uvicorn_options(settings),
        )
    finally:
        shutil.rmtree(metrics_dir, ignore_errors=True)


def worker_app() -> Litestar:
    """What each ``--workers`` process serves (uvicorn's factory): the app, its GC tuned."""
    from gamekeeper.runtime.memory import tune_gc
    from gamekeeper.settings import load_settings

    settings = load_settings()
    application = _create_app(settings)
    tune_gc(settings.gc_threshold)
    return application


def _create_app(settings: Settings) -> Litestar:
    from gamekeeper.api.app import create_app

    return create_app(settings)
