"""A slow upload holds no transaction: on SQLite, another writer commits while it arrives.

The app is served on the test's own event loop through ``httpx.ASGITransport``, which hands the
app each part of a streamed request body only when the app asks for it. A request's body is
sent up to its last part; once the app asks for that part, another request that writes must
get through before the upload is let finish. (The match request used to begin its
transaction before reading its body, and held the lock while it arrived.)
"""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import AsyncIterator, Awaitable, Callable

import httpx
import pytest
from PIL import Image

from conftest import ADMIN_TOKEN, SECRET_KEY, FakeClock
from gamekeeper.api.app import create_app
from gamekeeper.core.identity import hmac_auth
from gamekeeper.settings import load_settings
from support.battleplace import bearer, client_token, new_project, server_body
from support.provision import new_developer

pytestmark = pytest.mark.anyio

WAIT = 5.0  # seconds another writer may take; a lock held by the upload would outlast it


@pytest.fixture
async def client(tmp_path, clock) -> AsyncIterator[httpx.AsyncClient]:
    settings = load_settings(
        env={},
        data_dir=str(tmp_path / "data"),
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'gamekeeper.db'}",
        secret_key=SECRET_KEY,
        admin_token=ADMIN_TOKEN,
        log_level="WARNING",
    )
    app = create_app(settings, clock=clock)
    async with app.lifespan():
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield http


class SlowBody:
    """A request body sent in two parts; the last waits until the test lets it go."""

    def __init__(self, content: bytes) -> None:
        self.head, self.tail = content[: len(content) // 2], content[len(content) // 2 :]
        self.waiting = asyncio.Event()  # the app has the head and asks for the rest
        self.go = asyncio.Event()

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield self.head
        self.waiting.set()
        await self.go.wait()
        yield self.tail


Request = tuple[str, bytes, dict[str, str]]  # path, body, headers
Upload = Callable[[httpx.AsyncClient, FakeClock], Awaitable[Request]]
JSON = {"Content-Type": "application/json"}


async def battleplace_match(client: httpx.AsyncClient, _clock: FakeClock) -> Request:
    """A client's match request: a JSON body that the dialect decodes itself."""
    project = await new_project(client)
    token = await client_token(client, project, "slow")
    body = b'{"teamSizes": [1, 1], "maxMatchTime": 30}'
    return "/v1a/client/match", body, {**bearer(token), **JSON}


async def battleplace_server(client: httpx.AsyncClient, _clock: FakeClock) -> Request:
    """A dedicated server offering to host: its credentials are in the body."""
    body = json.dumps(server_body(await new_project(client))).encode()
    return "/v1a/server/match", body, JSON


async def ogs_signup(_client: httpx.AsyncClient, _clock: FakeClock) -> Request:
    """A sign-up: a JSON body that Litestar decodes as the handler's ``data``."""
    body = b'{"email": "slow@example.com", "password": "correct horse battery"}'
    return "/api/v1/auth/signup", body, JSON


async def ogp_register(client: httpx.AsyncClient, clock: FakeClock) -> Request:
    """A game registered with a multipart form, its image as a file."""
    developer = await new_developer(client)
    buffer = io.BytesIO()
    Image.new("RGB", (4, 3), "red").save(buffer, "PNG")
    form = {"name": "Slow", "description": "Sent slowly", "gameUrl": "https://s.example"}
    form["platform"] = "WEB"
    files = {"image": ("thumb.png", buffer.getvalue(), "image/png")}
    built = httpx.Request("POST", "http://testserver/games", data=form, files=files)
    timestamp = str(int(clock().timestamp()))
    signature = hmac_auth.header_value(
        developer["apiKey"], developer["secretKey"], "POST", "/games", timestamp
    )
    headers = {"Content-Type": built.headers["content-type"], "Authorization": signature}
    return "/games", built.read(), headers


async def another_writer(client: httpx.AsyncClient) -> None:
    """Another player signs up: a write of its own, committed."""
    body = {"email": "other@example.com", "password": "correct horse battery"}
    response = await client.post("/api/v1/auth/signup", json=body)
    assert response.status_code == 201, response.text


@pytest.mark.parametrize(
    "upload", [battleplace_match, battleplace_server, ogs_signup, ogp_register]
)
async def test_another_writer_commits_while_a_body_arrives(client, clock, upload: Upload):
    path, content, headers = await upload(client, clock)
    body = SlowBody(content)
    sent = asyncio.create_task(client.post(path, content=body, headers=headers))
    try:
        async with asyncio.timeout(WAIT):
            await body.waiting.wait()
        try:
            async with asyncio.timeout(WAIT):
                await another_writer(client)
        except TimeoutError:
            pytest.fail(f"a writer waited {WAIT} s for the transaction of an unfinished upload")
    finally:
        body.go.set()
    response = await sent
    assert response.status_code in (200, 201), response.text
