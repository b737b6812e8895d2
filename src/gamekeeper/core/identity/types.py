"""Identity records as the core sees them: plain, immutable values."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class KeyKind(StrEnum):
    # A game's own servers: OGS game key, Kongregate api_key, BattlePlace server token.
    SERVER = "server"
    TEST = "test"  # test clients (BattlePlace test key)
    INTERNAL = "internal"  # a game platform hosting tournament rooms
    OPERATOR = "operator"  # a tournament operator


# Visible prefixes; the tournament dialect's clients expect `internal_` and `sk_live_`.
KEY_PREFIXES: dict[KeyKind, str] = {
    KeyKind.SERVER: "gk_srv_",
    KeyKind.TEST: "gk_test_",
    KeyKind.INTERNAL: "internal_",
    KeyKind.OPERATOR: "sk_live_",
}

DEFAULT_SCOPES: dict[KeyKind, tuple[str, ...]] = {
    KeyKind.SERVER: ("game.read", "game.write", "players.read", "players.write", "events.write"),
    KeyKind.TEST: ("test.auth",),
    KeyKind.INTERNAL: (
        "tournaments.read",
        "tournaments.create",
        "auth.validate",
        "rooms.write",
        "events.write",
    ),
    KeyKind.OPERATOR: ("tournaments.read", "tournaments.write", "players.write"),
}


@dataclass(frozen=True, slots=True)
class Developer:
    id: str
    name: str
    email: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Game:
    id: str
    slug: str
    name: str
    developer_id: str | None
    game_url: str | None
    callback_url: str | None
    allowed_origins: tuple[str, ...]
    settings: dict[str, Any]
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class Credential:
    id: str
    game_id: str
    kind: KeyKind
    scopes: tuple[str, ...]
    name: str | None
    prefix: str
    created_at: datetime
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class IssuedKey:
    """A credential together with its secret, which exists only in this value, once."""

    credential: Credential
    key: str


@dataclass(frozen=True, slots=True)
class Player:
    id: str
    email: str | None
    display_name: str | None
    verified: bool
    created_at: datetime
    has_password: bool = False


@dataclass(frozen=True, slots=True)
class PlayerIdentity:
    id: str
    player_id: str
    provider: str
    subject: str
    game_id: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class SessionTokens:
    session_id: str
    player_id: str
    access_token: str
    access_expires_in: int
    refresh_token: str
    refresh_expires_at: datetime


@dataclass(frozen=True, slots=True)
class KeyPrincipal:
    """Who a server-side key speaks for: one game, one kind, its scopes."""

    credential_id: str
    game_id: str
    kind: KeyKind
    scopes: frozenset[str] = field(default_factory=frozenset)

    def allows(self, scope: str) -> bool:
        return scope in self.scopes


@dataclass(frozen=True, slots=True)
class PlayerPrincipal:
    player_id: str
    session_id: str


@dataclass(frozen=True, slots=True)
class DeveloperPrincipal:
    developer_id: str
