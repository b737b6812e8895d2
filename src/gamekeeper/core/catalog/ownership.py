"""Ownership claims: a developer proves control of a game's page with a meta tag.

The page at the game's URL must carry, in its ``<head>``, ``<meta name="x-ogp-key"
content="<the developer's API key>">``. ``claim_ownership`` reads the URL (``claim_target``),
fetches the page with the caller's ``fetch`` (the safe outbound client) outside any
transaction, then records the outcome (``record_claim``) in a short transaction.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace
from html.parser import HTMLParser

from gamekeeper.core import audit
from gamekeeper.core.audit import Actor
from gamekeeper.core.catalog.errors import GameUrlChanged, GameUrlRefused, OwnershipNotProven
from gamekeeper.core.catalog.events import CatalogChanged
from gamekeeper.core.catalog.listings import get_game
from gamekeeper.core.catalog.store import CatalogUow
from gamekeeper.core.catalog.types import CatalogGame
from gamekeeper.core.transactions import Transactions

META_NAME = "x-ogp-key"


class _HeadMeta(HTMLParser):
    """Collects the ``x-ogp-key`` meta values of a document's head (before <body>)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.keys: set[str] = set()
        self.done = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.done:
            return
        if tag == "body":
            self.done = True
        elif tag == "meta":
            values = {name.lower(): (value or "") for name, value in attrs}
            if values.get("name", "").strip().lower() == META_NAME:
                self.keys.add(values.get("content", "").strip())

    def handle_endtag(self, tag: str) -> None:
        if tag == "head":
            self.done = True


def head_keys(page: bytes) -> set[str]:
    """The API keys named by ``x-ogp-key`` meta tags in the page's head."""
    parser = _HeadMeta()
    parser.feed(page.decode("utf-8", errors="replace"))
    parser.close()
    return parser.keys


async def claim_ownership(
    db: Transactions[CatalogUow],
    *,
    game_id: str,
    developer_id: str,
    fetch: Callable[[str], Awaitable[bytes]],
    actor: Actor,
) -> CatalogGame:
    """Make the developer the game's validated owner if the game's page names them."""
    async with db.read() as uow:
        url = await claim_target(uow, game_id=game_id)
    page = await fetch(url)
    async with db.transaction() as uow:
        return await record_claim(
            uow, game_id=game_id, developer_id=developer_id, url=url, page=page, actor=actor
        )


async def claim_target(uow: CatalogUow, *, game_id: str) -> str:
    """The URL to fetch to check a claim on the game."""
    found = await get_game(uow, game_id)
    if not found.game.game_url:
        raise GameUrlRefused("The game has no gameUrl to check")
    return found.game.game_url


async def record_claim(
    uow: CatalogUow, *, game_id: str, developer_id: str, url: str, page: bytes, actor: Actor
) -> CatalogGame:
    """Make the developer the validated owner if ``page`` (fetched from ``url``) names them."""
    current = await get_game(uow, game_id)
    if current.game.game_url != url:
        raise GameUrlChanged()
    if developer_id not in head_keys(page):
        await audit.record(
            uow,
            "game.ownership_claim_failed",
            actor=actor,
            target_type="game",
            target_id=game_id,
            game_id=game_id,
        )
        uow.keep_on_error()
        raise OwnershipNotProven(
            f'The page at gameUrl has no <meta name="{META_NAME}" content="<your API key>"> '
            "tag in its <head>"
        )
    listing = replace(
        current.listing, owner_id=developer_id, ownership_validated=True, updated_at=uow.now()
    )
    await uow.catalog.update_listing(listing)
    uow.emit(CatalogChanged())
    await audit.record(
        uow,
        "game.ownership_claimed",
        actor=actor,
        target_type="game",
        target_id=game_id,
        game_id=game_id,
        previous_owner=current.listing.owner,
    )
    return replace(current, listing=listing)
