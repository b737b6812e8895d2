"""itch.io: the user behind the JWT the itch app hands a game it launches, or an API key.

``GET {base}/api/1/jwt/me`` (or ``/api/1/key/me``) with ``Authorization: Bearer <credential>``
answers ``{"user": {"id", "username", "display_name"?, "cover_url"?}}``, or ``{"errors": [...]}``
for a credential itch.io does not accept. A refusal (``errors``, 401, 403) is the client's
problem: ``ExternalAuthRefused("bad token")``. Anything else that is not a user (5xx, a timeout,
no answer, not JSON) is ours: ``ExternalAuthUnavailable``.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import structlog

from gamekeeper.core.matchmaking.external import (
    ExternalAuthRefused,
    ExternalAuthUnavailable,
    ExternalUser,
)
from gamekeeper.infra.provider import ProviderClient
from gamekeeper.settings import Settings

__all__ = ["BAD_TOKEN_REASON", "HttpItchVerifier"]

BAD_TOKEN_REASON = "bad token"
MAX_CREDENTIAL_CHARS = 4096

log = structlog.get_logger(__name__)


class HttpItchVerifier(ProviderClient):
    """Asks itch.io who a JWT or API key belongs to; one instance per application."""

    provider = "itch.io"

    @classmethod
    def from_settings(cls, settings: Settings) -> HttpItchVerifier:
        return cls(settings.itch_base_url, timeout=settings.external_auth_timeout)

    async def jwt_me(self, token: str) -> ExternalUser:
        """The user behind an itch app JWT (the game's ``ITCHIO_API_KEY``)."""
        return await self._me("jwt", token)

    async def key_me(self, api_key: str) -> ExternalUser:
        """The user owning an itch.io API key."""
        return await self._me("key", api_key)

    async def _me(self, kind: str, credential: str) -> ExternalUser:
        if not _plausible(credential):
            raise ExternalAuthRefused(BAD_TOKEN_REASON)
        response = await self._get(
            f"/api/1/{kind}/me",
            headers={"Authorization": f"Bearer {credential}"},
            context={"kind": kind},
        )
        return _user(response, kind)


def _plausible(credential: str) -> bool:
    """Printable ASCII without spaces: anything else cannot be a token and cannot go in a header."""
    if not 0 < len(credential) <= MAX_CREDENTIAL_CHARS:
        return False
    return credential.isascii() and credential.isprintable() and " " not in credential


def _user(response: httpx.Response, kind: str) -> ExternalUser:
    status = response.status_code
    if status >= 500:
        raise _unavailable(f"itch.io answered {status}", kind=kind)
    try:
        body: Any = json.loads(response.content)
    except ValueError:
        body = None
    refused = status in (401, 403) or (isinstance(body, dict) and bool(body.get("errors")))
    if refused:
        raise ExternalAuthRefused(BAD_TOKEN_REASON)
    if body is None:
        raise _unavailable("itch.io answered something other than JSON", kind=kind, status=status)
    user = body.get("user") if isinstance(body, dict) else None
    if status != 200 or not isinstance(user, dict):
        raise _unavailable("itch.io answered without a user", kind=kind, status=status)
    user_id, username = user.get("id"), user.get("username")
    if isinstance(user_id, bool) or not isinstance(user_id, int | str) or not str(user_id):
        raise _unavailable("itch.io answered a user without an id", kind=kind)
    display_name = user.get("display_name")
    name = display_name if isinstance(display_name, str) and display_name else username
    cover = user.get("cover_url")
    return ExternalUser(
        provider="itch",
        subject=str(user_id),
        name=name if isinstance(name, str) and name else None,
        picture_url=cover if isinstance(cover, str) and cover else None,
    )


def _unavailable(reason: str, **context: object) -> ExternalAuthUnavailable:
    log.warning("itch_unavailable", reason=reason, **context)
    return ExternalAuthUnavailable(f"{reason}; try again later")
