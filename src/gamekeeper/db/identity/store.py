"""The identity store in SQL."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from gamekeeper.core.identity.errors import EmailTaken, IdentityTaken, PlayerNotFound, SlugTaken
from gamekeeper.core.identity.store import RefreshRecord, SessionRecord
from gamekeeper.core.identity.types import (
    Credential,
    Developer,
    Game,
    KeyKind,
    Player,
    PlayerIdentity,
)
from gamekeeper.core.owners.types import Owner
from gamekeeper.db.owners import owned_by, owner_of, owner_values, without_owner_columns
from gamekeeper.db.paging import oldest_first
from gamekeeper.db.tables.identity import (
    credential,
    developer,
    game,
    player,
    player_identity,
    player_session,
    refresh_token,
)

_CREDENTIAL_COLUMNS = [c for c in credential.c if c.name != "key_hash"]
_DEVELOPER_COLUMNS = [c for c in developer.c if c.name != "secret_sealed"]
_PLAYER_COLUMNS = [
    *(c for c in player.c if c.name != "password_hash"),
    player.c.password_hash.is_not(None).label("has_password"),
]


def _game(row: RowMapping) -> Game:
    return Game(**{**row, "allowed_origins": tuple(row["allowed_origins"])})


def _game_values(value: Game) -> dict[str, Any]:
    return {
        "id": value.id,
        "slug": value.slug,
        "name": value.name,
        "developer_id": value.developer_id,
        "game_url": value.game_url,
        "callback_url": value.callback_url,
        "allowed_origins": list(value.allowed_origins),
        "settings": value.settings,
        "created_at": value.created_at,
        "updated_at": value.updated_at,
    }


def _credential(row: RowMapping) -> Credential:
    owner = owner_of(row)
    assert owner is not None  # the table's check constraint: exactly one owner
    fields = without_owner_columns(row)
    fields |= {"owner": owner, "kind": KeyKind(row["kind"]), "scopes": tuple(row["scopes"])}
    return Credential(**fields)


# Session statements, built once: every sign-in and refresh runs them. On PostgreSQL the
# session row (or its new expiry) and the refresh token go in one statement, a data-modifying
# CTE (SQLite has none: two statements there, which cost no round trip).
_ADD_SESSION = insert(player_session).values(
    id=bindparam("sid"),
    player_id=bindparam("pid"),
    created_at=bindparam("at"),
    expires_at=bindparam("session_expires_at"),
)
_EXTEND_SESSION = (
    update(player_session)
    .where(player_session.c.id == bindparam("sid"))
    .values(expires_at=bindparam("session_expires_at"))
)
_ADD_REFRESH = insert(refresh_token).values(
    token_hash=bindparam("refresh_hash"),
    session_id=bindparam("sid"),
    created_at=bindparam("at"),
    expires_at=bindparam("refresh_expires_at"),
)
_OPEN_SESSION = _ADD_REFRESH.add_cte(_ADD_SESSION.cte("new_session"))
_ROTATE_REFRESH = _ADD_REFRESH.add_cte(_EXTEND_SESSION.cte("extended_session"))
_SPEND_REFRESH = (
    update(refresh_token)
    .where(
        refresh_token.c.token_hash == bindparam("hash"),
        refresh_token.c.spent_at.is_(None),
        refresh_token.c.expires_at > bindparam("at"),
        select(player_session.c.id)
        .where(
            player_session.c.id == refresh_token.c.session_id,
            player_session.c.revoked_at.is_(None),
        )
        .exists(),
    )
    .values(spent_at=bindparam("at"))
    .returning(
        refresh_token.c.session_id,
        select(player_session.c.player_id)
        .where(player_session.c.id == refresh_token.c.session_id)
        .scalar_subquery(),
    )
)


class SqlIdentityStore:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def _one(self, statement: Any) -> RowMapping | None:
        return (await self._conn.execute(statement)).mappings().first()

    # Developers
    async def add_developer(self, value: Developer, *, sealed_secret: str) -> None:
        await self._conn.execute(
            insert(developer).values(
                id=value.id,
                name=value.name,
                email=value.email,
                secret_sealed=sealed_secret,
                created_at=value.created_at,
            )
        )

    async def get_developer(self, developer_id: str) -> Developer | None:
        row = await self._one(select(*_DEVELOPER_COLUMNS).where(developer.c.id == developer_id))
        return None if row is None else Developer(**row)

    async def list_developers(self, *, limit: int, after: str | None) -> list[Developer]:
        statement = oldest_first(select(*_DEVELOPER_COLUMNS), developer, limit=limit, after=after)
        return [Developer(**row) for row in (await self._conn.execute(statement)).mappings()]

    async def get_sealed_secret(self, developer_id: str) -> str | None:
        statement = select(developer.c.secret_sealed).where(developer.c.id == developer_id)
        return (await self._conn.execute(statement)).scalar()

    async def set_sealed_secret(self, developer_id: str, sealed_secret: str) -> None:
        await self._conn.execute(
            update(developer)
            .where(developer.c.id == developer_id)
            .values(secret_sealed=sealed_secret)
        )

    # Games
    async def add_game(self, value: Game) -> None:
        try:
            await self._conn.execute(insert(game).values(**_game_values(value)))
        except IntegrityError as exc:
            raise SlugTaken() from exc

    async def get_game(self, game_id: str) -> Game | None:
        row = await self._one(select(game).where(game.c.id == game_id))
        return None if row is None else _game(row)

    async def get_game_by_slug(self, slug: str) -> Game | None:
        row = await self._one(select(game).where(game.c.slug == slug))
        return None if row is None else _game(row)

    async def slug_exists(self, slug: str) -> bool:
        statement = select(func.count()).select_from(game).where(game.c.slug == slug)
        return bool((await self._conn.execute(statement)).scalar())

    async def list_games(self, *, limit: int, after: str | None) -> list[Game]:
        statement = oldest_first(select(game), game, limit=limit, after=after)
        return [_game(row) for row in (await self._conn.execute(statement)).mappings()]

    async def update_game(self, value: Game) -> None:
        values = _game_values(value)
        del values["id"], values["created_at"]
        try:
            await self._conn.execute(update(game).where(game.c.id == value.id).values(**values))
        except IntegrityError as exc:
            raise SlugTaken() from exc

    # Credentials
    async def add_credential(self, value: Credential, *, key_hash: str) -> None:
        await self._conn.execute(
            insert(credential).values(
                id=value.id,
                **owner_values(value.owner),
                kind=value.kind.value,
                scopes=list(value.scopes),
                name=value.name,
                prefix=value.prefix,
                key_hash=key_hash,
                created_at=value.created_at,
                test_mode=value.test_mode,
            )
        )

    async def get_credential(self, credential_id: str) -> Credential | None:
        row = await self._one(select(*_CREDENTIAL_COLUMNS).where(credential.c.id == credential_id))
        return None if row is None else _credential(row)

    async def count_active_credentials(self, owner: Owner) -> int:
        statement = (
            select(func.count())
            .select_from(credential)
            .where(owned_by(credential, owner), credential.c.revoked_at.is_(None))
        )
        return int((await self._conn.execute(statement)).scalar_one())

    async def list_credentials(self, owner: Owner) -> list[Credential]:
        statement = (
            select(*_CREDENTIAL_COLUMNS)
            .where(owned_by(credential, owner))
            .order_by(credential.c.created_at, credential.c.id)
        )
        return [_credential(row) for row in (await self._conn.execute(statement)).mappings()]

    async def find_credential(self, key_hash: str) -> Credential | None:
        row = await self._one(select(*_CREDENTIAL_COLUMNS).where(credential.c.key_hash == key_hash))
        return None if row is None else _credential(row)

    async def revoke_credential(self, credential_id: str, at: datetime) -> bool:
        result = await self._conn.execute(
            update(credential)
            .where(credential.c.id == credential_id, credential.c.revoked_at.is_(None))
            .values(revoked_at=at)
        )
        return result.rowcount == 1

    async def touch_credentials(self, used: dict[str, datetime]) -> None:
        if not used:
            return
        statement = (
            update(credential)
            .where(credential.c.id == bindparam("cid"))
            .where(
                (credential.c.last_used_at.is_(None))
                | (credential.c.last_used_at < bindparam("used_at"))
            )
            .values(last_used_at=bindparam("used_at"))
        )
        rows = [{"cid": cid, "used_at": at} for cid, at in used.items()]
        await self._conn.execute(statement, rows)

    # Players and identities
    async def add_player(self, value: Player, *, password_hash: str | None) -> None:
        try:
            await self._conn.execute(
                insert(player).values(
                    id=value.id,
                    email=value.email,
                    password_hash=password_hash,
                    display_name=value.display_name,
                    verified=value.verified,
                    created_at=value.created_at,
                )
            )
        except IntegrityError as exc:
            raise EmailTaken() from exc

    async def get_player(self, player_id: str) -> Player | None:
        row = await self._one(select(*_PLAYER_COLUMNS).where(player.c.id == player_id))
        return None if row is None else Player(**row)

    async def list_players(self, *, limit: int, after: str | None) -> list[Player]:
        statement = oldest_first(select(*_PLAYER_COLUMNS), player, limit=limit, after=after)
        return [Player(**row) for row in (await self._conn.execute(statement)).mappings()]

    async def add_identity(self, value: PlayerIdentity) -> None:
        try:
            await self._conn.execute(
                insert(player_identity).values(
                    id=value.id,
                    player_id=value.player_id,
                    provider=value.provider,
                    subject=value.subject,
                    game_id=value.game_id,
                    created_at=value.created_at,
                )
            )
        except IntegrityError as exc:
            raise IdentityTaken() from exc

    async def find_identity(
        self, provider: str, subject: str, game_id: str | None
    ) -> PlayerIdentity | None:
        scope = (
            player_identity.c.game_id.is_(None)
            if game_id is None
            else player_identity.c.game_id == game_id
        )
        row = await self._one(
            select(player_identity).where(
                player_identity.c.provider == provider,
                player_identity.c.subject == subject,
                scope,
            )
        )
        return None if row is None else PlayerIdentity(**row)

    async def list_identities(self, player_id: str) -> list[PlayerIdentity]:
        statement = (
            select(player_identity)
            .where(player_identity.c.player_id == player_id)
            .order_by(player_identity.c.created_at)
        )
        return [PlayerIdentity(**row) for row in (await self._conn.execute(statement)).mappings()]

    # Sessions
    async def open_session(
        self, value: SessionRecord, *, refresh_hash: str, refresh_expires_at: datetime
    ) -> None:
        session_row = {
            "sid": value.id,
            "pid": value.player_id,
            "at": value.created_at,
            "session_expires_at": value.expires_at,
            "refresh_hash": refresh_hash,
            "refresh_expires_at": refresh_expires_at,
        }
        try:
            if self._conn.dialect.name == "postgresql":
                await self._conn.execute(_OPEN_SESSION, session_row)
            else:
                await self._conn.execute(_ADD_SESSION, session_row)
                await self._conn.execute(_ADD_REFRESH, session_row)
        except IntegrityError as exc:
            raise PlayerNotFound() from exc

    async def get_session(self, session_id: str) -> SessionRecord | None:
        row = await self._one(select(player_session).where(player_session.c.id == session_id))
        return None if row is None else SessionRecord(**row)

    async def revoke_session(self, session_id: str, at: datetime) -> bool:
        result = await self._conn.execute(
            update(player_session)
            .where(player_session.c.id == session_id, player_session.c.revoked_at.is_(None))
            .values(revoked_at=at)
        )
        return result.rowcount == 1

    async def get_refresh_token(self, token_hash: str) -> RefreshRecord | None:
        row = await self._one(
            select(
                refresh_token.c.session_id, refresh_token.c.expires_at, refresh_token.c.spent_at
            ).where(refresh_token.c.token_hash == token_hash)
        )
        return None if row is None else RefreshRecord(**row)

    async def spend_refresh_token(self, token_hash: str, at: datetime) -> tuple[str, str] | None:
        # Conditional update: of two concurrent refreshes with one token, exactly one wins.
        row = (await self._conn.execute(_SPEND_REFRESH, {"hash": token_hash, "at": at})).first()
        return None if row is None else (row[0], row[1])

    async def rotate_refresh_token(
        self,
        session_id: str,
        *,
        refresh_hash: str,
        at: datetime,
        refresh_expires_at: datetime,
    ) -> None:
        row = {
            "sid": session_id,
            "at": at,
            "session_expires_at": refresh_expires_at,
            "refresh_hash": refresh_hash,
            "refresh_expires_at": refresh_expires_at,
        }
        if self._conn.dialect.name == "postgresql":
            await self._conn.execute(_ROTATE_REFRESH, row)
        else:
            await self._conn.execute(_EXTEND_SESSION, row)
            await self._conn.execute(_ADD_REFRESH, row)
