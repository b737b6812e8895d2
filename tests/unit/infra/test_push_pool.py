"""The provider pool keeps a client while its credentials stay the same, and closes a replaced
one only after sends through it have had time to end (a client closed mid-send re-sent them)."""

from __future__ import annotations

import json

import pytest

from gamekeeper.core.notify import credentials
from gamekeeper.core.notify.types import ProviderName
from gamekeeper.core.secrets import SecretBox
from gamekeeper.infra.http import SafeHttpClient
from gamekeeper.infra.push import pool as pools
from gamekeeper.settings import load_settings

pytestmark = pytest.mark.anyio
SECRET = "s" * 48
GAME = "00000000-0000-4000-8000-000000000001"


async def test_same_credentials_keep_the_client_and_a_replaced_one_is_closed_later(monkeypatch):
    box = SecretBox(SECRET)
    stored: dict[ProviderName, str] = {}

    def store(token: str) -> None:
        text = json.dumps({"accessToken": token})
        stored[ProviderName.EXPO] = box.seal(
            text, context=credentials.context(GAME, ProviderName.EXPO)
        )

    async def load(game_id: str) -> dict[ProviderName, str]:
        return dict(stored) if game_id == GAME else {}

    store("first")
    closed: list[object] = []
    client = SafeHttpClient()
    pool = pools.ProviderPool(
        load_settings(env={}), secret_key=SECRET, box=box, client=client, load=load, ttl=0
    )
    first = await pool.get(ProviderName.EXPO, GAME)
    assert first is not None
    monkeypatch.setattr(type(first), "aclose", lambda self: _closed(closed, self))
    assert await pool.get(ProviderName.EXPO, GAME) is first  # read again, unchanged: kept
    assert await pool.get(ProviderName.APNS, GAME) is None  # nothing set, no default

    store("second")
    second = await pool.get(ProviderName.EXPO, GAME)
    assert second is not None and second is not first
    assert closed == []  # sends through the first may still be out
    monkeypatch.setattr(pools, "RETIRE_AFTER", -1.0)
    await pool.get(ProviderName.EXPO, "00000000-0000-4000-8000-000000000002")
    assert await pool.get(ProviderName.EXPO, GAME) is second
    store("third")
    await pool.get(ProviderName.EXPO, GAME)
    assert first in closed
    await pool.aclose()
    await client.aclose()


async def _closed(closed: list[object], client: object) -> None:
    closed.append(client)
