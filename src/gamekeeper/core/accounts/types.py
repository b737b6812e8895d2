"""Player accounts as the core sees them, and what account services need besides storage."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol

from gamekeeper.core.identity.types import Player, SessionPolicy, SessionTokens

LinkStatus = Literal["pending", "linked", "declined"]
CodePurpose = Literal["login", "verify_email"]


@dataclass(frozen=True, slots=True)
class AccountSession:
    """A signed-in player and the tokens of the session just opened."""

    player: Player
    tokens: SessionTokens
    created: bool = False  # a device sign-in that created the player


@dataclass(frozen=True, slots=True)
class LinkRequest:
    """A game's request to link one of its users to a player, as the link page shows it."""

    token_id: str
    game_id: str
    game_name: str
    game_user_id: str
    redirect_url: str
    status: LinkStatus
    expires_at: datetime
    player_id: str | None
    linked_at: datetime | None


@dataclass(frozen=True, slots=True)
class IssuedLinkToken:
    """A new link token; the token itself exists only in this value."""

    token: str
    request: LinkRequest


@dataclass(frozen=True, slots=True)
class LinkCheck:
    """What verify-link-token tells the game that asked for the token."""

    valid: bool
    status: str | None = None  # pending | linked | declined | unlinked (the link was removed)
    player_id: str | None = None
    email: str | None = None
    linked_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class AccountLink:
    id: str
    game_id: str
    game_name: str
    game_user_id: str
    player_id: str
    linked_at: datetime


@dataclass(frozen=True, slots=True)
class WebCode:
    code: str
    expires_in: int


@dataclass(frozen=True, slots=True)
class WebCodeCheck:
    valid: bool
    player_id: str | None = None
    email: str | None = None
    verified: bool = False


@dataclass(frozen=True, slots=True)
class CodeRecord:
    id: str
    player_id: str
    purpose: str
    code_hash: str
    attempts: int
    expires_at: datetime
    used_at: datetime | None


@dataclass(frozen=True, slots=True)
class LinkTokenRecord:
    id: str
    game_id: str
    game_name: str
    game_user_id: str
    redirect_url: str
    status: LinkStatus
    player_id: str | None
    created_at: datetime
    expires_at: datetime
    decided_at: datetime | None


@dataclass(frozen=True, slots=True)
class Mail:
    to: str
    subject: str
    text: str


class Mailer(Protocol):
    def post(self, mail: Mail) -> None:
        """Hand a message over for delivery; it must not wait for the mail server."""
        ...


class Verdict(Protocol):
    @property
    def allowed(self) -> bool: ...
    @property
    def reset_after(self) -> int: ...


class Attempts(Protocol):
    """Counters of failed attempts per (category, identity): the rate limiter."""

    async def hit(self, category: str, identity: str) -> Verdict: ...
    async def check(self, category: str, identity: str) -> Verdict: ...
    async def clear(self, category: str, identity: str) -> None: ...


@dataclass(frozen=True, slots=True)
class AccountPolicy:
    """Lifetimes (seconds) and keys of account tokens; defaults are the spec's."""

    session: SessionPolicy
    code_key: bytes  # HMAC key for short mailed codes
    link_ttl: int = 1800
    email_code_ttl: int = 600
    web_code_ttl: int = 300
    code_attempts: int = 5  # wrong guesses before a mailed code is burnt
    site_name: str = "Gamekeeper"


@dataclass(frozen=True, slots=True)
class AccountContext:
    """What account services need besides the unit of work."""

    policy: AccountPolicy
    mailer: Mailer
    attempts: Attempts
