"""The game listing: register, update, hide and read OGP games.

An OGP game is a Gamekeeper game (the identity record: id, name, URL, developer) with a
listing beside it. Reads answer only games that have a listing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any
from urllib.parse import urlsplit

from gamekeeper.core import audit
from gamekeeper.core.audit import Actor
from gamekeeper.core.catalog import rules, splits
from gamekeeper.core.catalog.cursor import decode_cursor, encode_cursor
from gamekeeper.core.catalog.errors import GameNotListed, GameNotOwned
from gamekeeper.core.catalog.events import CatalogChanged
from gamekeeper.core.catalog.images import missing_image
from gamekeeper.core.catalog.store import CatalogUow
from gamekeeper.core.catalog.types import CatalogGame, Listing, ListingPage, ListingQuery, Position
from gamekeeper.core.catalog.uploads import BlobSink, ImageInput, check_image, store_image
from gamekeeper.core.events.outbox import record_event
from gamekeeper.core.identity import games
from gamekeeper.core.identity.events import GameUpdated
from gamekeeper.core.owners.types import Owner
from gamekeeper.core.secrets import SecretBox
from gamekeeper.core.transactions import Transactions

_IDENTITY_FIELDS = ("name", "game_url")


async def register_game(
    db: Transactions[CatalogUow],
    *,
    developer_id: str,
    fields: Mapping[str, Any],
    image: ImageInput,
    cover: ImageInput,
    blobs: BlobSink,
    box: SecretBox,
    actor: Actor,
) -> CatalogGame:
    """List a new game for the developer; it needs an image, and its split pays the caller.

    The images are checked and stored before the transaction (both take a while). Blobs are
    content-addressed: a registration that fails after storing them leaves bytes that a retry
    stores under the same keys again, and no game.
    """
    checked, checked_cover = await check_image(image), await check_image(cover)
    values = rules.clean(fields, required=rules.REQUIRED)
    image_url, cover_url = (
        await store_image(checked, blobs),
        await store_image(checked_cover, blobs),
    )
    async with db.transaction() as uow:
        return await _list_game(
            uow,
            developer_id=developer_id,
            values=values,
            image_url=image_url,
            cover_url=cover_url,
            box=box,
            actor=actor,
        )


async def _list_game(
    uow: CatalogUow,
    *,
    developer_id: str,
    values: dict[str, Any],
    image_url: str | None,
    cover_url: str | None,
    box: SecretBox,
    actor: Actor,
) -> CatalogGame:
    split = await splits.resolve_split(
        uow,
        values.pop("org_rewards_split", None),
        caller_id=developer_id,
        validated=False,
        box=box,
        actor=actor,
    )
    values.pop("remove_cover_image", None)
    if image_url is None:
        raise missing_image()
    game = await games.create_game(
        uow,
        name=values.pop("name"),
        game_url=values.pop("game_url"),
        developer_id=developer_id,
        box=box,
        actor=actor,
    )
    listing = Listing(
        game_id=game.id,
        creator_id=developer_id,
        created_at=game.created_at,
        updated_at=game.created_at,
        image_url=image_url,
        cover_image_url=cover_url,
        org_rewards_split=split,
        **values,
    )
    await uow.catalog.add_listing(listing)
    uow.emit(CatalogChanged())
    return CatalogGame(game, listing)


async def update_game(
    db: Transactions[CatalogUow],
    *,
    game_id: str,
    developer_id: str,
    fields: Mapping[str, Any],
    image: ImageInput,
    cover: ImageInput,
    blobs: BlobSink,
    box: SecretBox,
    actor: Actor,
) -> CatalogGame:
    """Change the given fields of the developer's own game (a partial update).

    New images are checked and stored before the transaction, as in ``register_game``.
    """
    checked, checked_cover = await check_image(image), await check_image(cover)
    image_url, cover_url = (
        await store_image(checked, blobs),
        await store_image(checked_cover, blobs),
    )
    async with db.transaction() as uow:
        return await _change_game(
            uow,
            game_id=game_id,
            developer_id=developer_id,
            fields=fields,
            image_url=image_url,
            cover_url=cover_url,
            box=box,
            actor=actor,
        )


async def _change_game(
    uow: CatalogUow,
    *,
    game_id: str,
    developer_id: str,
    fields: Mapping[str, Any],
    image_url: str | None,
    cover_url: str | None,
    box: SecretBox,
    actor: Actor,
) -> CatalogGame:
    current = await owned_game(uow, game_id=game_id, developer_id=developer_id)
    values = rules.clean(fields)
    if "org_rewards_split" in values:
        values["org_rewards_split"] = await splits.resolve_split(
            uow,
            values["org_rewards_split"],
            caller_id=developer_id,
            validated=current.listing.ownership_validated,
            box=box,
            actor=actor,
        )
    if image_url is not None:
        values["image_url"] = image_url
    if cover_url is not None:
        values["cover_image_url"] = cover_url
    elif values.pop("remove_cover_image", False):
        values["cover_image_url"] = None
    values.pop("remove_cover_image", None)
    if not values:
        return current
    now = uow.now()
    game = current.game
    identity = {k: values.pop(k) for k in _IDENTITY_FIELDS if k in values}
    if identity:
        game = replace(game, **identity, updated_at=now)
        await uow.identity.update_game(game)
        if _host(game.game_url) != _host(current.game.game_url):
            # The claim proved control of the old address, not of the new one.
            values["ownership_validated"] = False
    listing = replace(current.listing, **values, updated_at=now)
    await uow.catalog.update_listing(listing)
    uow.emit(CatalogChanged())
    await _changed(uow, game_id, sorted({*identity, *values} - {"ownership_validated"}), actor)
    return CatalogGame(game, listing)


async def toggle_visibility(
    uow: CatalogUow, *, game_id: str, developer_id: str, actor: Actor
) -> CatalogGame:
    """Hide a listed game from the public listing, or list a hidden one again."""
    current = await owned_game(uow, game_id=game_id, developer_id=developer_id)
    listing = replace(current.listing, hidden=not current.listing.hidden, updated_at=uow.now())
    await uow.catalog.update_listing(listing)
    uow.emit(CatalogChanged())
    await _changed(uow, game_id, ["hidden"], actor)
    return replace(current, listing=listing)


async def get_game(uow: CatalogUow, game_id: str, *, with_tokens: bool = False) -> CatalogGame:
    """A listed game by id, hidden or not; GameNotListed otherwise."""
    found = await uow.catalog.get(game_id)
    if found is None:
        raise GameNotListed()
    return (await _with_tokens(uow, [found]))[0] if with_tokens else found


async def owned_game(uow: CatalogUow, *, game_id: str, developer_id: str) -> CatalogGame:
    """The game, if the developer owns it (its validated owner, else its creator)."""
    found = await get_game(uow, game_id)
    if found.listing.owner != developer_id:
        raise GameNotOwned()
    return found


async def list_games(uow: CatalogUow, query: ListingQuery, cursor: str | None) -> ListingPage:
    """One page of listed games; hidden ones only among a developer's own."""
    if cursor:
        query = replace(query, after=decode_cursor(cursor, query.sort, query.descending), offset=0)
    found, total = await uow.catalog.query(replace(query, limit=query.limit + 1))
    items, has_more = found[: query.limit], len(found) > query.limit
    if query.with_tokens:
        items = await _with_tokens(uow, items)
    next_cursor = None
    if has_more:
        last = items[-1]
        position = Position(sort_value(last, query), last.game.id)
        next_cursor = encode_cursor(query.sort, query.descending, position)
    return ListingPage(items=items, total=total, has_more=has_more, next_cursor=next_cursor)


def sort_value(item: CatalogGame, query: ListingQuery) -> Any:
    """The value ``item`` is sorted by under ``query`` (names sort case-insensitively)."""
    if query.sort.value == "name":
        return item.game.name.lower()
    return getattr(item.listing, query.sort.value)


async def _with_tokens(uow: CatalogUow, items: list[CatalogGame]) -> list[CatalogGame]:
    tokens = await uow.catalog.tokens_of([item.game.id for item in items])
    return [replace(item, tokens=tuple(tokens.get(item.game.id, ()))) for item in items]


async def _changed(uow: CatalogUow, game_id: str, fields: list[str], actor: Actor) -> None:
    await audit.record(
        uow,
        "game.updated",
        actor=actor,
        target_type="game",
        target_id=game_id,
        game_id=game_id,
        fields=fields,
    )
    payload = GameUpdated(game_id=game_id, fields=fields)
    await record_event(
        uow, "game.updated", payload, owner=Owner.game(game_id), aggregate_id=game_id
    )


def _host(url: str | None) -> str | None:
    return urlsplit(url).hostname if url else None
