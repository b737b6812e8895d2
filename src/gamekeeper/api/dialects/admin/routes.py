"""The admin API ``/admin/v1``: provisioning with the admin token."""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar import Router, delete, get, patch, post
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from gamekeeper.api.deps import ActorDep, ReadUow, RuntimeDep, WriteUow
from gamekeeper.api.dialects.admin import battleplace as battleplace_routes
from gamekeeper.api.dialects.admin import owners as owner_routes
from gamekeeper.api.dialects.admin import push as push_routes
from gamekeeper.api.dialects.admin import schemas as s
from gamekeeper.api.dialects.admin import tokens as token_routes
from gamekeeper.api.edge import INT64_MAX
from gamekeeper.api.errors import default_envelope, exception_handlers
from gamekeeper.api.guards import require_admin
from gamekeeper.core import audit
from gamekeeper.core.identity import games, keys, players

Limit = Annotated[int, QueryParameter(ge=1, le=200)]
# An audit entry's id: a 64-bit integer in SQL, so a larger one is a 400, not a database error.
Before = Annotated[int | None, QueryParameter(ge=0, le=INT64_MAX)]


@post("/developers")
async def create_developer(
    data: JSONBody[s.DeveloperCreate], write_uow: WriteUow, runtime: RuntimeDep, actor: ActorDep
) -> s.DeveloperCreated:
    developer, secret = await games.create_developer(
        write_uow, name=data.name, email=data.email, box=runtime.box, actor=actor
    )
    out = s.DeveloperOut.of(developer)
    return s.DeveloperCreated(
        **msgspec.structs.asdict(out), api_key=developer.id, secret_key=secret
    )


@get("/developers")
async def list_developers(
    read_uow: ReadUow, limit: Limit = 50, cursor: FromQuery[str | None] = None
) -> s.DeveloperPage:
    """Developers, oldest first, without their secrets."""
    found = await games.list_developers(read_uow, limit=limit + 1, after=cursor)
    page, next_cursor = s.next_page(found, limit)
    return s.DeveloperPage(items=[s.DeveloperOut.of(d) for d in page], next_cursor=next_cursor)


@get("/developers/{developer_id:str}")
async def get_developer(developer_id: FromPath[str], read_uow: ReadUow) -> s.DeveloperOut:
    return s.DeveloperOut.of(await games.get_developer(read_uow, developer_id))


@post("/games")
async def create_game(
    data: JSONBody[s.GameCreate], write_uow: WriteUow, runtime: RuntimeDep, actor: ActorDep
) -> s.GameOut:
    fields = msgspec.structs.asdict(data)
    s.check_settings(fields["settings"])
    game = await games.create_game(
        write_uow, box=runtime.box, actor=actor, refusal=runtime.http.refusal, **fields
    )
    return s.GameOut.of(game)


@get("/games")
async def list_games(
    read_uow: ReadUow, limit: Limit = 50, cursor: FromQuery[str | None] = None
) -> s.GamePage:
    found = await games.list_games(read_uow, limit=limit + 1, after=cursor)
    page, next_cursor = s.next_page(found, limit)
    return s.GamePage(items=[s.GameOut.of(g) for g in page], next_cursor=next_cursor)


@get("/games/{game_id:str}")
async def get_game(game_id: FromPath[str], read_uow: ReadUow) -> s.GameOut:
    return s.GameOut.of(await games.get_game(read_uow, game_id))


@patch("/games/{game_id:str}")
async def update_game(
    game_id: FromPath[str],
    data: JSONBody[s.GameUpdate],
    write_uow: WriteUow,
    runtime: RuntimeDep,
    actor: ActorDep,
) -> s.GameOut:
    changes = {k: v for k, v in msgspec.structs.asdict(data).items() if v is not msgspec.UNSET}
    s.check_settings(changes.get("settings"))
    game = await games.update_game(
        write_uow,
        game_id=game_id,
        changes=changes,
        box=runtime.box,
        actor=actor,
        refusal=runtime.http.refusal,
    )
    return s.GameOut.of(game)


@delete("/keys/{key_id:str}")
async def revoke_key(key_id: FromPath[str], write_uow: WriteUow, actor: ActorDep) -> None:
    await keys.revoke_key(write_uow, key_id=key_id, actor=actor)


@post("/players")
async def create_player(
    data: JSONBody[s.PlayerCreate], write_uow: WriteUow, actor: ActorDep
) -> s.PlayerOut:
    player = await players.create_player(
        write_uow,
        actor=actor,
        email=data.email,
        password=data.password,
        display_name=data.display_name,
    )
    return s.PlayerOut.of(player)


@get("/players")
async def list_players(
    read_uow: ReadUow, limit: Limit = 50, cursor: FromQuery[str | None] = None
) -> s.PlayerPage:
    """Player accounts, oldest first."""
    found = await players.list_players(read_uow, limit=limit + 1, after=cursor)
    page, next_cursor = s.next_page(found, limit)
    return s.PlayerPage(items=[s.PlayerOut.of(p) for p in page], next_cursor=next_cursor)


@get("/players/{player_id:str}")
async def get_player(player_id: FromPath[str], read_uow: ReadUow) -> s.PlayerOut:
    return s.PlayerOut.of(await players.get_player(read_uow, player_id))


@get("/audit")
async def list_audit(read_uow: ReadUow, limit: Limit = 50, before: Before = None) -> s.AuditPage:
    entries = await audit.list_entries(read_uow, limit=limit, before=before)
    next_before = entries[-1].id if len(entries) == limit else None
    return s.AuditPage(items=[s.AuditOut.of(e) for e in entries], next_before=next_before)


router = Router(
    "/admin/v1",
    route_handlers=[
        create_developer,
        list_developers,
        get_developer,
        create_game,
        list_games,
        get_game,
        update_game,
        revoke_key,
        create_player,
        list_players,
        get_player,
        list_audit,
        *owner_routes.ROUTES,
        *owner_routes.owned_routers(),
        *token_routes.ROUTES,
        *battleplace_routes.ROUTES,
        *push_routes.ROUTES,
    ],
    guards=[require_admin],
    exception_handlers=exception_handlers(default_envelope),
    tags=["admin"],
    security=[{"adminToken": []}],
)
