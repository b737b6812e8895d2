"""Fixtures of the end-to-end tests: server processes and fresh PostgreSQL databases."""

from __future__ import annotations

import pytest

from support.processes import fresh_database_fixture, start_server_fixture

start_server = pytest.fixture(start_server_fixture)
fresh_database = pytest.fixture(fresh_database_fixture)
