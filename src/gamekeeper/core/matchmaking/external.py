"""Client identities vouched for by an outside provider (itch.io, Steam), and the verifiers.

A verifier turns what a game client sends (an itch.io JWT or API key, a Steam ticket) into an
``ExternalUser`` or refuses it:

    ExternalAuthRefused(Unauthorized)    the provider (or the ticket itself) says no; the message
                                         is the reason shown to the client ("bad token", ...)
    ExternalAuthUnavailable(Unavailable) the provider cannot be asked: unreachable, 5xx, timeout,
                                         an answer we cannot read; the client may try again

Verifiers are protocols so the service takes a fake in tests; the HTTP ones live in
``gamekeeper.infra.itch`` and ``gamekeeper.infra.steam``. Encrypted app tickets need no HTTP:
``gamekeeper.core.matchmaking.steam_ticket`` decrypts them with the app's key.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

from gamekeeper.core.errors import Unauthorized, Unavailable

__all__ = [
    "ExternalAuthRefused", "ExternalAuthUnavailable", "ExternalUser", "ItchVerifier", "Provider",
    "SteamVerifier",
]  # fmt: skip

Provider = Literal["itch", "steam"]


@dataclass(frozen=True, slots=True)
class ExternalUser:
    provider: Provider
    subject: str  # the itch.io user id or the SteamID64, as text
    name: str | None
    picture_url: str | None


class ExternalAuthRefused(Unauthorized):
    code = "external_auth_refused"
    message = "bad token"


class ExternalAuthUnavailable(Unavailable):
    code = "external_auth_unavailable"
    message = "The identity provider cannot be reached; try again later"


class ItchVerifier(Protocol):
    async def jwt_me(self, token: str) -> ExternalUser:
        """The itch.io user behind the JWT the itch app gives a game it launches."""
        ...

    async def key_me(self, api_key: str) -> ExternalUser:
        """The itch.io user owning an API key."""
        ...


class SteamVerifier(Protocol):
    async def authenticate_user_ticket(
        self, ticket_hex: str, *, app_id: int, publisher_key: str
    ) -> ExternalUser:
        """The Steam user behind a session ticket, as the Steam Web API vouches for it."""
        ...

    async def with_profile(self, user: ExternalUser, *, publisher_key: str) -> ExternalUser:
        """The user with the persona name and avatar of its Steam profile; the user as given
        if Steam cannot say (a sign-in does not fail for want of a name)."""
        ...
