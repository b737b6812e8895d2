"""Player account tables (OGS): mailed codes, web codes, link tokens, account links."""

from __future__ import annotations

from sqlalchemy import (
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
)

from gamekeeper.db.tables.base import ID, metadata
from gamekeeper.db.types import UTCDateTime

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
