"""The admin API ``/admin/v1``: provisioning with the admin token."""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar import Router, delete, get, patch, post
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from gamekeeper.api.deps import ActorDep, RuntimeDep, Uow
from gamekeeper.api.dialects.admin import battleplace as battleplace_routes
from gamekeeper.api.dialects.admin import schemas as s
from gamekeeper.api.dialects.admin import tokens as token_routes
from gamekeeper.api.dialects.admin import webhooks as webhook_routes
from gamekeeper.api.dialects.ogs.errors import render
from gamekeeper.api.errors import exception_handlers
from gamekeeper.api.guards import require_admin
from gamekeeper.core import audit
from gamekeeper.core.identity import games, players
from gamekeeper.core.identity.types import KeyKind

Limit = Annotated[int, QueryParameter(ge=1, le=200)]


@post("/developers")
async def create_developer(
    data: JSONBody[s.DeveloperCreate], uow: Uow, runtime: RuntimeDep, actor: ActorDep
) -> s.DeveloperCreated:
    developer, secret = await games.create_developer(
        uow, name=data.name, email=data.email, box=runtime.box, actor=actor
    )
    out = s.DeveloperOut.of(developer)
    return s.DeveloperCreated(
        **msgspec.structs.asdict(out), api_key=developer.id, secret_key=secret
    )


@get("/developers/{developer_id:str}")
async def get_developer(developer_id: FromPath[str], uow: Uow) -> s.DeveloperOut:
    return s.DeveloperOut.of(await games.get_developer(uow, developer_id))


@post("/games")
async def create_game(
    data: JSONBody[s.GameCreate], uow: Uow, runtime: RuntimeDep, actor: ActorDep
) -> s.GameOut:
    fields = msgspec.structs.asdict(data)
    s.check_settings(fields["settings"])
    game = await games.create_game(uow, box=runtime.box, actor=actor, **fields)
    return s.GameOut.of(game)


@get("/games")
async def list_games(
    uow: Uow, limit: Limit = 50, cursor: FromQuery[str | None] = None
) -> s.GamePage:
    found = await games.list_games(uow, limit=limit + 1, after=cursor)
    page = found[:limit]
    next_cursor = page[-1].id if len(found) > limit else None
    return s.GamePage(items=[s.GameOut.of(g) for g in page], next_cursor=next_cursor)


@get("/games/{game_id:str}")
async def get_game(game_id: FromPath[str], uow: Uow) -> s.GameOut:
    return s.GameOut.of(await games.get_game(uow, game_id))


@patch("/games/{game_id:str}")
async def update_game(
    game_id: FromPath[str],
    data: JSONBody[s.GameUpdate],
    uow: Uow,
    runtime: RuntimeDep,
    actor: ActorDep,
) -> s.GameOut:
    changes = {k: v for k, v in msgspec.structs.asdict(data).items() if v is not msgspec.UNSET}
    s.check_settings(changes.get("settings"))
    game = await games.update_game(
        uow, game_id=game_id, changes=changes, box=runtime.box, actor=actor
    )
    return s.GameOut.of(game)


@post("/games/{game_id:str}/keys")
async def issue_key(
    game_id: FromPath[str], data: JSONBody[s.KeyCreate], uow: Uow, actor: ActorDep
) -> s.KeyCreated:
    issued = await games.issue_key(
        uow,
        game_id=game_id,
        kind=KeyKind(data.kind),
        scopes=data.scopes,
        name=data.name,
        actor=actor,
    )
    return s.KeyCreated.of(issued)


@get("/games/{game_id:str}/keys")
async def list_keys(game_id: FromPath[str], uow: Uow) -> s.KeyList:
    return s.KeyList(items=[s.KeyOut.of(k) for k in await games.list_keys(uow, game_id=game_id)])


@delete("/keys/{key_id:str}")
async def revoke_key(key_id: FromPath[str], uow: Uow, actor: ActorDep) -> None:
    await games.revoke_key(uow, key_id=key_id, actor=actor)


@post("/players")
async def create_player(data: JSONBody[s.PlayerCreate], uow: Uow, actor: ActorDep) -> s.PlayerOut:
    player = await players.create_player(
        uow, actor=actor, email=data.email, password=data.password, display_name=data.display_name
    )
    return s.PlayerOut.of(player)


@get("/players/{player_id:str}")
async def get_player(player_id: FromPath[str], uow: Uow) -> s.PlayerOut:
    return s.PlayerOut.of(await players.get_player(uow, player_id))


@get("/audit")
async def list_audit(
    uow: Uow, limit: Limit = 50, before: FromQuery[int | None] = None
) -> s.AuditPage:
    entries = await audit.list_entries(uow, limit=limit, before=before)
    next_before = entries[-1].id if len(entries) == limit else None
    return s.AuditPage(items=[s.AuditOut.of(e) for e in entries], next_before=next_before)


router = Router(
    "/admin/v1",
    route_handlers=[
        create_developer,
        get_developer,
        create_game,
        list_games,
        get_game,
        update_game,
        issue_key,
        list_keys,
        revoke_key,
        create_player,
        get_player,
        list_audit,
        *webhook_routes.ROUTES,
        *token_routes.ROUTES,
        *battleplace_routes.ROUTES,
    ],
    guards=[require_admin],
    exception_handlers=exception_handlers(render),
    tags=["admin"],
    security=[{"adminToken": []}],
)
