"""The BattlePlace matchmaking API v1a, under ``/v1a``.

Clients authenticate once (``/client/auth``) and then carry a client token; dedicated servers
send the project id and the project's server token (a ``server`` key of the game) in each body,
except a session's result, whose credential is the signed server session token in its path.
Errors use the BattlePlace envelope ``{"status", "error", "code"}``.
"""

from __future__ import annotations

from litestar import Router

from gamekeeper.api.dialects.battleplace import auth, client, results, server
from gamekeeper.api.dialects.battleplace.errors import BattlePlaceError, render
from gamekeeper.api.dialects.battleplace.guards import require_client
from gamekeeper.api.errors import exception_handlers

router = Router(
    "/v1a",
    route_handlers=[*auth.ROUTES, *client.ROUTES, *server.ROUTES, *results.ROUTES],
    exception_handlers=exception_handlers(render),
    tags=["battleplace"],
    # For the OpenAPI document (api/openapi.py): how errors look, what the client guard checks.
    # Every route may answer 401: a client token, or credentials in the body.
    opt={
        "envelope": BattlePlaceError,
        "guard_schemes": {require_client: "clientToken"},
        "errors": (401,),
    },
)
