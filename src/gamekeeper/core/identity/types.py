"""Identity records as the core sees them: plain, immutable values."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from gamekeeper.core.identity.errors import NotAGameKey
from gamekeeper.core.owners.types import Owner, OwnerKind


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

# An operator key in test mode (``testMode: true``): test tournaments, no real prizes.
TEST_MODE_PREFIX = "sk_test_"

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


# The kinds of key each owner may hold. A game keeps every kind it could hold before owners.
OWNER_KEY_KINDS: dict[OwnerKind, frozenset[KeyKind]] = {
    OwnerKind.GAME: frozenset(KeyKind),
    OwnerKind.OPERATOR: frozenset({KeyKind.OPERATOR}),
    OwnerKind.PLATFORM: frozenset({KeyKind.INTERNAL}),
}


@dataclass(frozen=True, slots=True)
class Operator:
    """A tournament organiser: creates tournaments and registers players."""

    id: str
    name: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Platform:
    """A game platform: reads tournaments, validates players, runs rooms for its games."""

    id: str
    name: str
    created_at: datetime
    game_ids: tuple[str, ...] = ()


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
    owner: Owner
    kind: KeyKind
    scopes: tuple[str, ...]
    name: str | None
    prefix: str
    created_at: datetime
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None
    test_mode: bool = False

    @property
    def game_id(self) -> str | None:
        return self.owner.game_id


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
    """Who a server-side key speaks for: its owner (a game, an operator or a platform), its
    kind and scopes."""

    credential_id: str
    owner: Owner
    kind: KeyKind
    scopes: frozenset[str] = field(default_factory=frozenset)
    test_mode: bool = False

    def allows(self, scope: str) -> bool:
        return scope in self.scopes

    @property
    def game_id(self) -> str:
        """The key's game. Routes of a game's dialect admit game keys only (``require_key``)."""
        if self.owner.kind is not OwnerKind.GAME:
            raise NotAGameKey()
        return self.owner.id


@dataclass(frozen=True, slots=True)
class PlayerPrincipal:
    player_id: str
    session_id: str


@dataclass(frozen=True, slots=True)
class DeveloperPrincipal:
    developer_id: str


@dataclass(frozen=True, slots=True)
class SessionPolicy:
    signing_key: bytes
    access_ttl: int
    refresh_ttl: int


@dataclass(frozen=True, slots=True)
class NewSession:
    """A session about to be stored: its rows' values, and the refresh token shown once."""

    id: str
    refresh_token: str
    refresh_hash: str
    created_at: datetime
    expires_at: datetime  # of the session and of its first refresh token
