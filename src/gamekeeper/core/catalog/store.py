"""What catalog services need from storage. ``gamekeeper.db.catalog`` implements it with SQL."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from gamekeeper.core.catalog.types import (
    CatalogGame,
    GameToken,
    IdentityKind,
    Listing,
    ListingQuery,
    PointSession,
    Ranked,
    Tally,
)
from gamekeeper.core.identity.store import IdentityUow


class CatalogStore(Protocol):
    # Listings, one per listed game; reads join the identity game.
    async def add_listing(self, listing: Listing) -> None: ...
    async def update_listing(self, listing: Listing) -> None: ...
    async def get(self, game_id: str) -> CatalogGame | None: ...
    async def get_many(self, game_ids: Sequence[str]) -> list[CatalogGame]: ...
    async def query(self, query: ListingQuery) -> tuple[list[CatalogGame], int]:
        """A page of games in the query's order (``limit`` of them), and the total matching."""
        ...

    # Tokens associated with games.
    async def add_token(self, token: GameToken) -> GameToken:
        """Associate, or update symbol and chain of an existing association; return it."""
        ...

    async def remove_token(self, game_id: str, token_address: str) -> bool: ...
    async def tokens_of(self, game_ids: Sequence[str]) -> dict[str, list[GameToken]]: ...
    async def games_of_tokens(self, token_addresses: Sequence[str]) -> dict[str, list[CatalogGame]]:
        """Listed (not hidden) games per token address, oldest association first."""
        ...

    # Developers as OGP users and their outside identities.
    async def existing_developers(self, developer_ids: Sequence[str]) -> set[str]: ...
    async def find_identity(self, kind: IdentityKind, value: str) -> str | None: ...
    async def add_identity(
        self, kind: IdentityKind, value: str, *, developer_id: str, at: datetime
    ) -> str:
        """Link the identity; if another transaction linked it first, return that developer."""
        ...

    async def identities_of(self, developer_id: str) -> list[tuple[IdentityKind, str]]: ...


class PointsStore(Protocol):
    async def lock_tallies(self, game_id: str, player_ids: Sequence[str]) -> dict[str, Tally]:
        """Each player's tally, locked until the transaction ends (created at zero if new)."""
        ...

    async def record(
        self, game_id: str, sessions: Sequence[PointSession], tallies: Sequence[Tally]
    ) -> None:
        """Insert the sessions and store the tallies that account for them."""
        ...

    async def tally(self, game_id: str, player_id: str) -> Tally | None: ...
    async def ranking(self, game_id: str, *, limit: int, offset: int) -> tuple[list[Ranked], int]:
        """Players by points, most first, ties by player id; and how many players there are."""
        ...


class CatalogUow(IdentityUow, Protocol):
    """Catalog services: listings, tokens, splits and points, over identity's games."""

    @property
    def catalog(self) -> CatalogStore: ...

    @property
    def points(self) -> PointsStore: ...
