"""BattlePlace tokens and tickets, all derived by HMAC so that none is stored.

- client token ``c1.<game>.<player>.<expiry>.<mac>``: checked without a database query;
- match token: the request id itself (128 random bits), valid only with its client's token;
- session token ``s1.<request>.<mac>`` (one per participant) and server session token
  ``v1.<session>.<mac>``: the id they carry is looked up, the MAC proves it was issued here;
- tickets: for participants A and B of a session, A's ``ourTicket`` for B is
  ``ticket(session, A, B)`` and B's ``theirTicket`` for A is the same value.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from gamekeeper.core.matchmaking.errors import (
    ClientTokenExpired,
    ClientTokenInvalid,
    SessionTokenInvalid,
)
from gamekeeper.core.secrets import constant_time_equal

SERVER = "server"  # the participant name of a session's dedicated server
_MAC_BYTES = 16


@dataclass(frozen=True, slots=True)
class ClientPrincipal:
    game_id: str
    player_id: str


def new_request_id() -> str:
    """A match token: 128 random bits, URL-safe."""
    return secrets.token_urlsafe(16)


new_session_id = new_request_id


class Signer:
    """Issues and checks every BattlePlace token under one derived key."""

    def __init__(self, key: bytes) -> None:
        self._key = key

    def _mac(self, message: str) -> str:
        digest = hmac.new(self._key, message.encode(), hashlib.sha256).digest()[:_MAC_BYTES]
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()

    def _signed(self, prefix: str, body: str) -> str:
        return f"{prefix}.{body}.{self._mac(prefix + '.' + body)}"

    def _verified(self, token: str, prefix: str) -> str | None:
        head, _, rest = token.partition(".")
        body, _, mac = rest.rpartition(".")
        if head != prefix or not body or not constant_time_equal(mac, self._mac(f"{head}.{body}")):
            return None
        return body

    def client_token(self, *, game_id: str, player_id: str, expires_at: int) -> str:
        return self._signed("c1", f"{game_id}.{player_id}.{expires_at}")

    def read_client_token(self, token: str, *, now: float) -> ClientPrincipal:
        """The client a token speaks for; ClientTokenInvalid if forged, ClientTokenExpired if
        authentic but expired."""
        body = self._verified(token, "c1")
        parts = body.split(".") if body else []
        if len(parts) != 3 or not parts[2].isdigit():
            raise ClientTokenInvalid()
        if int(parts[2]) <= now:
            raise ClientTokenExpired()
        return ClientPrincipal(game_id=parts[0], player_id=parts[1])

    def session_token(self, request_id: str) -> str:
        return self._signed("s1", request_id)

    def read_session_token(self, token: str) -> str:
        """The request id a participant's session token was issued for."""
        request_id = self._verified(token, "s1")
        if request_id is None:
            raise SessionTokenInvalid()
        return request_id

    def server_session_token(self, session_id: str) -> str:
        return self._signed("v1", session_id)

    def read_server_session_token(self, token: str) -> str:
        session_id = self._verified(token, "v1")
        if session_id is None:
            raise SessionTokenInvalid()
        return session_id

    def ticket(self, session_id: str, presenter: str, verifier: str) -> str:
        """What ``presenter`` shows ``verifier`` in ``session_id`` (participants: request ids
        or SERVER)."""
        return self._mac(f"t1.{session_id}.{presenter}.{verifier}")
