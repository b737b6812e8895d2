"""Admin API: tournament operators and game platforms, and what every owner has under its path.

Each owner (``/games/{id}``, ``/operators/{id}``, ``/platforms/{id}``) gets the same key and
webhook routes (``owned_routers``); the path's kind and id become the ``owner`` dependency.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from litestar import Router, get, post
from litestar.di import Provide
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from gamekeeper.api.deps import ActorDep, ReadUow, WriteUow
from gamekeeper.api.dialects.admin import keys as key_routes
from gamekeeper.api.dialects.admin import owner_schemas as s
from gamekeeper.api.dialects.admin import webhooks as webhook_routes
from gamekeeper.api.dialects.admin.schemas import next_page
from gamekeeper.core.identity import owners
from gamekeeper.core.owners.types import Owner, OwnerKind

Limit = Annotated[int, QueryParameter(ge=1, le=200)]


@post("/operators")
async def create_operator(
    data: JSONBody[s.OperatorCreate], write_uow: WriteUow, actor: ActorDep
) -> s.OperatorOut:
    """A tournament operator; then give it keys (``operator``, live or test) and webhooks."""
    return s.OperatorOut.of(await owners.create_operator(write_uow, name=data.name, actor=actor))


@get("/operators")
async def list_operators(
    read_uow: ReadUow, limit: Limit = 50, cursor: FromQuery[str | None] = None
) -> s.OperatorPage:
    found = await owners.list_operators(read_uow, limit=limit + 1, after=cursor)
    page, next_cursor = next_page(found, limit)
    return s.OperatorPage(items=[s.OperatorOut.of(o) for o in page], next_cursor=next_cursor)


@get("/operators/{operator_id:str}")
async def get_operator(operator_id: FromPath[str], read_uow: ReadUow) -> s.OperatorOut:
    return s.OperatorOut.of(await owners.get_operator(read_uow, operator_id))


@post("/platforms")
async def create_platform(
    data: JSONBody[s.PlatformCreate], write_uow: WriteUow, actor: ActorDep
) -> s.PlatformOut:
    """A game platform hosting the listed games (ids or slugs); then its ``internal`` keys."""
    platform = await owners.create_platform(
        write_uow, name=data.name, games=data.games or [], actor=actor
    )
    return s.PlatformOut.of(platform)


@get("/platforms")
async def list_platforms(
    read_uow: ReadUow, limit: Limit = 50, cursor: FromQuery[str | None] = None
) -> s.PlatformPage:
    found = await owners.list_platforms(read_uow, limit=limit + 1, after=cursor)
    page, next_cursor = next_page(found, limit)
    return s.PlatformPage(items=[s.PlatformOut.of(p) for p in page], next_cursor=next_cursor)


@get("/platforms/{platform_id:str}")
async def get_platform(platform_id: FromPath[str], read_uow: ReadUow) -> s.PlatformOut:
    return s.PlatformOut.of(await owners.get_platform(read_uow, platform_id))


def _game(game_id: FromPath[str]) -> Owner:
    return Owner(OwnerKind.GAME, game_id)


def _operator(operator_id: FromPath[str]) -> Owner:
    return Owner(OwnerKind.OPERATOR, operator_id)


def _platform(platform_id: FromPath[str]) -> Owner:
    return Owner(OwnerKind.PLATFORM, platform_id)


# Each owner's path, and the dependency reading the owner from it.
OWNER_PATHS: dict[str, Callable[[str], Owner]] = {
    "/games/{game_id:str}": _game,
    "/operators/{operator_id:str}": _operator,
    "/platforms/{platform_id:str}": _platform,
}


def owned_routers() -> list[Router]:
    """Keys and webhooks under each owner's path."""
    return [
        Router(
            path,
            route_handlers=[*key_routes.ROUTES, *webhook_routes.ROUTES],
            dependencies={"owner": Provide(owner, sync_to_thread=False)},
        )
        for path, owner in OWNER_PATHS.items()
    ]


ROUTES = [
    create_operator,
    list_operators,
    get_operator,
    create_platform,
    list_platforms,
    get_platform,
]
