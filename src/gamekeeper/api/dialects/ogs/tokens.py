"""Session refresh and web auth codes (single sign-on from the OGS app into a game)."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, post
from litestar.params import JSONBody

from gamekeeper.api.bodies import require_json
from gamekeeper.api.deps import PlayerDep, WriteUow
from gamekeeper.api.dialects.ogs.context import AccountsDep, accounts_of, key_principal
from gamekeeper.api.dialects.ogs.cookies import REFRESH, session_cookies
from gamekeeper.api.dialects.ogs.schemas import (
    RefreshIn,
    RefreshOut,
    TokenIn,
    VerifyTokenOut,
    WebCodeOut,
)
from gamekeeper.api.guards import client_ip, guards, require_key, require_player, runtime_of
from gamekeeper.core import accounts
from gamekeeper.core.errors import Unauthorized
from gamekeeper.core.identity.types import KeyKind

AnyRequest = Request[Any, Any, Any]


@post(
    "/refresh",
    status_code=200,
    summary="Rotate the refresh token for a new session token",
    opt={"errors": (401,)},  # a refresh token that is missing, wrong, reused or expired
)
async def refresh(
    request: AnyRequest, write_uow: WriteUow, data: JSONBody[RefreshIn | None] = None
) -> Response[RefreshOut]:
    """The refresh token comes in the ``refresh`` cookie or the body (the body wins).

    The cookie is read only from a JSON request: a cross-site form or ``text/plain`` POST
    needs no CORS preflight, one that says it is JSON does.
    """
    token = data.refresh_token if data else None
    if not token and (token := request.cookies.get(REFRESH)):
        require_json(request)
    if not token:
        raise Unauthorized("A refresh token is required", code="missing_auth")
    ctx = accounts_of(request)
    tokens = await accounts.refresh(write_uow, refresh_token=token, ctx=ctx, ip=client_ip(request))
    cookies = session_cookies(request, tokens, ctx.policy.session.refresh_ttl)
    return Response(RefreshOut.of(tokens), cookies=cookies)


@post(
    "/web-code",
    guards=[require_player],
    status_code=200,
    security=[{"playerSession": []}],
    summary="A single-use code that signs the player into a game",
)
async def web_code(
    write_uow: WriteUow, principal: PlayerDep, account_ctx: AccountsDep
) -> WebCodeOut:
    issued = await accounts.issue_web_code(
        write_uow, player_id=principal.player_id, ctx=account_ctx
    )
    return WebCodeOut(code=issued.code, expires_in=issued.expires_in)


@post(
    "/verify-token",
    guards=guards(require_key(KeyKind.SERVER, scope="players.read"), server_to_server=True),
    status_code=200,
    security=[{"gameKey": []}],
    summary="Spend a web auth code (game server)",
)
async def verify_token(request: AnyRequest, data: JSONBody[TokenIn]) -> VerifyTokenOut:
    """Who the code's player is; a code is valid once, and not after it expired."""
    checked = await accounts.spend_web_code(
        runtime_of(request).db, code=data.token, game_id=key_principal(request).game_id
    )
    return VerifyTokenOut.of(checked)


ROUTES = [refresh, web_code, verify_token]
