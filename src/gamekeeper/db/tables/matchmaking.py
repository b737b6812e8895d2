"""Matchmaking tables (BattlePlace): requests, sessions, members, servers, reports, ratings."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
)

from gamekeeper.db.tables.base import ID, metadata
from gamekeeper.db.types import Json, UTCDateTime

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
