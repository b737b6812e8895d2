"""Wire shapes of the OGP dialect (camelCase JSON, ``{"data": …, "error": null}``)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Generic, Literal, TypeVar
from urllib.parse import urlsplit

import msgspec

from gamekeeper.core import validate
from gamekeeper.core.catalog.rules import MAX_DESCRIPTION
from gamekeeper.core.catalog.types import CatalogGame, GameToken, IdentityKind, Profile

T = TypeVar("T")
UNSET = msgspec.UNSET
Unset = msgspec.UnsetType
Text = Annotated[str, msgspec.Meta(max_length=255)]
Url = Annotated[str, msgspec.Meta(max_length=2048)]
DataUri = Annotated[str, msgspec.Meta(max_length=8 * 1024 * 1024)]
Count = Annotated[int, msgspec.Meta(ge=0)]
Ids = Annotated[list[Annotated[str, msgspec.Meta(max_length=128)]], msgspec.Meta(min_length=0)]


class Wire(msgspec.Struct, rename="camel", kw_only=True):
    pass


class Envelope(Wire, Generic[T]):
    data: T
    error: None = None


# --- Users ----------------------------------------------------------------------------------


class SignatureIn(Wire):
    method: Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z]{3,7}$")]
    path: Annotated[str, msgspec.Meta(min_length=1, max_length=2048)]
    api_key: Annotated[str, msgspec.Meta(max_length=64)]
    secret_key: Annotated[str, msgspec.Meta(max_length=256)] | Unset = UNSET
    api_secret: Annotated[str, msgspec.Meta(max_length=256)] | Unset = UNSET


class SignatureOut(Wire):
    signature: str


class SecretOut(Wire):
    api_key: str
    secret_key: str


class UserOut(Wire):
    id: str
    name: str
    email: str | None
    privy_id: str | None
    twitter_handle: str | None
    embedded_solana_wallet: str | None
    linked_solana_wallets: list[str]
    linked_ethereum_wallets: list[str]
    created_at: datetime
    updated_at: datetime
    is_admin: bool = False
    is_publisher: bool = False
    publisher_take_rate_bps: int = 0

    @classmethod
    def of(cls, profile: Profile) -> UserOut:
        developer = profile.developer
        solana = profile.all(IdentityKind.SOLANA)
        return cls(
            id=developer.id,
            name=developer.name,
            email=developer.email or profile.first(IdentityKind.EMAIL),
            privy_id=profile.first(IdentityKind.PRIVY),
            twitter_handle=profile.first(IdentityKind.TWITTER),
            embedded_solana_wallet=solana[0] if solana else None,
            linked_solana_wallets=solana,
            linked_ethereum_wallets=profile.all(IdentityKind.ETHEREUM),
            created_at=developer.created_at,
            updated_at=developer.created_at,
        )


# --- Games ----------------------------------------------------------------------------------


class GameIn(Wire):
    """Registration and update fields. Unknown fields (the SDK sends some) are ignored."""

    # The core's limits, so that the OpenAPI document says what is enforced.
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=validate.MAX_NAME)] | Unset = UNSET
    description: Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_DESCRIPTION)] | Unset = (
        UNSET
    )
    game_url: Url | Unset = UNSET
    platform: Annotated[str, msgspec.Meta(max_length=32)] | Unset = UNSET
    is_html_game: bool | Unset = msgspec.field(default=UNSET, name="isHTMLGame")
    is_html_game_alias: bool | Unset = msgspec.field(default=UNSET, name="isHtmlGame")
    iframable: bool | Unset = UNSET
    hidden: bool | Unset = UNSET
    twitter: Text | Unset | None = UNSET
    discord: Text | Unset | None = UNSET
    telegram: Text | Unset | None = UNSET
    jwks_url: Url | Unset | None = UNSET
    max_score_per_session: int | Unset | None = UNSET
    max_sessions_per_day: int | Unset | None = UNSET
    max_cumulative_points_per_day: int | Unset | None = UNSET
    # Any values: the core answers a non-integer share with its own message.
    org_rewards_split: dict[str, Any] | Unset | None = UNSET
    game_coin_symbol: Annotated[str, msgspec.Meta(max_length=32)] | Unset | None = UNSET
    remove_cover_image: bool | Unset = UNSET
    base64_image: DataUri | Unset | None = UNSET
    base64_cover_image: DataUri | Unset | None = UNSET

    def fields(self) -> dict[str, Any]:
        """The listing fields given, under their core names."""
        given = {
            name: value
            for name, value in msgspec.structs.asdict(self).items()
            if value is not UNSET and not name.startswith("base64")
        }
        alias = given.pop("is_html_game_alias", UNSET)
        if alias is not UNSET:
            given.setdefault("is_html_game", alias)
        return given


class TokenOut(Wire):
    token_address: str
    symbol: str | None
    chain: str | None
    created_at: datetime

    @classmethod
    def of(cls, value: GameToken) -> TokenOut:
        return cls(
            token_address=value.token_address,
            symbol=value.symbol,
            chain=value.chain,
            created_at=value.created_at,
        )


class GameOut(Wire):
    id: str
    name: str
    description: str
    game_url: str | None
    image_url: str | None
    cover_image: str | None
    platform: str
    is_html_game: bool
    iframable: bool
    hidden: bool
    twitter: str | None
    discord: str | None
    telegram: str | None
    domain: str | None
    jwks_url: str | None
    max_score_per_session: int | None
    max_sessions_per_day: int | None
    max_cumulative_points_per_day: int | None
    org_rewards_split: dict[str, int]
    creator_id: str
    owner_id: str | None
    ownership_validated: bool
    approval_status: str
    # The Node client types amounts as numbers; they are exact decimals everywhere else.
    total_rewards_allocated_usd: float
    total_rewards_pool_value_usd: float
    estimated_daily_rewards_usd: float
    market_cap: float
    player_count: int
    game_coin_symbol: str | None
    created_at: datetime
    updated_at: datetime
    tokens: list[TokenOut] | Unset = UNSET  # with include_extra / include_tokens

    @classmethod
    def of(cls, value: CatalogGame) -> GameOut:
        game, listing = value.game, value.listing
        return cls(
            id=game.id,
            name=game.name,
            description=listing.description,
            game_url=game.game_url,
            image_url=listing.image_url,
            cover_image=listing.cover_image_url,
            platform=listing.platform.value,
            is_html_game=listing.is_html_game,
            iframable=listing.iframable,
            hidden=listing.hidden,
            twitter=listing.twitter,
            discord=listing.discord,
            telegram=listing.telegram,
            domain=urlsplit(game.game_url).hostname if game.game_url else None,
            jwks_url=listing.jwks_url,
            max_score_per_session=listing.max_score_per_session,
            max_sessions_per_day=listing.max_sessions_per_day,
            max_cumulative_points_per_day=listing.max_cumulative_points_per_day,
            org_rewards_split=listing.org_rewards_split,
            creator_id=listing.creator_id,
            owner_id=listing.owner_id,
            ownership_validated=listing.ownership_validated,
            approval_status=listing.approval_status.value,
            total_rewards_allocated_usd=_number(listing.total_rewards_allocated_usd),
            total_rewards_pool_value_usd=_number(listing.total_rewards_pool_value_usd),
            estimated_daily_rewards_usd=_number(listing.estimated_daily_rewards_usd),
            market_cap=_number(listing.market_cap),
            player_count=listing.player_count,
            game_coin_symbol=listing.game_coin_symbol,
            created_at=listing.created_at,
            updated_at=max(listing.updated_at, game.updated_at),
            tokens=UNSET if value.tokens is None else [TokenOut.of(t) for t in value.tokens],
        )


class GamePage(Wire):
    items: list[GameOut]
    next_cursor: str | None
    has_more: bool
    total: int


class BatchIdsIn(Wire):
    game_ids: Ids


class BatchTokensIn(Wire):
    token_ids: Ids


SortBy = Literal[
    "totalRewardsPoolValueUsd",
    "totalRewardsAllocatedUsd",
    "estimatedDailyRewardsUsd",
    "marketCap",
    "playerCount",
    "name",
    "createdAt",
]
Direction = Literal["asc", "desc"]


def _number(amount: Decimal) -> float:
    return float(amount)
