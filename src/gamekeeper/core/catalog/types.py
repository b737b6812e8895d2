"""Catalog records as the core sees them: plain, immutable values."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from gamekeeper.core.identity.types import Developer, Game

ZERO = Decimal(0)
TOTAL_BPS = 10_000


class Platform(StrEnum):
    # The OGP documentation's platforms, then the ones its Node client sends.
    WEB = "web"
    DESKTOP = "desktop"
    MOBILE = "mobile"
    CONSOLE = "console"
    IOS = "ios"
    ANDROID = "android"
    STEAM = "steam"
    ITCH = "itch"
    EPIC = "epic"


class ApprovalStatus(StrEnum):
    PENDING = "pending"
    PENDING_UPDATE = "pending_update"
    APPROVED = "approved"
    REJECTED = "rejected"


class SortKey(StrEnum):
    TOTAL_REWARDS_POOL_VALUE_USD = "total_rewards_pool_value_usd"
    TOTAL_REWARDS_ALLOCATED_USD = "total_rewards_allocated_usd"
    ESTIMATED_DAILY_REWARDS_USD = "estimated_daily_rewards_usd"
    MARKET_CAP = "market_cap"
    PLAYER_COUNT = "player_count"
    NAME = "name"
    CREATED_AT = "created_at"


class IdentityKind(StrEnum):
    """Outside identities a rewards split may name."""

    PRIVY = "privy"
    SOLANA = "solana"
    ETHEREUM = "ethereum"
    EMAIL = "email"
    TWITTER = "twitter"


@dataclass(frozen=True, slots=True)
class Listing:
    """The catalog side of a game: what the OGP market shows beside the identity record."""

    game_id: str
    description: str
    platform: Platform
    creator_id: str
    created_at: datetime
    updated_at: datetime
    is_html_game: bool = True
    iframable: bool = True
    hidden: bool = False
    image_url: str | None = None
    cover_image_url: str | None = None
    twitter: str | None = None
    discord: str | None = None
    telegram: str | None = None
    jwks_url: str | None = None
    max_score_per_session: int | None = None
    max_sessions_per_day: int | None = None
    max_cumulative_points_per_day: int | None = None
    org_rewards_split: dict[str, int] = field(default_factory=dict)
    owner_id: str | None = None
    ownership_validated: bool = False
    # Nothing reviews games yet: a registered game is listed at once.
    approval_status: ApprovalStatus = ApprovalStatus.APPROVED
    # No rewards economy yet: these stay 0 until one feeds them.
    total_rewards_allocated_usd: Decimal = ZERO
    total_rewards_pool_value_usd: Decimal = ZERO
    estimated_daily_rewards_usd: Decimal = ZERO
    market_cap: Decimal = ZERO
    player_count: int = 0
    game_coin_symbol: str | None = None

    @property
    def owner(self) -> str:
        """Who may change the listing: the validated owner, else the creator."""
        return self.owner_id or self.creator_id


@dataclass(frozen=True, slots=True)
class GameToken:
    token_address: str
    game_id: str
    symbol: str | None
    chain: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class CatalogGame:
    """An OGP game: the identity game and its listing, with tokens when asked for."""

    game: Game
    listing: Listing
    tokens: tuple[GameToken, ...] | None = None


@dataclass(frozen=True, slots=True)
class Position:
    """Where a page ends: the sort value of its last game and that game's id."""

    value: Any
    game_id: str


@dataclass(frozen=True, slots=True)
class ListingQuery:
    sort: SortKey = SortKey.TOTAL_REWARDS_POOL_VALUE_USD
    descending: bool = True
    limit: int = 50
    offset: int = 0
    after: Position | None = None
    text: str | None = None
    # A developer's own games: hidden ones included.
    developer_id: str | None = None
    with_tokens: bool = False


@dataclass(frozen=True, slots=True)
class ListingPage:
    items: list[CatalogGame]
    total: int
    has_more: bool
    next_cursor: str | None


@dataclass(frozen=True, slots=True)
class Profile:
    """A developer as OGP shows a user, with the outside identities linked to them."""

    developer: Developer
    identities: tuple[tuple[IdentityKind, str], ...] = ()

    def first(self, kind: IdentityKind) -> str | None:
        return next((value for k, value in self.identities if k == kind), None)

    def all(self, kind: IdentityKind) -> list[str]:
        return [value for k, value in self.identities if k == kind]


class Cap(StrEnum):
    """The cap that clipped an entry, as the OGP reports it."""

    SCORE_PER_SESSION = "maxScorePerSession"
    SESSIONS_PER_DAY = "maxSessionsPerDay"
    POINTS_PER_DAY = "maxCumulativePointsPerDay"


@dataclass(frozen=True, slots=True)
class Caps:
    score_per_session: int | None = None
    sessions_per_day: int | None = None
    points_per_day: int | None = None

    @classmethod
    def of(cls, listing: Listing) -> Caps:
        return cls(
            listing.max_score_per_session,
            listing.max_sessions_per_day,
            listing.max_cumulative_points_per_day,
        )


@dataclass(frozen=True, slots=True)
class Tally:
    """A player's points in one game: all time, and on ``day`` (their last day of play)."""

    player_id: str
    points: int = 0
    sessions: int = 0
    day: date | None = None
    day_points: int = 0
    day_sessions: int = 0

    def on(self, today: date) -> Tally:
        """The tally as of ``today``: a new day starts with nothing played."""
        if self.day == today:
            return self
        return replace(self, day=today, day_points=0, day_sessions=0)


@dataclass(frozen=True, slots=True)
class Award:
    """What became of one entry of a batch."""

    player_id: str
    requested: int
    awarded: int
    reason: Cap | None = None
    recorded: bool = True  # False when the session was refused (maxSessionsPerDay)

    @property
    def clipped(self) -> bool:
        return self.awarded < self.requested


@dataclass(frozen=True, slots=True)
class PointSession:
    game_id: str
    player_id: str
    points_requested: int
    points_awarded: int
    day: date
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Ranked:
    rank: int
    player_id: str
    points: int
