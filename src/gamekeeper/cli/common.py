"""What every command group shares: the console, ``fail``, settings and the data directory."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console

from gamekeeper.infra.push.pool import load_defaults
from gamekeeper.settings import Settings, SettingsError, load_settings

# soft_wrap: paths, ids and tokens must stay on one line, whatever the terminal width, to be
# copied. markup=False: values are printed as they are, "[" included.
out = Console(highlight=False, soft_wrap=True, markup=False)

ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config", "-c", help="TOML settings file (GAMEKEEPER_* variables win).", dir_okay=False
    ),
]


def fail(message: str, code: int = 1) -> NoReturn:
    """Print one ``error:`` line on stderr and exit."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def read_settings(config: Path | None, **overrides: Any) -> Settings:
    """Settings, or exit 2 with the one-line reason when a setting is invalid."""
    try:
        settings = load_settings(config_file=config, **overrides)
        load_defaults(settings)  # the push credentials file is read at start: check it now
    except SettingsError as exc:
        fail(str(exc), code=2)
    return settings


def make_data_dir(settings: Settings) -> None:
    """Create the data directory (owner-only), or exit 1 saying why not."""
    try:
        settings.data_path.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as exc:
        fail(f"cannot create the data directory {settings.data_path}: {exc.strerror or exc}")


LOCK_FILE = "gamekeeper.lock"
_held: list[int] = []  # the lock's descriptor, open (and so locked) until the process ends


def lock_data_dir(settings: Settings) -> None:
    """Create and hold the embedded data directory for this process's life, or exit 1 naming
    its holder.

    Two processes on one SQLite database would each trust their own caches and in-process
    state (a key revoked through one kept working on the other). The lock is an flock on a file
    in the directory: the kernel drops it when the process ends, however it ends. The admin
    commands talk HTTP to the server and never take it.
    """
    make_data_dir(settings)
    path = settings.data_path / LOCK_FILE
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    except OSError as exc:
        fail(f"cannot open {path}: {exc.strerror or exc}")
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.read(fd, 64).decode(errors="replace").strip()
        os.close(fd)
        by = f"gamekeeper process {holder}" if holder else "another gamekeeper process"
        fail(
            f"the data directory {settings.data_path.resolve()} is in use by {by}; stop it, "
            "or give this one its own GAMEKEEPER_DATA_DIR"
        )
    os.ftruncate(fd, 0)
    os.write(fd, f"{os.getpid()}\n".encode())
    _held.append(fd)
