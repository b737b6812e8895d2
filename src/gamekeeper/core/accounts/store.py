"""What account services need from storage. ``gamekeeper.db.accounts`` implements it with SQL."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from gamekeeper.core.accounts.types import (
    AccountLink,
    CodeRecord,
    LinkStatus,
    LinkTokenRecord,
)
from gamekeeper.core.identity.store import IdentityUow
from gamekeeper.core.identity.types import NewSession, Player, PlayerIdentity


class AccountStore(Protocol):
    # Players by their credentials. Emails are stored lower-case.
    async def find_by_email(self, email: str) -> tuple[Player, str | None] | None:
        """The player with that email and its password hash."""
        ...

    async def find_by_device(self, device_hash: str) -> Player | None: ...
    async def sign_in_device(self, device_hash: str, session: NewSession) -> Player | None:
        """The device's player, with ``session`` stored for it; None (nothing stored) if the
        device has no player."""
        ...

    async def add_device_player(self, player: Player, identity: PlayerIdentity) -> bool:
        """Insert a guest player with its device identity; False (nothing stored) if the
        device already has a player, once the request that registered it has committed."""
        ...

    async def password_hash(self, player_id: str) -> str | None: ...
    async def set_password(self, player_id: str, password_hash: str) -> None: ...
    async def set_email(self, player_id: str, email: str, password_hash: str) -> bool:
        """Set email and password of a player who has no email; False if it has one."""
        ...

    async def mark_verified(self, player_id: str) -> None: ...
    async def revoke_sessions(self, player_id: str, *, keep: str | None, at: datetime) -> list[str]:
        """Revoke the player's open sessions but ``keep``; the ids revoked."""
        ...

    # Mailed codes: the newest unspent one per player and purpose counts.
    async def add_code(self, code: CodeRecord, *, created_at: datetime) -> None: ...
    async def retire_codes(self, player_id: str, purpose: str, at: datetime) -> None: ...
    async def current_code(self, player_id: str, purpose: str) -> CodeRecord | None: ...
    async def count_failure(self, code_id: str, *, burn_at: int, at: datetime) -> None: ...
    async def spend_code(self, code_id: str, at: datetime) -> bool:
        """Spend an unspent code; False if another request spent it first."""
        ...

    # Web auth codes, found by the SHA-256 of the code.
    async def add_web_code(
        self, code_hash: str, *, player_id: str, created_at: datetime, expires_at: datetime
    ) -> None: ...
    async def spend_web_code(self, code_hash: str, *, game_id: str, at: datetime) -> Player | None:
        """Spend an unspent, unexpired code; its player, or None."""
        ...

    # Link tokens, found by the SHA-256 of the token.
    async def add_link_token(self, record: LinkTokenRecord, *, token_hash: str) -> None: ...
    async def find_link_token(self, token_hash: str) -> LinkTokenRecord | None: ...
    async def decide_link_token(
        self, token_id: str, *, status: LinkStatus, player_id: str, at: datetime
    ) -> bool:
        """Move a pending token to ``status``; False if it was no longer pending."""
        ...

    # Links between game users and players.
    async def find_link(self, game_id: str, game_user_id: str) -> AccountLink | None: ...
    async def link_of_player(self, game_id: str, player_id: str) -> AccountLink | None: ...
    async def add_link(self, link: AccountLink) -> None:
        """Raises GameUserLinkedElsewhere if a concurrent request linked the game user first."""
        ...

    async def list_links(self, player_id: str) -> list[AccountLink]: ...
    async def remove_link(self, game_id: str, player_id: str) -> AccountLink | None: ...


class AccountsUow(IdentityUow, Protocol):
    """Account services: sign-in, codes, links, web codes, over identity's players."""

    @property
    def accounts(self) -> AccountStore: ...
