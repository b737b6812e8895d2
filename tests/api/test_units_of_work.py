"""Which unit of work a request opens, and that a body refused as it arrives opens none.

The application's ``Database`` is wrapped so that the test sees every unit of work begun:
``write`` (a write transaction), ``read`` and ``one statement`` (``autocommit``).
"""

from __future__ import annotations

from contextlib import asynccontextmanager
from contextvars import ContextVar

import pytest
from structlog.contextvars import get_contextvars

from support.battleplace import bearer, client_token, new_project

pytestmark = pytest.mark.anyio
AUTH = "/api/v1/auth"
PASSWORD = "correct horse battery"


_inside: ContextVar[bool] = ContextVar("inside_a_unit_of_work", default=False)


class Begun:
    """Records each unit of work that a request (not a background loop) begins.

    Only the outermost: on SQLite ``read`` and ``autocommit`` are transactions underneath.
    """

    def __init__(self, db) -> None:
        self.kinds: list[str] = []
        transaction, read, autocommit = db.transaction, db.read, db.autocommit

        def recorded(kind, open_):
            @asynccontextmanager
            async def opening(*args, **kwargs):
                outermost = not _inside.get() and "request_id" in get_contextvars()
                if outermost:
                    write = kind == "transaction" and kwargs.get("write", True)
                    self.kinds.append("write" if write else kind)
                # Marked only while it begins: Litestar may close it from another context.
                before = _inside.set(True)
                try:
                    opened = open_(*args, **kwargs)
                    uow = await opened.__aenter__()
                finally:
                    _inside.reset(before)
                try:
                    yield uow
                except BaseException as exc:
                    if not await opened.__aexit__(type(exc), exc, exc.__traceback__):
                        raise
                else:
                    await opened.__aexit__(None, None, None)

            return opening

        db.transaction = recorded("transaction", transaction)
        db.read = recorded("read", read)
        db.autocommit = recorded("one statement", autocommit)


def begun(client) -> Begun:
    return Begun(client.app.state.runtime.db)


@pytest.fixture
async def client(make_client):
    async with make_client() as client:
        yield client


async def test_a_body_litestar_refuses_begins_no_transaction(client):
    seen = begun(client)
    refused = await client.post(f"{AUTH}/signup", json={"email": 5, "password": PASSWORD})
    assert refused.status_code == 400, refused.text
    assert seen.kinds == []

    body = {"email": "ada@example.com", "password": PASSWORD}
    accepted = await client.post(f"{AUTH}/signup", json=body)
    assert accepted.status_code == 201, accepted.text
    assert seen.kinds == ["write"]


async def test_a_missing_body_begins_no_transaction(client):
    seen = begun(client)
    response = await client.post(f"{AUTH}/login", content=b"")
    assert response.status_code == 400, response.text
    assert seen.kinds == []


async def test_a_body_the_dialect_refuses_begins_no_transaction(client):
    project = await new_project(client)
    token = await client_token(client, project, "1")
    seen = begun(client)
    refused = await client.post(
        "/v1a/client/match", json={"teamSizes": "two", "maxMatchTime": 30}, headers=bearer(token)
    )
    assert refused.status_code == 400, refused.text
    assert seen.kinds == []

    body = {"teamSizes": [1, 1], "maxMatchTime": 30}
    accepted = await client.post("/v1a/client/match", json=body, headers=bearer(token))
    assert accepted.status_code == 200, accepted.text
    assert seen.kinds == ["write"]


async def test_a_read_route_reads_and_writes_nothing(client):
    signed = await client.post(
        f"{AUTH}/signup", json={"email": "a@example.com", "password": PASSWORD}
    )
    token = signed.json()["sessionToken"]
    seen = begun(client)
    response = await client.get(f"{AUTH}/me", headers=bearer(token))
    assert response.status_code == 200, response.text
    assert "read" in seen.kinds and "write" not in seen.kinds  # the guard may read too


async def test_a_known_device_signs_in_with_one_statement(client):
    first = await client.post(f"{AUTH}/device", json={"deviceId": "device-0123456789"})
    assert first.status_code == 201, first.text
    seen = begun(client)
    again = await client.post(f"{AUTH}/device", json={"deviceId": "device-0123456789"})
    assert again.status_code == 200, again.text
    assert seen.kinds == ["one statement"]


async def test_a_game_spends_a_web_code_with_one_statement(client):
    from support.provision import new_game, new_key

    signed = await client.post(
        f"{AUTH}/signup", json={"email": "w@example.com", "password": PASSWORD}
    )
    issued = await client.post(f"{AUTH}/web-code", headers=bearer(signed.json()["sessionToken"]))
    assert issued.status_code == 200, issued.text
    game_key = (await new_key(client, await new_game(client)))["key"]
    seen = begun(client)
    spent = await client.post(
        f"{AUTH}/verify-token", json={"token": issued.json()["code"]}, headers=bearer(game_key)
    )
    assert spent.status_code == 200 and spent.json()["valid"] is True, spent.text
    assert seen.kinds[-1:] == ["one statement"] and "write" not in seen.kinds
