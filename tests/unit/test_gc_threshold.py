"""Issue 12 (latency): a server process freezes what its started app holds and collects
generation 0 less often (``gc_threshold``), so full collections stop it less; in ``serve``
and in each ``--workers`` process alike. Run in fresh interpreters: it changes the process."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from conftest import ADMIN_TOKEN, SECRET_KEY
from gamekeeper.settings import SettingsError, gc_thresholds, load_settings

_WORKER = """
import gc, json
from gamekeeper.cli.serve import worker_app
worker_app()
print(json.dumps({"threshold": gc.get_threshold(), "frozen": gc.get_freeze_count()}))
"""


def _worker(tmp_path, **env: str) -> dict:
    """What a ``--workers`` process's garbage collector is set to once its app is built."""
    environment = {
        "GAMEKEEPER_DATA_DIR": str(tmp_path / "data"),
        "GAMEKEEPER_SECRET_KEY": SECRET_KEY,
        "GAMEKEEPER_ADMIN_TOKEN": ADMIN_TOKEN,
        "GAMEKEEPER_LOG_LEVEL": "WARNING",
        "PATH": "/usr/bin:/bin",
        **env,
    }
    done = subprocess.run(
        [sys.executable, "-c", _WORKER], env=environment, capture_output=True, text=True,
        timeout=120, check=True,
    )  # fmt: skip
    found: dict = json.loads(done.stdout.strip().splitlines()[-1])
    return found


def test_a_worker_process_is_tuned_by_default(tmp_path):
    found = _worker(tmp_path)
    assert found["threshold"] == [50000, 20, 100]
    assert found["frozen"] > 10_000  # the modules and the app, out of every collection's way


def test_the_setting_sets_other_thresholds_or_leaves_pythons_own(tmp_path):
    assert _worker(tmp_path, GAMEKEEPER_GC_THRESHOLD="20000,10,10")["threshold"] == [
        20000, 10, 10
    ]  # fmt: skip
    untouched = _worker(tmp_path, GAMEKEEPER_GC_THRESHOLD="off")
    assert untouched == {"threshold": [700, 10, 10], "frozen": 0}


@pytest.mark.parametrize("value", ["lots", "1,2", "0,10,10", "5,-1,3", "1,2,3,4"])
def test_a_bad_threshold_is_one_clear_line(value):
    with pytest.raises(SettingsError, match=r"GAMEKEEPER_GC_THRESHOLD: .* three whole numbers"):
        load_settings(env={"GAMEKEEPER_GC_THRESHOLD": value})


def test_thresholds_are_read_as_three_numbers():
    assert gc_thresholds(" 50000, 20 ,100") == (50000, 20, 100)
    assert gc_thresholds("OFF") is None
    assert load_settings(env={}).gc_threshold == "50000,20,100"
