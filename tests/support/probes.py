"""Small routes mounted in each dialect's envelope, to test the shared guards through HTTP."""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar import Router, get, post
from litestar.params import FromPath, JSONBody

from gamekeeper.api import guards as g
from gamekeeper.api.deps import DeveloperDep, KeyPrincipalDep, PlayerDep
from gamekeeper.api.dialects.battleplace.errors import render as battleplace
from gamekeeper.api.dialects.kongregate.errors import render as kongregate
from gamekeeper.api.dialects.ogp.errors import render as ogp
from gamekeeper.api.dialects.ogs.errors import render as ogs
from gamekeeper.api.dialects.tournaments.errors import STATUS_OVERRIDES
from gamekeeper.api.dialects.tournaments.errors import render as tournaments
from gamekeeper.api.errors import exception_handlers
from gamekeeper.core.identity.auth import ensure_game
from gamekeeper.core.identity.types import KeyKind


class Echo(msgspec.Struct, forbid_unknown_fields=True):
    count: Annotated[int, msgspec.Meta(ge=0)]
    name: str = ""


def _key_router(path, render, guard, overrides=None):
    @get("/games/{game_id:str}")
    async def probe(game_id: FromPath[str], principal: KeyPrincipalDep) -> dict:
        ensure_game(principal, game_id)
        return {"game": principal.game_id}

    @post("/echo")
    async def echo(data: JSONBody[Echo], principal: KeyPrincipalDep) -> dict:
        return {"count": data.count}

    return Router(
        path,
        route_handlers=[probe, echo],
        guards=g.guards(guard, server_to_server=True),
        exception_handlers=exception_handlers(render, overrides),
    )


def _internal_key(connection):
    return connection.headers.get("x-internal-api-key") or g.bearer_token(connection)


def routers():
    @get("/me")
    async def ogp_me(principal: DeveloperDep) -> dict:
        return {"data": {"id": principal.developer_id}, "error": None}

    @post("/echo")
    async def ogp_echo(data: JSONBody[Echo], principal: DeveloperDep) -> dict:
        return {"data": {"count": data.count}, "error": None}

    @get("/whoami")
    async def player_me(principal: PlayerDep) -> dict:
        return {"player": principal.player_id}

    @get("/open")
    async def public_open() -> dict:
        return {"ok": True}

    return [
        _key_router("/probe/ogs", ogs, g.require_key(KeyKind.SERVER)),
        _key_router(
            "/probe/kong",
            kongregate,
            g.require_key(KeyKind.SERVER, extract=lambda c: c.query_params.get("api_key")),
        ),
        _key_router("/probe/bp", battleplace, g.require_key(KeyKind.SERVER)),
        _key_router(
            "/probe/tour",
            tournaments,
            g.require_key(KeyKind.INTERNAL, scope="rooms.write", extract=_internal_key),
            STATUS_OVERRIDES,
        ),
        Router(
            "/probe/ogp",
            route_handlers=[ogp_me, ogp_echo],
            guards=[g.require_hmac],
            exception_handlers=exception_handlers(ogp),
        ),
        Router(
            "/probe/player",
            route_handlers=[player_me],
            guards=[g.require_player],
            exception_handlers=exception_handlers(ogs),
        ),
        Router(
            "/probe/public",
            route_handlers=[public_open],
            guards=[g.rate_limit_public],
            exception_handlers=exception_handlers(ogs),
        ),
    ]
