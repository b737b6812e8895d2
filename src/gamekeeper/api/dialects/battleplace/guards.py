"""The BattlePlace client credential: ``Authorization: Bearer <clientToken>``.

Client tokens are checked by their MAC alone, without a database query: status polls, the hot
path of matchmaking, cost no storage read to authenticate.
"""

from __future__ import annotations

from litestar.di import NamedDependency
from litestar.handlers import BaseRouteHandler

from gamekeeper.api.guards import Connection, bearer_token, runtime_of
from gamekeeper.core.matchmaking.errors import ClientTokenInvalid
from gamekeeper.core.matchmaking.tokens import ClientPrincipal


async def require_client(connection: Connection, _: BaseRouteHandler) -> None:
    runtime = runtime_of(connection)
    token = bearer_token(connection)
    if token is None:
        raise ClientTokenInvalid("client token required")
    principal = runtime.match_signer.read_client_token(token, now=runtime.clock().timestamp())
    connection.scope.setdefault("state", {})["principal"] = principal


def client_of(connection: Connection) -> ClientPrincipal:
    """The client ``require_client`` let in."""
    principal = connection.scope["state"]["principal"]
    assert isinstance(principal, ClientPrincipal)
    return principal


# What handlers annotate: the client ``require_client`` let in, as the ``principal`` dependency.
ClientDep = NamedDependency[ClientPrincipal]
