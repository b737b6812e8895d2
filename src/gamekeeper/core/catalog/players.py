"""Players as an OGP game server asks about them: whose session a token is."""

from __future__ import annotations

from gamekeeper.core.catalog.store import CatalogUow
from gamekeeper.core.errors import Unauthorized
from gamekeeper.core.identity import sessions
from gamekeeper.core.identity.types import SessionPolicy

MAX_SESSION_TOKEN = 4096


async def session_player(uow: CatalogUow, *, token: str, policy: SessionPolicy) -> str | None:
    """The player whose session ``token`` opens, or None if it is forged, expired or revoked.

    Not a failed authentication of the caller (a signed developer asks about someone else's
    token), so a refusal is neither counted nor audited.
    """
    if not 0 < len(token) <= MAX_SESSION_TOKEN:
        return None
    try:
        principal = sessions.read_access_token(token, policy=policy, now=uow.now())
        await sessions.check_session(uow, principal)
    except Unauthorized:
        return None
    return principal.player_id
