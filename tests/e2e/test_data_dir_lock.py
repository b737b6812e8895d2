"""One embedded data directory, one process: a second ``serve``, ``worker`` or ``migrate`` on
it stops at once with one line naming the first (issue 15, item 18)."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from support.processes import Server, clean_env, free_port, gamekeeper, run

pytestmark = pytest.mark.slow

# Generous for a shared CI machine; a refused start takes about as long as `--version`.
REFUSED_WITHIN = 30.0


@pytest.mark.parametrize("command", [["serve"], ["worker"], ["migrate"]])
def test_a_second_process_on_the_data_directory_refuses_in_one_line(
    start_server: Callable[..., Server], tmp_path: Path, command: list[str]
) -> None:
    first = start_server(tmp_path / "data")
    args = [*command, "--port", str(free_port())] if command == ["serve"] else command
    env = clean_env(GAMEKEEPER_DATA_DIR=str(first.data_dir))
    second = subprocess.run(
        [*gamekeeper(), *args], env=env, capture_output=True, text=True, timeout=REFUSED_WITHIN
    )

    assert second.returncode == 1
    [line] = second.stderr.splitlines()
    assert line == (
        f"error: the data directory {first.data_dir.resolve()} is in use by gamekeeper process "
        f"{first.process.pid}; stop it, or give this one its own GAMEKEEPER_DATA_DIR"
    )
    assert first.process.poll() is None  # the first one serves on
    # The admin commands talk HTTP: they take no lock.
    listing = run("admin", "games", "list", "--json", env=first.env())
    assert listing.returncode == 0, listing.stderr


def test_the_lock_goes_with_the_process(
    start_server: Callable[..., Server], tmp_path: Path
) -> None:
    data_dir = tmp_path / "data"
    start_server(data_dir).stop()
    second = start_server(data_dir)  # would fail to start if the lock had stayed
    assert (data_dir / "gamekeeper.lock").read_text().strip() == str(second.process.pid)
    assert oct((data_dir / "gamekeeper.lock").stat().st_mode & 0o777) == "0o600"
