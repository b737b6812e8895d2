"""What every command group shares: the console, ``fail``, settings and the data directory."""

from __future__ import annotations

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
