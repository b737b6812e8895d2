"""Identity tables: developers, games, operators and platforms, credentials, players, sessions."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    ForeignKey,
    Index,
    String,
    Table,
    Text,
    false,
)

from gamekeeper.db.tables.base import ID, metadata, owner_columns
from gamekeeper.db.types import Json, UTCDateTime

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

operator = Table(
    "operator",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("name", String(120), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

platform = Table(
    "platform",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("name", String(120), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

platform_game = Table(
    "platform_game",
    metadata,
    Column(
        "platform_id",
        String(ID),
        ForeignKey("platform.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column(
        "game_id",
        String(ID),
        ForeignKey("game.id", ondelete="CASCADE"),
        primary_key=True,
        index=True,
    ),
)

credential = Table(
    "credential",
    metadata,
    Column("id", String(ID), primary_key=True),
    *owner_columns(),
    Column("kind", String(16), nullable=False),
    Column("scopes", Json, nullable=False),
    Column("name", String(120)),
    Column("prefix", String(32), nullable=False),
    Column("key_hash", String(64), nullable=False, unique=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("last_used_at", UTCDateTime),
    Column("revoked_at", UTCDateTime),
    Column("test_mode", Boolean, nullable=False, server_default=false()),
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
