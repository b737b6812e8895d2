"""Migration 0008 (owners) on a database that already holds keys, webhooks and deliveries.

The rows are written as the schema of 0007 had them; after the upgrade the key still signs
in, the webhook still belongs to its game, and the delivery that was waiting is sent.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import create_async_engine
from standardwebhooks.webhooks import Webhook as StandardWebhook

from gamekeeper.core.events import webhooks
from gamekeeper.core.identity import auth
from gamekeeper.core.identity.types import KeyKind
from gamekeeper.core.owners.types import Owner
from gamekeeper.core.secrets import SecretBox, hash_secret
from gamekeeper.db.database import Database
from gamekeeper.db.migrate import upgrade
from gamekeeper.infra.http import SafeHttpClient
from gamekeeper.infra.metrics import Metrics
from gamekeeper.infra.relay import Relay, RelayConfig
from gamekeeper.settings import normalize_database_url
from support.receiver import receiver

pytestmark = pytest.mark.anyio
BOX = SecretBox("migration-test-secret-key-0123456789abcdef")
KEY = "gk_srv_" + "k" * 43
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
AT = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "postgres"])
async def empty_url(request, tmp_path) -> AsyncIterator[str]:
    """A database with no schema at all, of each kind."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"
        return
    admin_url = normalize_database_url(request.getfixturevalue("postgres_url"))
    name = f"gk_migration_{uuid.uuid4().hex[:12]}"
    admin = create_async_engine(admin_url, isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield admin_url.rsplit("/", 1)[0] + "/" + name
    finally:
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()


async def _rows_of_0007(db: Database, hook_url: str) -> None:
    """A game with a server key, a webhook, and an event whose delivery is still pending."""
    values = {"at": AT, "hash": hash_secret(KEY), "url": hook_url}
    values["sealed"] = BOX.seal(SECRET, context="w1")
    statements = [
        "INSERT INTO game (id, slug, name, allowed_origins, settings, created_at, updated_at)"
        " VALUES ('g1', 'old-game', 'Old Game', '[]', '{}', :at, :at)",
        "INSERT INTO credential (id, game_id, kind, scopes, name, prefix, key_hash, created_at)"
        " VALUES ('c1', 'g1', 'server', '[\"players.read\"]', 'old', 'gk_srv_kkkk', :hash, :at)",
        "INSERT INTO webhook (id, game_id, url, event_types, format, secret_sealed, enabled,"
        " managed, created_at, updated_at)"
        " VALUES ('w1', 'g1', :url, '[]', 'standard', :sealed, true, false, :at, :at)",
        "INSERT INTO event (id, type, game_id, aggregate_id, payload, occurred_at) VALUES"
        " ('e1', 'game.updated', 'g1', 'g1', '{\"gameId\": \"g1\", \"fields\": [\"name\"]}', :at)",
        "INSERT INTO delivery (id, event_seq, webhook_id, sink, status, attempts,"
        " next_attempt_at, created_at) SELECT 'd1', seq, 'w1', 'webhook', 'pending', 0, :at, :at"
        " FROM event WHERE id = 'e1'",
    ]
    async with db.engine.begin() as conn:
        for statement in statements:
            await conn.execute(text(statement), values)


@contextlib.asynccontextmanager
async def _relay(db: Database) -> AsyncIterator[Relay]:
    client = SafeHttpClient(allowed_networks=["127.0.0.0/8"])
    try:
        yield Relay(db, client=client, box=BOX, metrics=Metrics(), config=RelayConfig())
    finally:
        await client.aclose()


async def test_keys_webhooks_and_deliveries_of_0007_keep_working(empty_url, clock):
    clock.now = datetime.now(UTC)  # the receiver checks the signature's timestamp
    db = Database(empty_url, clock=clock)
    try:
        with receiver() as hook:
            await upgrade(db.engine, "0007")
            await _rows_of_0007(db, hook.url)
            await upgrade(db.engine)
            async with db.read() as uow:
                principal = await auth.authenticate_key(uow, KEY)
                webhook = await webhooks.get_webhook(uow, owner=Owner.game("g1"), webhook_id="w1")
                [waiting] = await webhooks.list_deliveries(
                    uow, owner=Owner.game("g1"), webhook_id="w1", limit=10, before=None
                )
            assert (principal.owner, principal.kind, principal.test_mode) == (
                Owner.game("g1"), KeyKind.SERVER, False,
            )  # fmt: skip
            assert webhook.url == hook.url and waiting.status == "pending"
            async with _relay(db) as relay:
                assert await relay.run_once() == 1
            [request] = hook.requests
        body = StandardWebhook(SECRET).verify(request.body, request.headers)
        assert (body["id"], body["gameId"], body["data"]["fields"]) == ("e1", "g1", ["name"])
        async with db.read() as uow:
            [sent] = await webhooks.list_deliveries(
                uow, owner=Owner.game("g1"), webhook_id="w1", limit=10, before=None
            )
        assert sent.status == "delivered"
    finally:
        await db.close()


async def test_a_row_with_no_owner_or_two_is_refused(empty_url):
    db = Database(empty_url)
    try:
        await upgrade(db.engine)
        await _rows_of_0007(db, "https://hooks.example.com/in")
        async with db.engine.begin() as conn:
            await conn.execute(
                text("INSERT INTO operator (id, name, created_at) VALUES ('o1', 'Cup', :at)"),
                {"at": AT},
            )
        for owners in ("NULL, NULL", "'g1', 'o1'"):
            with pytest.raises(IntegrityError, match=r"one_owner|CHECK constraint"):
                async with db.engine.begin() as conn:
                    await conn.execute(
                        text(
                            "INSERT INTO credential (id, game_id, operator_id, kind, scopes,"
                            " prefix, key_hash, created_at) VALUES ('c2', "
                            + owners
                            + ", 'server', '[]', 'p', 'h2', :at)"
                        ),
                        {"at": AT},
                    )
    finally:
        await db.close()
