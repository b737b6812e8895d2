"""Public OGP game reads: the listing, games by id, batches, games by token."""

from __future__ import annotations

from typing import Annotated

from litestar import get, post
from litestar.di import Provide
from litestar.params import FromPath, JSONBody, QueryParameter

from gamekeeper.api.deps import RuntimeDep, Uow
from gamekeeper.api.dialects.ogp.params import ListingDep, provide_listing
from gamekeeper.api.dialects.ogp.schemas import (
    BatchIdsIn,
    BatchTokensIn,
    Envelope,
    GameOut,
    GamePage,
)
from gamekeeper.api.guards import rate_limit_public
from gamekeeper.core.catalog import listings, tokens
from gamekeeper.core.catalog.types import ListingPage

PUBLIC = [rate_limit_public]
WithTokens = Annotated[bool, QueryParameter(name="include_tokens")]


def page_of(page: ListingPage) -> Envelope[GamePage]:
    return Envelope(
        data=GamePage(
            items=[GameOut.of(item) for item in page.items],
            next_cursor=page.next_cursor,
            has_more=page.has_more,
            total=page.total,
        )
    )


@get(
    "/games",
    guards=PUBLIC,
    dependencies={"listing": Provide(provide_listing, sync_to_thread=False)},
)
async def list_games(uow: Uow, listing: ListingDep) -> Envelope[GamePage]:
    return page_of(await listings.list_games(uow, listing.query, listing.cursor))


@get(["/games/id/{game_id:str}", "/games/{game_id:str}"], guards=PUBLIC)
async def get_game(
    game_id: FromPath[str], uow: Uow, include_tokens: WithTokens = False
) -> Envelope[GameOut]:
    found = await listings.get_game(uow, game_id, with_tokens=include_tokens)
    return Envelope(data=GameOut.of(found))


@post("/games/batch/ids", guards=PUBLIC, status_code=200)
async def batch_by_ids(data: JSONBody[BatchIdsIn], runtime: RuntimeDep) -> Envelope[list[GameOut]]:
    async with runtime.db.transaction(write=False) as uow:
        found = await tokens.games_by_ids(uow, data.game_ids)
    return Envelope(data=[GameOut.of(item) for item in found])


@post("/games/batch/token-ids", guards=PUBLIC, status_code=200)
async def batch_by_tokens(
    data: JSONBody[BatchTokensIn], runtime: RuntimeDep
) -> Envelope[dict[str, list[GameOut]]]:
    async with runtime.db.transaction(write=False) as uow:
        found = await tokens.games_by_tokens(uow, data.token_ids)
    return Envelope(data={t: [GameOut.of(item) for item in games] for t, games in found.items()})


@get("/games/by-token-id/{token_address:str}", guards=PUBLIC)
async def by_token(token_address: FromPath[str], uow: Uow) -> Envelope[GameOut]:
    return Envelope(data=GameOut.of(await tokens.game_of_token(uow, token_address)))


@get("/games/token-id/{token_address:str}/full", guards=PUBLIC)
async def by_token_full(token_address: FromPath[str], uow: Uow) -> Envelope[list[GameOut]]:
    found = await tokens.games_of_token(uow, token_address)
    return Envelope(data=[GameOut.of(item) for item in found])


ROUTES = [list_games, get_game, batch_by_ids, batch_by_tokens, by_token, by_token_full]
