"""The ``gamekeeper`` command: ``serve``, ``worker``, ``migrate`` and ``admin …``.

One module per command group; adding a group is one module and one registration line below.
The server stack (uvicorn, Litestar, SQLAlchemy, Alembic, httpx) is imported inside the
commands that need it, so ``--help``, ``--version`` and the admin commands start in a fraction
of a second: keep module-level imports here and in the group modules to typer, rich and settings.
"""

from __future__ import annotations

import os
from typing import Annotated

import typer

from gamekeeper import __version__
from gamekeeper.cli import admin, migrate, serve, worker

__all__ = ["app", "main"]

app = typer.Typer(
    name="gamekeeper",
    help="Gamekeeper: a self-hosted game-services server.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
# The registrations: --help lists the commands in this order, then the groups.
app.command("serve")(serve.serve)
app.command("migrate")(migrate.migrate)
app.command("worker")(worker.worker)
app.add_typer(admin.app, name="admin")


def _version(value: bool) -> None:
    if value:
        typer.echo(f"gamekeeper {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Show the version."),
    ] = False,
) -> None:
    """Gamekeeper: a self-hosted game-services server."""


def main() -> None:
    """Run the ``gamekeeper`` command (the console-script entry point)."""
    os.umask(0o077)  # whatever this process or a library writes is the owner's alone
    app(prog_name="gamekeeper")
