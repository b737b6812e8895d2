"""``POST /play/dev/validate-session-token``: whose Gamekeeper session a player's token is.

The SDK's ``play.validateSessionToken``. A game server hands over the session token (JWT) its
player signed in with (``/api/v1/auth/login`` and the other OGS sign-ins) and learns the
player's id; ``ogpId`` is the same id, as Gamekeeper players are its own users. No game is
named: a Gamekeeper session belongs to a player, not to a game, so ``gameId`` is left out.
Any token that does not open a session answers ``{"valid": false}``, not an error.
"""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar import post
from litestar.params import JSONBody

from gamekeeper.api.deps import ReadUow, RuntimeDep
from gamekeeper.api.dialects.ogp.schemas import Envelope, Wire
from gamekeeper.api.guards import require_hmac
from gamekeeper.core.catalog import players
from gamekeeper.core.catalog.players import MAX_SESSION_TOKEN


class SessionTokenIn(Wire):
    session_token: Annotated[str, msgspec.Meta(max_length=MAX_SESSION_TOKEN)]


class SessionCheckOut(Wire, omit_defaults=True):
    valid: bool
    player_id: str | None = None
    ogp_id: str | None = None


@post("/play/dev/validate-session-token", guards=[require_hmac], status_code=200)
async def validate_session_token(
    data: JSONBody[SessionTokenIn], read_uow: ReadUow, runtime: RuntimeDep
) -> Envelope[SessionCheckOut]:
    player_id = await players.session_player(
        read_uow, token=data.session_token, policy=runtime.session_policy
    )
    if player_id is None:
        return Envelope(data=SessionCheckOut(valid=False))
    return Envelope(data=SessionCheckOut(valid=True, player_id=player_id, ogp_id=player_id))


ROUTES = [validate_session_token]
