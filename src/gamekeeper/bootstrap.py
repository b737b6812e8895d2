"""First start: the data directory and the installation's secrets.

The secret key and the admin token come from the environment when set. Otherwise (embedded
mode only — settings refuse a PostgreSQL database without them) they are generated once and
kept in the data directory, readable by the owner alone. Everything Gamekeeper writes there is
made owner-only (``files.py``); a data directory that was already open to others stays so and
is warned about at start.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

import structlog

from gamekeeper.files import open_to_others, private_folder
from gamekeeper.settings import Settings

log = structlog.get_logger(__name__)

SECRET_KEY_FILE = "secret-key"
ADMIN_TOKEN_FILE = "admin-token"


@dataclass(frozen=True, slots=True)
class Secrets:
    secret_key: str
    admin_token: str
    created: tuple[Path, ...]  # files written by this call


def warn_if_open(data_path: Path) -> None:
    """One warning line when group or others may read or write the data directory."""
    mode = open_to_others(data_path)
    if mode is not None:
        log.warning(
            "data_dir_open_to_others",
            path=str(data_path.resolve()),
            mode=mode,
            hint=f"other users of this machine may read it; run chmod 700 {data_path.resolve()}",
        )


def _read_or_create(path: Path, make: str) -> tuple[str, bool]:
    try:
        return path.read_text().strip(), False
    except FileNotFoundError:
        pass
    # O_EXCL: two processes starting together must not both write; the loser reads.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip(), False
    with os.fdopen(fd, "w") as handle:
        handle.write(make + "\n")
    return make, True


def ensure_secrets(settings: Settings) -> Secrets:
    """The secret key and admin token, generated into the data directory on first start."""
    private_folder(settings.data_path)
    warn_if_open(settings.data_path)
    created: list[Path] = []
    values: dict[str, str] = {}
    for name, filename in (("secret_key", SECRET_KEY_FILE), ("admin_token", ADMIN_TOKEN_FILE)):
        given = getattr(settings, name)
        if given:
            values[name] = given
            continue
        path = settings.data_path / filename
        values[name], made = _read_or_create(
            path,
            "gk_admin_" + secrets.token_urlsafe(32)
            if name == "admin_token"
            else secrets.token_urlsafe(48),
        )
        if made:
            created.append(path)
    return Secrets(values["secret_key"], values["admin_token"], tuple(created))
