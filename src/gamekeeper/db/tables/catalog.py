"""Catalog tables (the OGP game listing): listings, tokens, developer identities, points."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    ForeignKey,
    Index,
    String,
    Table,
    Text,
)

from gamekeeper.db.tables.base import ID, metadata
from gamekeeper.db.types import BigId, Json, Money, UTCDateTime

# One row per listed game: the OGP fields beside the identity ``game`` row of the same id.
listing = Table(
    "listing",
    metadata,
    Column("game_id", String(ID), ForeignKey("game.id", ondelete="CASCADE"), primary_key=True),
    Column("description", Text, nullable=False),
    Column("platform", String(16), nullable=False),
    Column("is_html_game", Boolean, nullable=False),
    Column("iframable", Boolean, nullable=False),
    Column("hidden", Boolean, nullable=False),
    Column("image_url", Text),
    Column("cover_image_url", Text),
    Column("twitter", String(255)),
    Column("discord", String(255)),
    Column("telegram", String(255)),
    Column("jwks_url", Text),
    Column("max_score_per_session", BigInteger),
    Column("max_sessions_per_day", BigInteger),
    Column("max_cumulative_points_per_day", BigInteger),
    Column("org_rewards_split", Json, nullable=False),
    Column("creator_id", String(ID), ForeignKey("developer.id"), nullable=False, index=True),
    Column("owner_id", String(ID), ForeignKey("developer.id"), index=True),
    Column("ownership_validated", Boolean, nullable=False),
    Column("approval_status", String(16), nullable=False),
    # No rewards economy yet: these stay 0 until one feeds them.
    Column("total_rewards_allocated_usd", Money, nullable=False),
    Column("total_rewards_pool_value_usd", Money, nullable=False),
    Column("estimated_daily_rewards_usd", Money, nullable=False),
    Column("market_cap", Money, nullable=False),
    Column("player_count", BigInteger, nullable=False),
    Column("game_coin_symbol", String(16)),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)
# The public listing pages by one sort key and the game id; hidden games are never listed.
for _column in (
    "total_rewards_pool_value_usd",
    "total_rewards_allocated_usd",
    "estimated_daily_rewards_usd",
    "market_cap",
    "player_count",
    "created_at",
):
    Index(
        f"ix_listing_by_{_column}",
        listing.c[_column],
        listing.c.game_id,
        sqlite_where=listing.c.hidden.is_(False),
        postgresql_where=listing.c.hidden.is_(False),
    )

# A token may be associated with several games, a game with several tokens.
game_token = Table(
    "game_token",
    metadata,
    Column("token_address", String(128), primary_key=True),
    Column(
        "game_id",
        String(ID),
        ForeignKey("game.id", ondelete="CASCADE"),
        primary_key=True,
        index=True,
    ),
    Column("symbol", String(32)),
    Column("chain", String(32)),
    Column("created_at", UTCDateTime, nullable=False),
)

# Outside identities (wallets, emails, Privy and Twitter ids) of developers, so that a rewards
# split can name people who have no account yet: they get a placeholder developer.
developer_identity = Table(
    "developer_identity",
    metadata,
    Column("kind", String(16), primary_key=True),
    Column("value", String(320), primary_key=True),
    Column(
        "developer_id",
        String(ID),
        ForeignKey("developer.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("created_at", UTCDateTime, nullable=False),
)

# Points a game's server awarded its players: one row per recorded session.
point_session = Table(
    "point_session",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("game_id", String(ID), ForeignKey("game.id", ondelete="CASCADE"), nullable=False),
    Column("player_id", String(255), nullable=False),
    Column("points_requested", BigInteger, nullable=False),
    Column("points_awarded", BigInteger, nullable=False),
    Column("day", Date, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)
Index(
    "ix_point_session_by_player_day",
    point_session.c.game_id,
    point_session.c.player_id,
    point_session.c.day,
)

# Each player's totals in a game, all time and on their last day of play. Batches lock this
# row while they check the daily caps, so concurrent batches cannot exceed them together.
point_total = Table(
    "point_total",
    metadata,
    Column("game_id", String(ID), ForeignKey("game.id", ondelete="CASCADE"), primary_key=True),
    Column("player_id", String(255), primary_key=True),
    Column("points", BigInteger, nullable=False),
    Column("sessions", BigInteger, nullable=False),
    Column("day", Date),
    Column("day_points", BigInteger, nullable=False),
    Column("day_sessions", BigInteger, nullable=False),
)
# The leaderboard: most points first, ties by player id.
Index(
    "ix_point_total_by_points",
    point_total.c.game_id,
    point_total.c.points.desc(),
    point_total.c.player_id,
)
