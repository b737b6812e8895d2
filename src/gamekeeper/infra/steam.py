"""The Steam Web API: who a session ticket (``ISteamUser::GetAuthTicketForWebApi``) belongs to.

``GET {base}/ISteamUserAuth/AuthenticateUserTicket/v1/?key=<publisher key>&appid=<id>&ticket=<hex>``
answers ``{"response": {"params": {"result": "OK", "steamid", "ownersteamid", "vacbanned",
"publisherbanned"}}}`` or ``{"response": {"error": {"errorcode", "errordesc"}}}``. Refused: an
error, a publisher ban, and a family-shared copy (``ownersteamid`` is not ``steamid``: the
player borrows the game). A VAC ban alone is not refused here: it concerns other games, and VAC
games refuse in their own servers. Steam answers 401/403 for a publisher key it does not know:
the operator's problem, so ``ExternalAuthUnavailable``, as for 5xx, timeouts and non-JSON.

The persona name and avatar come from ``GET {base}/ISteamUser/GetPlayerSummaries/v2/?key=<publisher
key>&steamids=<id>`` (``{"response": {"players": [{"steamid", "personaname", "avatarfull"}]}}``),
asked after a ticket is accepted, when the project has a publisher key; if that fails, the
sign-in goes on without them.

The publisher key goes in the query string, as Steam requires; httpx's request log is kept at
WARNING (``infra.logging``) and neither the key nor the ticket reaches our log lines or errors.
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import httpx
import structlog

from gamekeeper.core.matchmaking.external import (
    ExternalAuthRefused,
    ExternalAuthUnavailable,
    ExternalUser,
)
from gamekeeper.core.matchmaking.steam_ticket import MALFORMED_REASON, MAX_TICKET_BYTES
from gamekeeper.infra.provider import ProviderClient
from gamekeeper.settings import Settings

__all__ = ["BAD_TICKET_REASON", "BANNED_REASON", "FAMILY_SHARED_REASON", "HttpSteamVerifier"]

BAD_TICKET_REASON = "bad ticket"
BANNED_REASON = "banned"
FAMILY_SHARED_REASON = "family-shared copy: the Steam account does not own the game"
_PATH = "/ISteamUserAuth/AuthenticateUserTicket/v1/"
_SUMMARIES = "/ISteamUser/GetPlayerSummaries/v2/"
MAX_AVATAR_URL = 1024

log = structlog.get_logger(__name__)


class HttpSteamVerifier(ProviderClient):
    """Asks the Steam Web API who a session ticket belongs to; one instance per application."""

    provider = "Steam"

    @classmethod
    def from_settings(cls, settings: Settings) -> HttpSteamVerifier:
        return cls(settings.steam_api_base_url, timeout=settings.external_auth_timeout)

    async def authenticate_user_ticket(
        self, ticket_hex: str, *, app_id: int, publisher_key: str
    ) -> ExternalUser:
        """The Steam user behind a Web API session ticket for ``app_id``."""
        if not _is_hex(ticket_hex):
            raise ExternalAuthRefused(MALFORMED_REASON)
        params = {"key": publisher_key, "appid": str(app_id), "ticket": ticket_hex}
        response = await self._get(_PATH, params=params, context={"app_id": app_id})
        return _user(response, app_id)

    async def with_profile(self, user: ExternalUser, *, publisher_key: str) -> ExternalUser:
        """``user`` with its Steam persona name and avatar, when Steam gives them."""
        params = {"key": publisher_key, "steamids": user.subject}
        try:
            response = await self._get(_SUMMARIES, params=params, context={})
        except ExternalAuthUnavailable:
            return user  # logged by the client; the sign-in goes on without a name
        profile = _profile(response, user.subject)
        if profile is None:
            log.info("steam_profile_unavailable", status=response.status_code)
            return user
        name, avatar = profile
        return replace(user, name=name or user.name, picture_url=avatar or user.picture_url)


def _profile(response: httpx.Response, steam_id: str) -> tuple[str | None, str | None] | None:
    """Persona name and avatar URL from a GetPlayerSummaries answer; None if it has neither."""
    if response.status_code != 200:
        return None
    try:
        players = json.loads(response.content)["response"]["players"]
        player = next(p for p in players if isinstance(p, dict) and p.get("steamid") == steam_id)
    except (ValueError, TypeError, KeyError, StopIteration):
        return None
    name, avatar = player.get("personaname"), player.get("avatarfull")
    if not (isinstance(name, str) and name.strip()):
        name = None
    if not (
        isinstance(avatar, str) and avatar.startswith("https://") and len(avatar) <= MAX_AVATAR_URL
    ):
        avatar = None
    return None if name is None and avatar is None else (name, avatar)


def _is_hex(text: str) -> bool:
    if not 0 < len(text) <= 2 * MAX_TICKET_BYTES or len(text) % 2:
        return False
    return text.isascii() and all(c in "0123456789abcdefABCDEF" for c in text)


def _user(response: httpx.Response, app_id: int) -> ExternalUser:
    status = response.status_code
    if status in (401, 403):
        raise _unavailable("Steam refused the publisher key", app_id=app_id, status=status)
    if status != 200:
        raise _unavailable(f"Steam answered {status}", app_id=app_id)
    try:
        body: Any = json.loads(response.content)
        answer = body["response"]
    except (ValueError, TypeError, KeyError):
        raise _unavailable("Steam answered something unexpected", app_id=app_id) from None
    if isinstance(answer, dict) and "error" in answer:
        error = answer["error"] if isinstance(answer["error"], dict) else {}
        log.info("steam_ticket_refused", app_id=app_id, errorcode=error.get("errorcode"))
        raise ExternalAuthRefused(BAD_TICKET_REASON)
    params = answer.get("params") if isinstance(answer, dict) else None
    if not isinstance(params, dict):
        raise _unavailable("Steam answered without a result", app_id=app_id)
    if params.get("result") != "OK":
        raise ExternalAuthRefused(BAD_TICKET_REASON)
    steam_id = str(params.get("steamid", ""))
    if not steam_id.isdigit():
        raise _unavailable("Steam answered without a SteamID", app_id=app_id)
    if params.get("publisherbanned") is True:
        raise ExternalAuthRefused(BANNED_REASON)
    owner = params.get("ownersteamid")
    if owner is not None and str(owner) != steam_id:
        raise ExternalAuthRefused(FAMILY_SHARED_REASON)
    return ExternalUser(provider="steam", subject=steam_id, name=None, picture_url=None)


def _unavailable(reason: str, **context: object) -> ExternalAuthUnavailable:
    log.warning("steam_unavailable", reason=reason, **context)
    return ExternalAuthUnavailable(f"{reason}; try again later")
