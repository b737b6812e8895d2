"""The OGS TV casting API under ``/api/v1/cast``.

- Game servers (game key): create a session (``POST /session``), end it (``DELETE``), read it.
- Players (session token): join with the TV's code (``POST /session/{id}/join``), send input
  (``POST /input``), read a session they joined.

Inputs reach the receiver (the TV page at ``receiverUrl``) in order; errors use the OGS envelope.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Router, delete, get, post
from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler
from litestar.params import FromPath, JSONBody

from gamekeeper.api.deps import KeyPrincipalDep, PlayerDep, ReadUow, RuntimeDep, WriteUow
from gamekeeper.api.dialects.ogs.cast_schemas import (
    CastCreatedOut,
    CastEndedOut,
    CastInputIn,
    CastInputOut,
    CastSessionIn,
    CastSessionOut,
    JoinIn,
    JoinOut,
)
from gamekeeper.api.dialects.ogs.cast_ws import cast_socket
from gamekeeper.api.dialects.ogs.context import DEPENDENCIES
from gamekeeper.api.dialects.ogs.errors import render
from gamekeeper.api.dialects.ogs.linking import GAME_AUTH, PLAYER, PLAYER_AUTH
from gamekeeper.api.errors import exception_handlers
from gamekeeper.api.guards import (
    bearer_token,
    guards,
    limit,
    principal_of,
    require_key,
    require_player,
)
from gamekeeper.core.cast import sessions
from gamekeeper.core.identity.types import KEY_PREFIXES, KeyKind, KeyPrincipal, PlayerPrincipal

GAME = guards(require_key(KeyKind.SERVER, scope="players.write"), server_to_server=True)
_GAME_READ = require_key(KeyKind.SERVER, scope="players.read")
_KEY_PREFIX = KEY_PREFIXES[KeyKind.SERVER]
CAST_PAGE = "/cast"


async def game_or_player(
    connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler
) -> None:
    """The game's key, or a player's session token (a controller of the session)."""
    token = bearer_token(connection) or ""
    if token.startswith(_KEY_PREFIX):
        await _GAME_READ(connection, handler)
    else:
        await require_player(connection, handler)


@post("/session", guards=GAME, security=GAME_AUTH, status_code=200)
async def create_session(
    data: JSONBody[CastSessionIn],
    write_uow: WriteUow,
    runtime: RuntimeDep,
    principal: KeyPrincipalDep,
) -> CastCreatedOut:
    """A cast session for the game's TV page; send the TV to ``receiverUrl``."""
    created = await sessions.create_session(
        write_uow,
        game_id=principal.game_id,
        body_game_id=data.game_id,
        game_url=data.game_url,
        session_data=data.session_data,
        box=runtime.box,
    )
    receiver_url = (
        f"{runtime.settings.base_url}{CAST_PAGE}?session={created.session.id}"
        f"&key={created.receiver_key}"
    )
    return CastCreatedOut(
        session_id=created.session.id,
        receiver_url=receiver_url,
        status=created.session.status.value,
        join_code=created.join_code,
    )


@get("/session/{session_id:str}", guards=[game_or_player], security=GAME_AUTH + PLAYER_AUTH)
async def read_session(
    session_id: FromPath[str], read_uow: ReadUow, request: Request[Any, Any, Any]
) -> CastSessionOut:
    """The session's status and last activity, for its game or one of its controllers."""
    principal = principal_of(request)
    if isinstance(principal, KeyPrincipal):
        found = await sessions.get_session(
            read_uow, session_id=session_id, game_id=principal.game_id
        )
    else:
        assert isinstance(principal, PlayerPrincipal)
        found = await sessions.get_session(
            read_uow, session_id=session_id, player_id=principal.player_id
        )
    return CastSessionOut.of(found)


@delete("/session/{session_id:str}", guards=GAME, security=GAME_AUTH, status_code=200)
async def end_session(
    session_id: FromPath[str], write_uow: WriteUow, principal: KeyPrincipalDep
) -> CastEndedOut:
    """End the session (again: the same answer); its receiver and controllers are let go."""
    ended = await sessions.end_session(write_uow, session_id=session_id, game_id=principal.game_id)
    return CastEndedOut(status=ended.status.value, session_id=ended.id)


@post("/session/{session_id:str}/join", guards=PLAYER, security=PLAYER_AUTH, status_code=200)
async def join(
    session_id: FromPath[str], data: JSONBody[JoinIn], write_uow: WriteUow, runtime: RuntimeDep,
    principal: PlayerDep, request: Request[Any, Any, Any],
) -> JoinOut:  # fmt: skip
    """Join with the code the TV shows; the seat the receiver knows this controller by."""
    await limit(request, "cast_join", principal.player_id)
    seat = await sessions.join(
        write_uow, session_id=session_id, player_id=principal.player_id, code=data.code,
        box=runtime.box,
    )  # fmt: skip
    return JoinOut(session_id=session_id, seat=seat.seat)


@post("/input", guards=PLAYER, security=PLAYER_AUTH, status_code=200)
async def send_input(
    data: JSONBody[CastInputIn], write_uow: WriteUow, principal: PlayerDep,
    request: Request[Any, Any, Any],
) -> CastInputOut:  # fmt: skip
    """An input for the session's receiver: ``delivered`` if one is attached, else ``queued``."""
    await limit(request, "cast_input", f"{data.session_id}:{principal.player_id}")
    sent = await sessions.send_input(
        write_uow, session_id=data.session_id, player_id=principal.player_id,
        input_type=data.input_type, input_data=data.input_data,
    )  # fmt: skip
    return CastInputOut(
        status="delivered" if sent.delivered else "queued",
        timestamp=sent.input.at,
        seq=sent.input.seq,
    )


router = Router(
    "/api/v1/cast",
    route_handlers=[create_session, read_session, end_session, join, send_input, cast_socket],
    dependencies=DEPENDENCIES,
    exception_handlers=exception_handlers(render),
    tags=["ogs"],
)
