"""All tables, SQLAlchemy Core. Singular snake_case names; timestamps end in ``_at``."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
)
from sqlalchemy.types import TypeDecorator, TypeEngine

from gamekeeper.db.types import BigId, Json, UTCDateTime

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

ID = 36  # a UUID in text form
MONEY_PLACES = 6
_MONEY_QUANTUM = Decimal(1).scaleb(-MONEY_PLACES)

developer = Table(
    "developer",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("name", String(120), nullable=False),
    Column("email", String(254)),
    Column("secret_sealed", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

game = Table(
    "game",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("slug", String(64), nullable=False, unique=True),
    Column("name", String(120), nullable=False),
    Column("developer_id", String(ID), ForeignKey("developer.id", ondelete="SET NULL")),
    Column("game_url", Text),
    Column("callback_url", Text),
    Column("allowed_origins", Json, nullable=False),
    Column("settings", Json, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

credential = Table(
    "credential",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column(
        "game_id", String(ID), ForeignKey("game.id", ondelete="CASCADE"), nullable=False, index=True
    ),
    Column("kind", String(16), nullable=False),
    Column("scopes", Json, nullable=False),
    Column("name", String(120)),
    Column("prefix", String(32), nullable=False),
    Column("key_hash", String(64), nullable=False, unique=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("last_used_at", UTCDateTime),
    Column("revoked_at", UTCDateTime),
)

player = Table(
    "player",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("email", String(254), unique=True),
    Column("password_hash", Text),
    Column("display_name", String(120)),
    Column("verified", Boolean, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

player_identity = Table(
    "player_identity",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column(
        "player_id",
        String(ID),
        ForeignKey("player.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("provider", String(32), nullable=False),
    Column("subject", String(255), nullable=False),
    Column("game_id", String(ID), ForeignKey("game.id", ondelete="CASCADE")),
    Column("created_at", UTCDateTime, nullable=False),
)
# One player per identity: globally for unscoped identities, per game for scoped ones.
Index(
    "uq_player_identity_global",
    player_identity.c.provider,
    player_identity.c.subject,
    unique=True,
    sqlite_where=player_identity.c.game_id.is_(None),
    postgresql_where=player_identity.c.game_id.is_(None),
)
Index(
    "uq_player_identity_game",
    player_identity.c.provider,
    player_identity.c.game_id,
    player_identity.c.subject,
    unique=True,
    sqlite_where=player_identity.c.game_id.is_not(None),
    postgresql_where=player_identity.c.game_id.is_not(None),
)

player_session = Table(
    "player_session",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column(
        "player_id",
        String(ID),
        ForeignKey("player.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("revoked_at", UTCDateTime),
)

refresh_token = Table(
    "refresh_token",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column(
        "session_id",
        String(ID),
        ForeignKey("player_session.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("spent_at", UTCDateTime),
)

audit_entry = Table(
    "audit_entry",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("at", UTCDateTime, nullable=False),
    Column("action", String(64), nullable=False),
    Column("actor", String(128), nullable=False),
    Column("ip", String(64)),
    Column("target_type", String(32)),
    Column("target_id", String(64)),
    # No foreign key: the log outlives what it speaks of.
    Column("game_id", String(ID), index=True),
    Column("details", Json, nullable=False),
)

event = Table(
    "event",
    metadata,
    Column("seq", BigId, primary_key=True, autoincrement=True),
    Column("id", String(ID), nullable=False, unique=True),
    Column("type", String(64), nullable=False),
    # No foreign key: an event says what happened, even to a game since deleted.
    Column("game_id", String(ID), index=True),
    Column("aggregate_id", String(64), nullable=False),
    Column("payload", Json, nullable=False),
    Column("occurred_at", UTCDateTime, nullable=False),
)

webhook = Table(
    "webhook",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column(
        "game_id", String(ID), ForeignKey("game.id", ondelete="CASCADE"), nullable=False, index=True
    ),
    Column("url", Text, nullable=False),
    Column("event_types", Json, nullable=False),
    Column("format", String(16), nullable=False),
    Column("secret_sealed", Text, nullable=False),
    Column("enabled", Boolean, nullable=False),
    Column("managed", Boolean, nullable=False),
    Column("failing_since", UTCDateTime),
    Column("disabled_reason", String(64)),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

delivery = Table(
    "delivery",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column(
        "event_seq",
        BigId,
        ForeignKey("event.seq", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("webhook_id", String(ID), ForeignKey("webhook.id", ondelete="CASCADE"), index=True),
    Column("sink", String(16), nullable=False),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", UTCDateTime, nullable=False),
    Column("last_attempt_at", UTCDateTime),
    Column("last_status", Integer),
    Column("last_error", Text),
    Column("delivered_at", UTCDateTime),
    Column("created_at", UTCDateTime, nullable=False),
)
# The relay's work queue: only pending rows, by due time.
Index(
    "ix_delivery_due",
    delivery.c.next_attempt_at,
    sqlite_where=delivery.c.status == "pending",
    postgresql_where=delivery.c.status == "pending",
)


# --- Catalog (the OGP game listing) ---------------------------------------------------------


class Money(TypeDecorator[Decimal]):
    """Exact decimal amounts (6 places): NUMERIC on PostgreSQL, micro-units in a SQLite INTEGER.

    SQLite has no exact decimal type; its NUMERIC keeps values as floats. Scaled integers keep
    amounts exact and still sort and compare as numbers.
    """

    impl = Numeric(24, MONEY_PLACES)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(BigInteger())
        return dialect.type_descriptor(Numeric(24, MONEY_PLACES))

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        exact = Decimal(value).quantize(_MONEY_QUANTUM)
        return int(exact.scaleb(MONEY_PLACES)) if dialect.name == "sqlite" else exact

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        if dialect.name == "sqlite":
            return Decimal(int(value)).scaleb(-MONEY_PLACES).quantize(_MONEY_QUANTUM)
        return Decimal(value).quantize(_MONEY_QUANTUM)


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

# Matchmaking (BattlePlace). A request's id is its match token; a session's id is its
# externalSessionId. Tokens and tickets derive from ids by HMAC, so none is stored.
match_request = Table(
    "match_request",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("game_id", String(ID), ForeignKey("game.id", ondelete="CASCADE"), nullable=False),
    Column("player_id", String(ID), ForeignKey("player.id", ondelete="CASCADE"), nullable=False),
    Column("team_sizes", Json, nullable=False),
    Column("match_tag", String(64)),
    Column("server_tag", String(64)),
    Column("info", Json),
    Column("rating", Float, nullable=False),
    Column("status", String(16), nullable=False),  # waiting | matched | failed | cancelled
    Column("reason", String(16)),
    Column("session_id", String(32)),
    Column("created_at", UTCDateTime, nullable=False),
    Column("deadline_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)
# What a starting engine loads, and what a leader scans for changes it missed.
Index(
    "ix_match_request_waiting",
    match_request.c.game_id,
    match_request.c.created_at,
    sqlite_where=match_request.c.status == "waiting",
    postgresql_where=match_request.c.status == "waiting",
)
Index("ix_match_request_updated_at", match_request.c.updated_at)

match_session = Table(
    "match_session",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("game_id", String(ID), ForeignKey("game.id", ondelete="CASCADE"), nullable=False),
    Column("team_sizes", Json, nullable=False),
    Column("match_tag", String(64)),
    Column("server_tag", String(64)),
    Column("server_name", String(64)),
    Column("server_info", Json),
    Column("created_at", UTCDateTime, nullable=False),
    Column("fetched_at", UTCDateTime),
    Column("status", String(16), nullable=False),  # open | finished | cancelled
    Column("ranks", Json),
    Column("rated", Boolean, nullable=False),
    Column("ended_at", UTCDateTime),
)
Index(
    "ix_match_session_unfetched",
    match_session.c.game_id,
    match_session.c.server_name,
    sqlite_where=match_session.c.fetched_at.is_(None),
    postgresql_where=match_session.c.fetched_at.is_(None),
)

# One row per request ever placed in a session: the primary key is what makes
# "a request is in at most one session, ever" a database rule.
match_member = Table(
    "match_member",
    metadata,
    Column(
        "request_id",
        String(32),
        ForeignKey("match_request.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column(
        "session_id",
        String(32),
        ForeignKey("match_session.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("player_id", String(ID), nullable=False),
    Column("team_index", Integer, nullable=False),
    Column("mate_index", Integer, nullable=False),
    Column("info", Json),
)

match_server = Table(
    "match_server",
    metadata,
    Column("game_id", String(ID), ForeignKey("game.id", ondelete="CASCADE"), primary_key=True),
    Column("name", String(64), primary_key=True),
    Column("server_tag", String(64)),
    Column("info", Json),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("session_id", String(32)),  # the session it hosts; free when NULL
    Column("registered_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False, index=True),
)

# A participant's (or the server's, reporter "server") account of how a session ended.
match_report = Table(
    "match_report",
    metadata,
    Column(
        "session_id",
        String(32),
        ForeignKey("match_session.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("reporter", String(ID), primary_key=True),
    Column("status", String(16), nullable=False),
    Column("ranks", Json),
    Column("reported_at", UTCDateTime, nullable=False),
)

skill_rating = Table(
    "skill_rating",
    metadata,
    Column("game_id", String(ID), ForeignKey("game.id", ondelete="CASCADE"), primary_key=True),
    Column("player_id", String(ID), ForeignKey("player.id", ondelete="CASCADE"), primary_key=True),
    Column("mu", Float, nullable=False),
    Column("sigma", Float, nullable=False),
    Column("conservative", Float, nullable=False),
    Column("matches", Integer, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)
# Rank: how many players of the game stand above a conservative rating.
Index("ix_skill_rating_rank", skill_rating.c.game_id, skill_rating.c.conservative)


# --- Player accounts (OGS) ------------------------------------------------------------------

# Short codes mailed to a player (sign-in, email verification). Codes are short, so they are
# stored as an HMAC under an installation key, and each allows a few wrong guesses only.
account_code = Table(
    "account_code",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("player_id", String(ID), ForeignKey("player.id", ondelete="CASCADE"), nullable=False),
    Column("purpose", String(16), nullable=False),
    Column("code_hash", String(64), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("used_at", UTCDateTime),
)
Index("ix_account_code_by_player", account_code.c.player_id, account_code.c.purpose)

# Web auth codes: a signed-in player hands one to a game, which spends it once.
web_code = Table(
    "web_code",
    metadata,
    Column("code_hash", String(64), primary_key=True),
    Column(
        "player_id",
        String(ID),
        ForeignKey("player.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("used_at", UTCDateTime),
    Column("used_by_game_id", String(ID)),
)

# A game's request to link one of its users to a player, decided on the link page.
link_token = Table(
    "link_token",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column(
        "game_id", String(ID), ForeignKey("game.id", ondelete="CASCADE"), nullable=False, index=True
    ),
    Column("game_user_id", String(255), nullable=False),
    Column("redirect_url", Text, nullable=False),
    Column("status", String(16), nullable=False),
    Column("player_id", String(ID), ForeignKey("player.id", ondelete="CASCADE")),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("decided_at", UTCDateTime),
)

# A game user linked to a player: one player per game user, one game user per player and game.
account_link = Table(
    "account_link",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("game_id", String(ID), ForeignKey("game.id", ondelete="CASCADE"), nullable=False),
    Column("game_user_id", String(255), nullable=False),
    Column(
        "player_id",
        String(ID),
        ForeignKey("player.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("linked_at", UTCDateTime, nullable=False),
)
Index("uq_account_link_game_user", account_link.c.game_id, account_link.c.game_user_id, unique=True)
Index("uq_account_link_game_player", account_link.c.game_id, account_link.c.player_id, unique=True)
