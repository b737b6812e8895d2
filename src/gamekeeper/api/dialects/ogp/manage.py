"""Signed OGP game routes: register, update, a developer's own games, visibility, claims."""

from __future__ import annotations

from dataclasses import replace
from functools import partial
from typing import Any

from litestar import Request, get, post
from litestar.di import Provide
from litestar.params import FromPath

from gamekeeper.api.deps import ActorDep, DeveloperDep, ReadUow, RuntimeDep, WriteUow
from gamekeeper.api.dialects.ogp.forms import read_game
from gamekeeper.api.dialects.ogp.games import page_of
from gamekeeper.api.dialects.ogp.pages import fetch_page
from gamekeeper.api.dialects.ogp.params import ListingDep, provide_own_listing
from gamekeeper.api.dialects.ogp.schemas import Envelope, GameIn, GameOut, GamePage
from gamekeeper.api.guards import require_hmac
from gamekeeper.core.catalog import listings, ownership

SIGNED = [require_hmac]
# For the OpenAPI document: ``read_game`` decodes GameIn, from JSON or a multipart form.
GAME_BODY = {"body": GameIn, "form": True}
# Two images, as files (10 MB each) or base64 (5 MB decoded, a third more encoded).
MAX_GAME_BODY = 24 * 1024 * 1024
AnyRequest = Request[Any, Any, Any]


@post("/games", guards=SIGNED, request_max_body_size=MAX_GAME_BODY, opt=GAME_BODY)
async def register_game(
    request: AnyRequest, principal: DeveloperDep, runtime: RuntimeDep, actor: ActorDep
) -> Envelope[GameOut]:
    form = await read_game(request)  # the whole body, before any transaction
    game = await listings.register_game(
        runtime.db,
        developer_id=principal.developer_id,
        fields=form.fields,
        image=form.image,
        cover=form.cover,
        blobs=runtime.blobs,
        box=runtime.box,
        actor=actor,
    )
    return Envelope(data=GameOut.of(game))


@post(
    ["/games/update/{game_id:str}", "/games/{game_id:str}"],
    guards=SIGNED,
    request_max_body_size=MAX_GAME_BODY,
    status_code=200,
    opt=GAME_BODY,
)
async def update_game(
    game_id: FromPath[str],
    request: AnyRequest,
    principal: DeveloperDep,
    runtime: RuntimeDep,
    actor: ActorDep,
) -> Envelope[GameOut]:
    form = await read_game(request)
    game = await listings.update_game(
        runtime.db,
        game_id=game_id,
        developer_id=principal.developer_id,
        fields=form.fields,
        image=form.image,
        cover=form.cover,
        blobs=runtime.blobs,
        box=runtime.box,
        actor=actor,
    )
    return Envelope(data=GameOut.of(game))


@get(
    "/games/me",
    guards=SIGNED,
    dependencies={"listing": Provide(provide_own_listing, sync_to_thread=False)},
)
async def my_games(
    read_uow: ReadUow, principal: DeveloperDep, listing: ListingDep
) -> Envelope[GamePage]:
    query = replace(listing.query, developer_id=principal.developer_id)
    return page_of(await listings.list_games(read_uow, query, listing.cursor))


@post("/games/toggle-visibility/{game_id:str}", guards=SIGNED, status_code=200)
async def toggle_visibility(
    game_id: FromPath[str], write_uow: WriteUow, principal: DeveloperDep, actor: ActorDep
) -> Envelope[GameOut]:
    game = await listings.toggle_visibility(
        write_uow, game_id=game_id, developer_id=principal.developer_id, actor=actor
    )
    return Envelope(data=GameOut.of(game))


@post("/games/claim-ownership/{game_id:str}", guards=SIGNED, status_code=200)
async def claim_ownership(
    game_id: FromPath[str], principal: DeveloperDep, runtime: RuntimeDep, actor: ActorDep
) -> Envelope[GameOut]:
    game = await ownership.claim_ownership(
        runtime.db,
        game_id=game_id,
        developer_id=principal.developer_id,
        fetch=partial(fetch_page, runtime.http),
        actor=actor,
    )
    return Envelope(data=GameOut.of(game))


ROUTES = [register_game, update_game, my_games, toggle_visibility, claim_ownership]
