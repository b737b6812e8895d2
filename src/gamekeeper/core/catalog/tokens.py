"""Tokens associated with games, and reading games by id or token in batches."""

from __future__ import annotations

import re
from collections.abc import Sequence

from gamekeeper.core import audit
from gamekeeper.core.audit import Actor
from gamekeeper.core.catalog.errors import (
    GameNotListed,
    InvalidTokenAddress,
    TokenNotAssociated,
    TooManyIds,
)
from gamekeeper.core.catalog.events import CatalogChanged
from gamekeeper.core.catalog.listings import get_game
from gamekeeper.core.catalog.store import CatalogUow
from gamekeeper.core.catalog.types import CatalogGame, GameToken

MAX_BATCH = 100
_ADDRESS = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
_HEX_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")
_LABEL = re.compile(r"^[A-Za-z0-9._ -]{1,32}$")


def token_address(value: str) -> str:
    """A token address as stored: trimmed; EVM addresses lower-case (they ignore case)."""
    text = value.strip()
    if not _ADDRESS.match(text):
        raise InvalidTokenAddress()
    return text.lower() if _HEX_ADDRESS.match(text) else text


async def associate_token(
    uow: CatalogUow,
    *,
    game_id: str,
    address: str,
    symbol: str | None,
    chain: str | None,
    actor: Actor,
) -> GameToken:
    """Associate a token with a listed game; again with the same address updates the labels."""
    await get_game(uow, game_id)
    for name, label in (("symbol", symbol), ("chain", chain)):
        if label is not None and not _LABEL.match(label):
            raise InvalidTokenAddress(
                f"{name} must be 1 to 32 letters, digits, spaces, '.', '_' or '-'",
                code="invalid_token_label",
            )
    token = GameToken(token_address(address), game_id, symbol, chain, uow.now())
    token = await uow.catalog.add_token(token)
    uow.emit(CatalogChanged())
    await audit.record(
        uow,
        "game.token_associated",
        actor=actor,
        target_type="game",
        target_id=game_id,
        game_id=game_id,
        token=token.token_address,
    )
    return token


async def dissociate_token(uow: CatalogUow, *, game_id: str, address: str, actor: Actor) -> None:
    """Remove a token's association with a game."""
    normalised = token_address(address)
    if not await uow.catalog.remove_token(game_id, normalised):
        raise TokenNotAssociated()
    uow.emit(CatalogChanged())
    await audit.record(
        uow,
        "game.token_dissociated",
        actor=actor,
        target_type="game",
        target_id=game_id,
        game_id=game_id,
        token=normalised,
    )


async def games_by_ids(uow: CatalogUow, game_ids: Sequence[str]) -> list[CatalogGame]:
    """The listed games among ``game_ids``, hidden ones too, in the order asked; unknown skipped."""
    wanted = _batch(game_ids, "gameIds")
    found = {item.game.id: item for item in await uow.catalog.get_many(wanted)}
    return [found[game_id] for game_id in wanted if game_id in found]


async def games_by_tokens(
    uow: CatalogUow, addresses: Sequence[str]
) -> dict[str, list[CatalogGame]]:
    """For each address asked (as given), the listed games associated with it."""
    wanted = _batch(addresses, "tokenIds")
    normalised = {address: _normalised_or_none(address) for address in wanted}
    found = await uow.catalog.games_of_tokens([a for a in normalised.values() if a])
    return {given: found.get(address or "", []) for given, address in normalised.items()}


async def games_of_token(uow: CatalogUow, address: str) -> list[CatalogGame]:
    """The listed games associated with one token, each with all its tokens."""
    normalised = token_address(address)
    found = (await uow.catalog.games_of_tokens([normalised])).get(normalised, [])
    tokens = await uow.catalog.tokens_of([item.game.id for item in found])
    return [
        CatalogGame(item.game, item.listing, tuple(tokens.get(item.game.id, ()))) for item in found
    ]


async def game_of_token(uow: CatalogUow, address: str) -> CatalogGame:
    """The game a token was first associated with (that is still listed)."""
    found = await games_of_token(uow, address)
    if not found:
        raise GameNotListed("No listed game is associated with that token")
    return found[0]


def _batch(values: Sequence[str], name: str) -> list[str]:
    if len(values) > MAX_BATCH:
        raise TooManyIds(f"{name} may hold at most {MAX_BATCH} values; got {len(values)}")
    return list(dict.fromkeys(values))


def _normalised_or_none(address: str) -> str | None:
    try:
        return token_address(address)
    except InvalidTokenAddress:
        return None
