"""BattlePlace credentials: client tokens (``Authorization: Bearer``), server tokens (in bodies),
server session tokens (in a result's path).

Client tokens are checked by their MAC alone, without a database query: status polls, the hot
path of matchmaking, cost no storage read to authenticate. Server tokens are ``server`` keys,
resolved through the key cache. Both count against per-credential rate limits (``player`` per
client, ``server`` per key); a forged one counts toward its address's lockout and is
audited (an expired one does not: clients behind one address all expire in time).
"""

from __future__ import annotations

from litestar.di import NamedDependency
from litestar.handlers import BaseRouteHandler

from gamekeeper.api.guards import (
    Connection,
    bearer_token,
    limit,
    refuse_credential,
    resolve_key,
    runtime_of,
)
from gamekeeper.core.identity.types import KeyKind
from gamekeeper.core.matchmaking.errors import (
    ClientTokenExpired,
    ClientTokenInvalid,
    ServerTokenInvalid,
    SessionTokenInvalid,
)
from gamekeeper.core.matchmaking.tokens import ClientPrincipal


async def require_client(connection: Connection, _: BaseRouteHandler) -> None:
    runtime = runtime_of(connection)
    token = bearer_token(connection)
    try:
        if token is None:
            raise ClientTokenInvalid("client token required")
        principal = runtime.match_signer.read_client_token(token, now=runtime.clock().timestamp())
    except ClientTokenExpired:
        raise  # an authentic token past its lifetime: the client signs in again, no guess
    except ClientTokenInvalid as exc:
        raise await refuse_credential(connection, "battleplace.client_token", exc) from None
    connection.scope.setdefault("state", {})["principal"] = principal
    await limit(connection, "player", principal.player_id)


async def authenticate_server(connection: Connection, *, project_id: str | None, token: str) -> str:
    """The project whose live ``server`` key ``token`` is; ``project_id``, if given, must be it.

    Called from handlers (the token is in the body), before they open their transaction.
    """
    principal = await resolve_key(connection, token)
    if (
        principal is None
        or principal.kind != KeyKind.SERVER
        or principal.game_id is None
        or (project_id is not None and principal.game_id != project_id)
    ):
        raise await refuse_credential(connection, "battleplace.server_token", ServerTokenInvalid())
    await limit(connection, "server", "key:" + principal.credential_id)
    return principal.game_id


async def authenticate_server_session(connection: Connection, token: str) -> str:
    """The session a server session token was issued for: the token is a result's credential.

    A forged one counts toward the address's lockout, as a forged key would; reports count
    against the ``server`` limit per session.
    """
    try:
        session_id = runtime_of(connection).match_signer.read_server_session_token(token)
    except SessionTokenInvalid as exc:
        raise await refuse_credential(connection, "battleplace.server_session_token", exc) from None
    await limit(connection, "server", "session:" + session_id)
    return session_id


def client_of(connection: Connection) -> ClientPrincipal:
    """The client ``require_client`` let in."""
    principal = connection.scope["state"]["principal"]
    assert isinstance(principal, ClientPrincipal)
    return principal


# What handlers annotate: the client ``require_client`` let in, as the ``principal`` dependency.
ClientDep = NamedDependency[ClientPrincipal]
