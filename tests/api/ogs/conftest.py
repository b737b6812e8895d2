"""Fixtures of the OGS account tests: the app, games with server keys, signed-in players."""

from __future__ import annotations

import pytest

from support.provision import new_game, new_key

AUTH = "/api/v1/auth"
ORIGIN = "https://play.example.com"
PASSWORD = "correct horse battery"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


class Ogs:
    """Short ways to the states the tests start from, through the public API."""

    auth = AUTH
    origin = ORIGIN
    password = PASSWORD
    bearer = staticmethod(bearer)

    def __init__(self, client) -> None:
        self.client = client

    async def game(self, name: str = "Trivia Jam", origins=(ORIGIN,)) -> tuple[str, dict]:
        """A game allowing ``origins``, and the headers of one of its server keys."""
        game_id = await new_game(self.client, name=name, allowedOrigins=list(origins))
        key = await new_key(self.client, game_id)
        return game_id, bearer(key["key"])

    async def sign_up(self, email: str = "ada@example.com", password: str = PASSWORD) -> dict:
        response = await self.client.post(
            f"{AUTH}/signup", json={"email": email, "password": password}
        )
        assert response.status_code == 201, response.text
        return response.json()

    async def device(self, device_id: str = "device-0123456789") -> dict:
        response = await self.client.post(f"{AUTH}/device", json={"deviceId": device_id})
        assert response.status_code in (200, 201), response.text
        return response.json()

    async def link_token(self, game_key: dict, game_user_id: str = "user-123") -> dict:
        response = await self.client.post(
            f"{AUTH}/account-link-token",
            json={"gameUserId": game_user_id, "redirectUrl": f"{ORIGIN}/auth/callback"},
            headers=game_key,
        )
        assert response.status_code == 200, response.text
        return response.json()

    async def verify_link(self, game_key: dict, token: str) -> dict:
        response = await self.client.post(
            f"{AUTH}/verify-link-token", json={"token": token}, headers=game_key
        )
        assert response.status_code == 200, response.text
        return response.json()


@pytest.fixture
async def client(make_client):
    async with make_client() as client:
        yield client


@pytest.fixture
def ogs(client) -> Ogs:
    return Ogs(client)


# --- A real SMTP server on loopback ---------------------------------------------------------

import email  # noqa: E402
import re  # noqa: E402
import threading  # noqa: E402
from email.message import Message  # noqa: E402

import anyio  # noqa: E402
from aiosmtpd.controller import Controller  # noqa: E402

from support.loopback import free_port  # noqa: E402
from support.waiting import wait_on  # noqa: E402

_CODE = re.compile(r"^\s+(\d{6})\s*$", re.MULTILINE)


class Inbox:
    """What the SMTP server received; tests wait for a message with a deadline."""

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self._changed = threading.Condition()

    async def handle_DATA(self, server, session, envelope) -> str:  # aiosmtpd handler hook
        with self._changed:
            self.messages.append(email.message_from_bytes(envelope.content))
            self._changed.notify_all()
        return "250 OK"

    def _wait(self, to: str, count: int, timeout: float) -> list[Message]:
        def mine() -> list[Message]:
            found = [m for m in self.messages if m["To"] == to]
            return found if len(found) >= count else []

        return wait_on(self._changed, mine, what=f"message #{count} to {to} came", within=timeout)

    async def wait_for(self, to: str, count: int = 1, within: float = 10.0) -> Message:
        """The ``count``-th message to ``to``, once it has arrived."""
        return (await anyio.to_thread.run_sync(self._wait, to, count, within))[count - 1]

    async def code_for(self, to: str, count: int = 1) -> str:
        message = await self.wait_for(to, count)
        found = _CODE.search(message.get_payload(decode=True).decode())
        assert found, message.get_payload()
        return found.group(1)


@pytest.fixture
def smtp():
    """An aiosmtpd server on loopback, and the settings that send mail to it."""
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield (
            inbox,
            {
                "smtp_host": "127.0.0.1",
                "smtp_port": controller.port,
                "smtp_tls": "none",
                "smtp_sender": "Gamekeeper <noreply@gamekeeper.test>",
            },
        )
    finally:
        controller.stop()


@pytest.fixture
async def mail_client(make_client, smtp):
    inbox, settings = smtp
    async with make_client(**settings) as client:
        yield client, inbox
