"""Fixtures of the end-to-end tests: server processes and fresh PostgreSQL databases."""

from __future__ import annotations

from pathlib import Path

import pytest

from support.browser import CHROMIUM
from support.processes import fresh_database_fixture, start_server_fixture
from support.required import unavailable

start_server = pytest.fixture(start_server_fixture)
fresh_database = pytest.fixture(fresh_database_fixture)


@pytest.fixture(scope="session")
def chromium() -> Path:
    """The path of Debian's chromium (tests never install system packages)."""
    if not CHROMIUM.exists():
        unavailable(
            f"{CHROMIUM} is missing",
            hint="install Debian's chromium (apt-get install chromium); .ci/run does this",
        )
    return CHROMIUM
