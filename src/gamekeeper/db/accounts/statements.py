"""The account store's hot-path statements, built once: device sign-in and sign-up, web codes.

PostgreSQL runs each in one statement (data-modifying CTEs, ``UPDATE … FROM … RETURNING``
the joined rows); SQLite, which allows neither and has no round trips to save, runs the plain
statements in turn.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import String, bindparam, delete, false, insert, null, select, update
from sqlalchemy.dialects import postgresql, sqlite

from gamekeeper.db.tables.accounts import web_code
from gamekeeper.db.tables.identity import player, player_identity, player_session, refresh_token
from gamekeeper.db.types import UTCDateTime

PLAYER_COLUMNS = (
    player.c.id,
    player.c.email,
    player.c.display_name,
    player.c.verified,
    player.c.created_at,
    player.c.password_hash.is_not(None).label("has_password"),
)
BY_DEVICE = (
    select(*PLAYER_COLUMNS)
    .select_from(player_identity.join(player, player.c.id == player_identity.c.player_id))
    .where(
        player_identity.c.provider == "device",
        player_identity.c.subject == bindparam("subject"),
        player_identity.c.game_id.is_(None),
    )
)
# PostgreSQL: the device's player, and its new session and refresh token stored in the same
# statement (the session's foreign keys are checked at its end). Nothing is stored without
# a player.
_found = BY_DEVICE.cte("found")
SIGN_IN_DEVICE_PG = (
    select(_found)
    .add_cte(
        insert(player_session)
        .from_select(
            ["id", "player_id", "created_at", "expires_at"],
            select(
                bindparam("sid", type_=String),
                _found.c.id,
                bindparam("at", type_=UTCDateTime),
                bindparam("expires_at", type_=UTCDateTime),
            ),
        )
        .cte("new_session")
    )
    .add_cte(
        insert(refresh_token)
        .from_select(
            ["token_hash", "session_id", "created_at", "expires_at"],
            select(
                bindparam("refresh_hash", type_=String),
                bindparam("sid", type_=String),
                bindparam("at", type_=UTCDateTime),
                bindparam("expires_at", type_=UTCDateTime),
            ).select_from(_found),
        )
        .cte("new_refresh_token")
    )
)
NEW_PLAYER = insert(player).values(
    id=bindparam("pid"),
    email=None,
    password_hash=None,
    display_name=bindparam("name"),
    verified=False,
    created_at=bindparam("at"),
)
DROP_PLAYER = delete(player).where(player.c.id == bindparam("pid"))


def _new_identity(dialect: Any) -> Any:
    """Insert the device identity unless the device has one (the global unique index)."""
    statement = dialect.insert(player_identity).values(
        id=bindparam("iid"),
        player_id=bindparam("pid"),
        provider=bindparam("provider"),
        subject=bindparam("subject"),
        game_id=None,
        created_at=bindparam("at"),
    )
    return statement.on_conflict_do_nothing(
        index_elements=[player_identity.c.provider, player_identity.c.subject],
        index_where=player_identity.c.game_id.is_(None),
    ).returning(player_identity.c.player_id)


# PostgreSQL: one statement. The player row is inserted only if the identity was, and the
# identity's foreign key is checked at the end of the statement, when both rows exist. A
# conflict with a first sign-in still in progress waits for it to commit, then inserts nothing.
_identity_cte = _new_identity(postgresql).cte("new_identity")
NEW_DEVICE_PLAYER_PG = (
    insert(player)
    .from_select(
        ["id", "email", "password_hash", "display_name", "verified", "created_at"],
        select(
            _identity_cte.c.player_id,
            null(),
            null(),
            bindparam("name", type_=String),
            false(),
            bindparam("at", type_=UTCDateTime),
        ),
    )
    .add_cte(_identity_cte)
    .returning(player.c.id)
)
NEW_IDENTITY_SQLITE = _new_identity(sqlite)
# A spent web code names its player: PostgreSQL returns the player with the update.
_SPEND_WEB_CODE = (
    update(web_code)
    .where(
        web_code.c.code_hash == bindparam("hash"),
        web_code.c.used_at.is_(None),
        web_code.c.expires_at > bindparam("at"),
    )
    .values(used_at=bindparam("at"), used_by_game_id=bindparam("by_game"))
)
SPEND_WEB_CODE_PG = _SPEND_WEB_CODE.where(player.c.id == web_code.c.player_id).returning(
    *PLAYER_COLUMNS
)
SPEND_WEB_CODE_SQLITE = _SPEND_WEB_CODE.returning(web_code.c.player_id)
PLAYER_BY_ID = select(*PLAYER_COLUMNS).where(player.c.id == bindparam("pid"))
