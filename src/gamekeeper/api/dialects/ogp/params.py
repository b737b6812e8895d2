"""Query parameters of the game listings, turned into a core ListingQuery."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from litestar.di import NamedDependency
from litestar.params import QueryParameter

from gamekeeper.api.dialects.ogp.schemas import Direction, SortBy
from gamekeeper.core.catalog.types import ListingQuery, SortKey

SORT_KEYS: dict[str, SortKey] = {
    "totalRewardsPoolValueUsd": SortKey.TOTAL_REWARDS_POOL_VALUE_USD,
    "totalRewardsAllocatedUsd": SortKey.TOTAL_REWARDS_ALLOCATED_USD,
    "estimatedDailyRewardsUsd": SortKey.ESTIMATED_DAILY_REWARDS_USD,
    "marketCap": SortKey.MARKET_CAP,
    "playerCount": SortKey.PLAYER_COUNT,
    "name": SortKey.NAME,
    "createdAt": SortKey.CREATED_AT,
}

Limit = Annotated[int, QueryParameter(ge=1, le=100)]
Offset = Annotated[int, QueryParameter(ge=0, le=1_000_000)]
Cursor = Annotated[str | None, QueryParameter(max_length=1024)]
Search = Annotated[str | None, QueryParameter(name="query", max_length=200)]
DirectionAlias = Annotated[Direction | None, QueryParameter(name="sortDirection")]
SortByParam = Annotated[SortBy | None, QueryParameter(name="sortBy")]
Extra = Annotated[bool, QueryParameter(name="include_extra")]
ExtraAlias = Annotated[bool, QueryParameter(name="includeExtra")]
Sort = Annotated[Direction | None, QueryParameter()]


@dataclass(frozen=True, slots=True)
class Listing:
    query: ListingQuery
    cursor: str | None


ListingDep = NamedDependency[Listing]


def provide_listing(
    limit: Limit = 50,
    offset: Offset = 0,
    cursor: Cursor = None,
    sort: Sort = None,
    sort_direction: DirectionAlias = None,
    sort_by: SortByParam = None,
    search: Search = None,
    include_extra: Extra = False,
    include_extra_alias: ExtraAlias = False,
) -> Listing:
    """The public listing: by rewards pool value, largest first, unless asked otherwise."""
    direction = sort or sort_direction or "desc"
    return Listing(
        ListingQuery(
            sort=SORT_KEYS[sort_by or "totalRewardsPoolValueUsd"],
            descending=direction == "desc",
            limit=limit,
            offset=offset,
            text=(search or "").strip() or None,
            with_tokens=include_extra or include_extra_alias,
        ),
        cursor or None,
    )


def provide_own_listing(
    limit: Limit = 50,
    offset: Offset = 0,
    cursor: Cursor = None,
    sort: Sort = None,
    sort_by: SortByParam = None,
    include_extra: Extra = False,
    include_extra_alias: ExtraAlias = False,
) -> Listing:
    """A developer's own games: newest first unless asked otherwise (set the developer later)."""
    return Listing(
        ListingQuery(
            sort=SORT_KEYS[sort_by or "createdAt"],
            descending=(sort or "desc") == "desc",
            limit=limit,
            offset=offset,
            with_tokens=include_extra or include_extra_alias,
        ),
        cursor or None,
    )
