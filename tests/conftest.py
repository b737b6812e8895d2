"""Shared fixtures: real services, required in CI and skipped with a reason elsewhere.

PostgreSQL and Redis are found at GAMEKEEPER_TEST_POSTGRES_URL / GAMEKEEPER_TEST_REDIS_URL
(defaults: the loopback services of a development machine). With CI=true a missing service
fails the test instead of skipping it.
"""

from __future__ import annotations

import os

import pytest

from support.required import require_service

POSTGRES_URL = os.environ.get(
    "GAMEKEEPER_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
REDIS_URL = os.environ.get("GAMEKEEPER_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture(scope="session")
def postgres_url() -> str:
    return require_service("PostgreSQL", POSTGRES_URL, 5432)


@pytest.fixture(scope="session")
def redis_url() -> str:
    return require_service("Redis", REDIS_URL, 6379)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


# --- Storage: a test runs on SQLite and on PostgreSQL, unless marked with ``databases`` -----

import asyncio  # noqa: E402
import shutil  # noqa: E402
import uuid  # noqa: E402
from collections.abc import AsyncIterator, Iterator  # noqa: E402
from datetime import UTC, datetime, timedelta  # noqa: E402
from pathlib import Path  # noqa: E402

from sqlalchemy import text  # noqa: E402
from sqlalchemy.ext.asyncio import create_async_engine  # noqa: E402

from gamekeeper.db.database import Database  # noqa: E402
from gamekeeper.db.migrate import upgrade  # noqa: E402
from gamekeeper.db.tables import metadata  # noqa: E402
from gamekeeper.settings import normalize_database_url  # noqa: E402


class FakeClock:
    """A clock tests move by hand."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2026, 1, 1, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(scope="session")
def pg_database_url(postgres_url: str) -> Iterator[str]:
    """A fresh, migrated PostgreSQL database for this test session, dropped at the end."""
    name = f"gk_test_{uuid.uuid4().hex[:12]}"
    admin_url = normalize_database_url(postgres_url)

    async def admin(sql: str) -> None:
        engine = create_async_engine(admin_url, isolation_level="AUTOCOMMIT")
        async with engine.connect() as conn:
            await conn.execute(text(sql))
        await engine.dispose()

    async def migrate(url: str) -> None:
        engine = create_async_engine(url)
        await upgrade(engine)
        await engine.dispose()

    asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    url = admin_url.rsplit("/", 1)[0] + "/" + name
    asyncio.run(migrate(url))
    yield url
    asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


DATABASES = ("sqlite", "postgres")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "databases(*kinds): the databases (sqlite, postgres) a test taking database_url runs "
        "on; without it, both. See the README, 'What runs where'.",
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """A test that takes ``database_url`` (through ``db``, ``make_client``…) runs once per kind."""
    if "database_url" not in metafunc.fixturenames:
        return
    marker = metafunc.definition.get_closest_marker("databases")
    kinds = marker.args if marker is not None else DATABASES
    if not kinds or set(kinds) - set(DATABASES):
        where = metafunc.definition.nodeid
        raise pytest.UsageError(f"{where}: databases() takes some of {DATABASES}, not {kinds}")
    metafunc.parametrize("database_url", kinds, indirect=True)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite database, made once per test process and copied for each test.

    Migrating a fresh file takes a few hundred milliseconds, a copy about one; the migrations
    themselves are tested on empty databases (tests/integration/test_owner_migration.py).
    """
    path = tmp_path_factory.mktemp("template") / "gamekeeper.db"

    async def migrate() -> None:
        engine = create_async_engine(f"sqlite+aiosqlite:///{path}")
        await upgrade(engine)
        await engine.dispose()  # the last connection's close checkpoints the WAL into the file

    asyncio.run(migrate())
    return path


@pytest.fixture
def database_url(request: pytest.FixtureRequest, tmp_path) -> Iterator[str]:
    """The URL of an empty, migrated database of the kind the test is parametrised with."""
    if request.param == "sqlite":
        path = tmp_path / "gamekeeper.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        path.chmod(0o600)
        yield f"sqlite+aiosqlite:///{path}"
        return
    url = request.getfixturevalue("pg_database_url")

    async def truncate() -> None:
        engine = create_async_engine(url)
        async with engine.begin() as conn:
            names = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables)
            await conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        await engine.dispose()

    asyncio.run(truncate())
    yield url


@pytest.fixture
async def db(database_url: str, clock: FakeClock) -> AsyncIterator[Database]:
    database = Database(database_url, clock=clock)
    yield database
    await database.close()


# --- The application, in-process ------------------------------------------------------------

import httpx  # noqa: E402
from litestar.testing import AsyncTestClient  # noqa: E402

from gamekeeper.api.app import create_app  # noqa: E402
from gamekeeper.settings import load_settings  # noqa: E402

ADMIN_TOKEN = "gk_admin_test_token_0123456789abcdef"
SECRET_KEY = "test-secret-key-0123456789abcdef-0123456789"


class _ThreadedTransport(httpx.AsyncBaseTransport):
    """Each request on a worker thread, so that gathered requests overlap inside the app.

    Litestar's test transport serves an async request synchronously, blocking the test's loop
    until the app answers: ``asyncio.gather`` of requests would run them one after another, and
    a test of concurrent requests could not fail. From worker threads they all reach the app's
    loop (the client's portal) at once, as they would on a server.
    """

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self._inner = inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await asyncio.to_thread(self._inner.handle_request, request)


@pytest.fixture
def make_client(tmp_path, database_url, clock):
    """A factory of test clients on a fresh app; settings overrides as keyword arguments."""
    clients = []

    def make(*, extra_routes=(), use_clock=True, **overrides):
        values = {
            "data_dir": str(tmp_path / f"data{len(clients)}"),
            "database_url": database_url,
            "secret_key": SECRET_KEY,
            "admin_token": ADMIN_TOKEN,
            "log_level": "WARNING",
            **overrides,
        }
        settings = load_settings(env={}, **values)
        kwargs = {"clock": clock} if use_clock else {}
        app = create_app(settings, extra_routes=extra_routes, **kwargs)
        client = AsyncTestClient(app)
        client._transport = _ThreadedTransport(client._transport)  # see _ThreadedTransport
        clients.append(client)
        return client

    return make


@pytest.fixture
def admin_headers() -> dict[str, str]:
    return {"Authorization": f"Bearer {ADMIN_TOKEN}"}
