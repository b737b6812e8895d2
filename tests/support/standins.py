"""Loopback stand-ins for the itch.io API and the Steam Web API, as real HTTP servers.

Each answers the documented shapes for the credentials a test registers, records every request,
and can be told to misbehave: answer a fixed status or body, or hold each answer for a while.
A held answer ends early when the stand-in stops, so a slow-provider test does not wait it out.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import parse_qs, urlsplit

from support import loopback
from support.loopback import QuietHandler
from support.receiver import Received

Answer = tuple[int, bytes]


@dataclass
class StandIn:
    url: str = ""
    requests: list[Received] = field(default_factory=list)
    status: int | None = None  # when set, every request gets this status and ``body``
    body: bytes = b""
    delay: float = 0.0  # seconds to hold each answer
    _stopping: threading.Event = field(default_factory=threading.Event)

    def handle(self, request: Received) -> Answer:
        self.requests.append(request)
        if self.delay:
            self._stopping.wait(self.delay)
        if self.status is not None:
            return self.status, self.body
        parts = urlsplit(request.path)
        query = {name: values[-1] for name, values in parse_qs(parts.query).items()}
        return self.answer(parts.path, query, request.headers)

    def answer(self, path: str, query: dict[str, str], headers: dict[str, str]) -> Answer:
        raise NotImplementedError

    def release(self) -> None:
        """Answer the held requests now (and hold no more)."""
        self._stopping.set()


@dataclass
class ItchStandIn(StandIn):
    jwt_users: dict[str, dict[str, Any]] = field(default_factory=dict)  # JWT → user object
    key_users: dict[str, dict[str, Any]] = field(default_factory=dict)  # API key → user object
    refusal_status: int = 401  # the status that goes with {"errors": [...]}

    def answer(self, path: str, query: dict[str, str], headers: dict[str, str]) -> Answer:
        users = {"/api/1/jwt/me": self.jwt_users, "/api/1/key/me": self.key_users}.get(path)
        if users is None:
            return 404, _json({"errors": ["not found"]})
        scheme, _, credential = headers.get("authorization", "").partition(" ")
        user = users.get(credential) if scheme.lower() == "bearer" else None
        if user is None:
            return self.refusal_status, _json({"errors": ["invalid key"]})
        return 200, _json({"user": user})


@dataclass
class SteamStandIn(StandIn):
    publisher_key: str = "publisher-key-for-tests"
    app_id: int = 480
    tickets: dict[str, dict[str, Any]] = field(default_factory=dict)  # ticket hex → params
    profiles: dict[str, dict[str, Any]] = field(default_factory=dict)  # SteamID → player
    profiles_status: int = 200  # what GetPlayerSummaries answers; tests change it

    def answer(self, path: str, query: dict[str, str], headers: dict[str, str]) -> Answer:
        if path not in ("/ISteamUserAuth/AuthenticateUserTicket/v1/", _SUMMARIES):
            return 404, b"<html><body>Not Found</body></html>"
        if query.get("key") != self.publisher_key:
            return 403, b"<html><head><title>Forbidden</title></head></html>"
        if path == _SUMMARIES:
            if self.profiles_status != 200:
                return self.profiles_status, b"<html><body>Server Error</body></html>"
            ids = query.get("steamids", "").split(",")
            players = [{"steamid": i, **self.profiles[i]} for i in ids if i in self.profiles]
            return 200, _json({"response": {"players": players}})
        params = self.tickets.get(query.get("ticket", "").lower())
        if params is None:
            return 200, _json({"response": {"error": _error(101, "Invalid ticket")}})
        if query.get("appid") != str(self.app_id):
            return 200, _json({"response": {"error": _error(102, "Ticket for other app")}})
        return 200, _json({"response": {"params": {"result": "OK", **params}}})

    def add_ticket(
        self,
        ticket_hex: str,
        steam_id: str,
        *,
        owner: str | None = None,
        vac_banned: bool = False,
        publisher_banned: bool = False,
    ) -> None:
        self.tickets[ticket_hex.lower()] = {
            "steamid": steam_id,
            "ownersteamid": owner or steam_id,
            "vacbanned": vac_banned,
            "publisherbanned": publisher_banned,
        }


_SUMMARIES = "/ISteamUser/GetPlayerSummaries/v2/"


def _error(code: int, description: str) -> dict[str, Any]:
    return {"errorcode": code, "errordesc": description}


def _json(value: object) -> bytes:
    return json.dumps(value).encode()


S = TypeVar("S", bound=StandIn)


def _handler(stand_in: StandIn) -> type[QuietHandler]:
    class Handler(QuietHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            headers = {k.lower(): v for k, v in self.headers.items()}
            status, body = stand_in.handle(Received(self.path, headers, b""))
            kind = "application/json" if body[:1] in (b"{", b"[") else "text/html"
            with contextlib.suppress(OSError):  # the client gave up waiting (a timeout test)
                self.reply(status, body, Content_Type=kind)

    return Handler


@contextmanager
def serving(stand_in: S) -> Iterator[S]:
    """Serve ``stand_in`` on a free loopback port until the end of the block."""
    with loopback.serving(_handler(stand_in)) as server:
        stand_in.url = server.url
        try:
            yield stand_in
        finally:
            stand_in._stopping.set()  # held answers end now, so shutting down does not wait
