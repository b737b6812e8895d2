"""Files and folders of the data directory, readable by their owner alone.

The database holds password hashes and the mail folder mailed codes: nothing Gamekeeper writes
may rely on the umask or the mode of the folder above it. Folders are made 0700 and files 0600;
a folder that already exists keeps its mode (it may be the operator's choice), and
``open_to_others`` names those worth a warning.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

__all__ = ["FILE_MODE", "FOLDER_MODE", "open_to_others", "private_folder", "write_private"]

FOLDER_MODE = 0o700
FILE_MODE = 0o600


def private_folder(path: Path) -> Path:
    """Create ``path`` and any missing parents 0700 (whatever the umask); existing ones stay."""
    missing = []
    current = path
    while not current.exists():
        missing.append(current)
        if current.parent == current:
            break
        current = current.parent
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=FOLDER_MODE)
        except FileExistsError:
            continue  # made meanwhile by another process
        os.chmod(folder, FOLDER_MODE)  # mkdir's mode is filtered through the umask
    return path


def write_private(path: Path, data: bytes) -> None:
    """Write a new file readable and writable by the owner alone."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    with os.fdopen(fd, "wb") as file:
        file.write(data)


def open_to_others(path: Path) -> str | None:
    """The mode of ``path`` (as ``0755``) if group or others may read or write it, else None."""
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except OSError:
        return None
    return f"{mode:04o}" if mode & 0o066 else None
