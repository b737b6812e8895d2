"""Public OGP game reads: the listing, games by id, batches, games by token.

They read through ``Database.read``: no transaction, so a read costs one round trip per
statement. The listing and games by id are answered from the catalog cache when it holds
them: their unit of work is opened in the handler, and only on a miss.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from typing import Annotated, Any

import msgspec
from litestar import MediaType, Request, Response, get, post
from litestar.di import Provide
from litestar.openapi import ResponseSpec
from litestar.params import FromPath, JSONBody, QueryParameter

from gamekeeper.api.deps import ReadUow
from gamekeeper.api.dialects.ogp.params import ListingDep, provide_listing
from gamekeeper.api.dialects.ogp.schemas import (
    BatchIdsIn,
    BatchTokensIn,
    Envelope,
    GameOut,
    GamePage,
)
from gamekeeper.api.guards import PUBLIC, runtime_of
from gamekeeper.core.catalog import listings, tokens
from gamekeeper.core.catalog.store import CatalogUow
from gamekeeper.core.catalog.types import ListingPage

WithTokens = Annotated[bool, QueryParameter(name="include_tokens")]
AnyRequest = Request[Any, Any, Any]
_encode = msgspec.json.Encoder().encode


def reading(request: AnyRequest) -> AbstractAsyncContextManager[CatalogUow]:
    """A read for a cache miss (a ``read_uow`` dependency would cost every hit a checkout)."""
    return runtime_of(request).db.read()


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
    opt=PUBLIC,
    responses={200: ResponseSpec(Envelope[GamePage], description="A page of games")},
    dependencies={"listing": Provide(provide_listing, sync_to_thread=False)},
)
async def list_games(request: AnyRequest, listing: ListingDep) -> Response[bytes]:
    async def answer() -> Envelope[GamePage]:
        async with reading(request) as uow:
            return page_of(await listings.list_games(uow, listing.query, listing.cursor))

    return await cached(request, answer)


@get(
    ["/games/id/{game_id:str}", "/games/{game_id:str}"],
    opt=PUBLIC,
    responses={200: ResponseSpec(Envelope[GameOut], description="The game")},
)
async def get_game(
    game_id: FromPath[str], request: AnyRequest, include_tokens: WithTokens = False
) -> Response[bytes]:
    async def answer() -> Envelope[GameOut]:
        async with reading(request) as uow:
            found = await listings.get_game(uow, game_id, with_tokens=include_tokens)
        return Envelope(data=GameOut.of(found))

    return await cached(request, answer)


async def cached(request: AnyRequest, answer: Callable[[], Awaitable[Any]]) -> Response[bytes]:
    """The encoded answer of a public read, from the catalog cache when it holds it.

    Keyed by path and query string: these answers do not depend on who asks.
    """
    cache = runtime_of(request).catalog_cache
    key = request.scope["path"] + "?" + request.scope["query_string"].decode("latin-1")
    body = cache.get(key)
    if body is None:
        generation = cache.generation  # before reading: a change meanwhile voids the answer
        body = _encode(await answer())
        cache.put(key, body, generation=generation)
    return Response(body, media_type=MediaType.JSON)


@post("/games/batch/ids", opt=PUBLIC, status_code=200)
async def batch_by_ids(data: JSONBody[BatchIdsIn], read_uow: ReadUow) -> Envelope[list[GameOut]]:
    found = await tokens.games_by_ids(read_uow, data.game_ids)
    return Envelope(data=[GameOut.of(item) for item in found])


@post("/games/batch/token-ids", opt=PUBLIC, status_code=200)
async def batch_by_tokens(
    data: JSONBody[BatchTokensIn], read_uow: ReadUow
) -> Envelope[dict[str, list[GameOut]]]:
    found = await tokens.games_by_tokens(read_uow, data.token_ids)
    return Envelope(data={t: [GameOut.of(item) for item in games] for t, games in found.items()})


@get("/games/by-token-id/{token_address:str}", opt=PUBLIC)
async def by_token(token_address: FromPath[str], read_uow: ReadUow) -> Envelope[GameOut]:
    return Envelope(data=GameOut.of(await tokens.game_of_token(read_uow, token_address)))


@get("/games/token-id/{token_address:str}/full", opt=PUBLIC)
async def by_token_full(token_address: FromPath[str], read_uow: ReadUow) -> Envelope[list[GameOut]]:
    found = await tokens.games_of_token(read_uow, token_address)
    return Envelope(data=[GameOut.of(item) for item in found])


ROUTES = [list_games, get_game, batch_by_ids, batch_by_tokens, by_token, by_token_full]
