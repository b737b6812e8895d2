"""The account store in SQL: credentials, mailed codes, web codes, link tokens and links."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from gamekeeper.core.accounts.errors import GameUserLinkedElsewhere, PlayerLinkedElsewhere
from gamekeeper.core.accounts.types import (
    AccountLink,
    CodeRecord,
    LinkStatus,
    LinkTokenRecord,
)
from gamekeeper.core.identity.store import SessionRecord
from gamekeeper.core.identity.types import NewSession, Player, PlayerIdentity
from gamekeeper.db.accounts import statements as sql
from gamekeeper.db.identity.store import SqlIdentityStore
from gamekeeper.db.tables.accounts import account_code, account_link, link_token, web_code
from gamekeeper.db.tables.identity import game, player, player_session

_CODE_COLUMNS = (
    account_code.c.id,
    account_code.c.player_id,
    account_code.c.purpose,
    account_code.c.code_hash,
    account_code.c.attempts,
    account_code.c.expires_at,
    account_code.c.used_at,
)
_LINK_COLUMNS = (*account_link.c, game.c.name.label("game_name"))
_TOKEN_COLUMNS = (
    *(c for c in link_token.c if c.name != "token_hash"),
    game.c.name.label("game_name"),
)


def _player(row: RowMapping) -> Player:
    return Player(
        id=row["id"],
        email=row["email"],
        display_name=row["display_name"],
        verified=row["verified"],
        created_at=row["created_at"],
        has_password=row["has_password"],
    )


class SqlAccountStore:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def _one(self, statement: Any, params: dict[str, Any] | None = None) -> RowMapping | None:
        return (await self._conn.execute(statement, params)).mappings().first()

    # Players by their credentials
    async def find_by_email(self, email: str) -> tuple[Player, str | None] | None:
        row = await self._one(
            select(*sql.PLAYER_COLUMNS, player.c.password_hash).where(player.c.email == email)
        )
        return None if row is None else (_player(row), row["password_hash"])

    async def find_by_device(self, device_hash: str) -> Player | None:
        row = await self._one(sql.BY_DEVICE, {"subject": device_hash})
        return None if row is None else _player(row)

    async def sign_in_device(self, device_hash: str, session: NewSession) -> Player | None:
        values = {
            "subject": device_hash,
            "sid": session.id,
            "at": session.created_at,
            "expires_at": session.expires_at,
            "refresh_hash": session.refresh_hash,
        }
        if self._conn.dialect.name == "postgresql":
            row = await self._one(sql.SIGN_IN_DEVICE_PG, values)
            return None if row is None else _player(row)
        found = await self.find_by_device(device_hash)
        if found is not None:
            record = SessionRecord(
                id=session.id,
                player_id=found.id,
                created_at=session.created_at,
                expires_at=session.expires_at,
                revoked_at=None,
            )
            await SqlIdentityStore(self._conn).open_session(
                record, refresh_hash=session.refresh_hash, refresh_expires_at=session.expires_at
            )
        return found

    async def add_device_player(self, value: Player, identity: PlayerIdentity) -> bool:
        row = {
            "pid": value.id,
            "name": value.display_name,
            "at": value.created_at,
            "iid": identity.id,
            "provider": identity.provider,
            "subject": identity.subject,
        }
        if self._conn.dialect.name == "postgresql":
            return (await self._conn.execute(sql.NEW_DEVICE_PLAYER_PG, row)).first() is not None
        await self._conn.execute(sql.NEW_PLAYER, row)
        if (await self._conn.execute(sql.NEW_IDENTITY_SQLITE, row)).first() is not None:
            return True
        await self._conn.execute(sql.DROP_PLAYER, row)
        return False

    async def password_hash(self, player_id: str) -> str | None:
        statement = select(player.c.password_hash).where(player.c.id == player_id)
        return (await self._conn.execute(statement)).scalar()

    async def set_password(self, player_id: str, password_hash: str) -> None:
        await self._conn.execute(
            update(player).where(player.c.id == player_id).values(password_hash=password_hash)
        )

    async def set_email(self, player_id: str, email: str, password_hash: str) -> bool:
        result = await self._conn.execute(
            update(player)
            .where(player.c.id == player_id, player.c.email.is_(None))
            .values(email=email, password_hash=password_hash, verified=False)
        )
        return result.rowcount == 1

    async def mark_verified(self, player_id: str) -> None:
        await self._conn.execute(
            update(player).where(player.c.id == player_id).values(verified=True)
        )

    async def revoke_sessions(self, player_id: str, *, keep: str | None, at: datetime) -> list[str]:
        condition = [player_session.c.player_id == player_id, player_session.c.revoked_at.is_(None)]
        if keep is not None:
            condition.append(player_session.c.id != keep)
        ids = list(
            (await self._conn.execute(select(player_session.c.id).where(*condition))).scalars()
        )
        if ids:
            await self._conn.execute(
                update(player_session)
                .where(player_session.c.id.in_(ids), player_session.c.revoked_at.is_(None))
                .values(revoked_at=at)
            )
        return ids

    # Mailed codes
    async def add_code(self, code: CodeRecord, *, created_at: datetime) -> None:
        await self._conn.execute(
            insert(account_code).values(
                id=code.id,
                player_id=code.player_id,
                purpose=code.purpose,
                code_hash=code.code_hash,
                attempts=code.attempts,
                created_at=created_at,
                expires_at=code.expires_at,
                used_at=code.used_at,
            )
        )

    async def retire_codes(self, player_id: str, purpose: str, at: datetime) -> None:
        await self._conn.execute(
            update(account_code)
            .where(
                account_code.c.player_id == player_id,
                account_code.c.purpose == purpose,
                account_code.c.used_at.is_(None),
            )
            .values(used_at=at)
        )

    async def current_code(self, player_id: str, purpose: str) -> CodeRecord | None:
        row = await self._one(
            select(*_CODE_COLUMNS)
            .where(
                account_code.c.player_id == player_id,
                account_code.c.purpose == purpose,
                account_code.c.used_at.is_(None),
            )
            .order_by(account_code.c.created_at.desc())
            .limit(1)
        )
        return None if row is None else CodeRecord(**row)

    async def count_failure(self, code_id: str, *, burn_at: int, at: datetime) -> None:
        await self._conn.execute(
            update(account_code)
            .where(account_code.c.id == code_id)
            .values(attempts=account_code.c.attempts + 1)
        )
        # A code guessed at too often is spent, whoever guessed.
        await self._conn.execute(
            update(account_code)
            .where(
                account_code.c.id == code_id,
                account_code.c.attempts >= burn_at,
                account_code.c.used_at.is_(None),
            )
            .values(used_at=at)
        )

    async def spend_code(self, code_id: str, at: datetime) -> bool:
        result = await self._conn.execute(
            update(account_code)
            .where(account_code.c.id == code_id, account_code.c.used_at.is_(None))
            .values(used_at=at)
        )
        return result.rowcount == 1

    # Web codes
    async def add_web_code(
        self, code_hash: str, *, player_id: str, created_at: datetime, expires_at: datetime
    ) -> None:
        await self._conn.execute(
            insert(web_code).values(
                code_hash=code_hash,
                player_id=player_id,
                created_at=created_at,
                expires_at=expires_at,
            )
        )

    async def spend_web_code(self, code_hash: str, *, game_id: str, at: datetime) -> Player | None:
        # Conditional update: of two concurrent verifications of one code, exactly one wins.
        values = {"hash": code_hash, "by_game": game_id, "at": at}
        if self._conn.dialect.name == "postgresql":
            row = await self._one(sql.SPEND_WEB_CODE_PG, values)
            return None if row is None else _player(row)
        player_id = (await self._conn.execute(sql.SPEND_WEB_CODE_SQLITE, values)).scalar()
        if player_id is None:
            return None
        found = await self._one(sql.PLAYER_BY_ID, {"pid": player_id})
        return None if found is None else _player(found)

    # Link tokens
    async def add_link_token(self, record: LinkTokenRecord, *, token_hash: str) -> None:
        await self._conn.execute(
            insert(link_token).values(
                id=record.id,
                token_hash=token_hash,
                game_id=record.game_id,
                game_user_id=record.game_user_id,
                redirect_url=record.redirect_url,
                status=record.status,
                player_id=record.player_id,
                created_at=record.created_at,
                expires_at=record.expires_at,
                decided_at=record.decided_at,
            )
        )

    async def find_link_token(self, token_hash: str) -> LinkTokenRecord | None:
        row = await self._one(
            select(*_TOKEN_COLUMNS)
            .select_from(link_token.join(game, game.c.id == link_token.c.game_id))
            .where(link_token.c.token_hash == token_hash)
        )
        return None if row is None else LinkTokenRecord(**row)

    async def decide_link_token(
        self, token_id: str, *, status: LinkStatus, player_id: str, at: datetime
    ) -> bool:
        result = await self._conn.execute(
            update(link_token)
            .where(link_token.c.id == token_id, link_token.c.status == "pending")
            .values(status=status, player_id=player_id, decided_at=at)
        )
        return result.rowcount == 1

    # Links
    def _links(self) -> Any:
        return select(*_LINK_COLUMNS).select_from(
            account_link.join(game, game.c.id == account_link.c.game_id)
        )

    async def find_link(self, game_id: str, game_user_id: str) -> AccountLink | None:
        row = await self._one(
            self._links().where(
                account_link.c.game_id == game_id, account_link.c.game_user_id == game_user_id
            )
        )
        return None if row is None else AccountLink(**row)

    async def link_of_player(self, game_id: str, player_id: str) -> AccountLink | None:
        row = await self._one(
            self._links().where(
                account_link.c.game_id == game_id, account_link.c.player_id == player_id
            )
        )
        return None if row is None else AccountLink(**row)

    async def add_link(self, link: AccountLink) -> None:
        try:
            async with self._conn.begin_nested():
                await self._conn.execute(
                    insert(account_link).values(
                        id=link.id,
                        game_id=link.game_id,
                        game_user_id=link.game_user_id,
                        player_id=link.player_id,
                        linked_at=link.linked_at,
                    )
                )
        except IntegrityError as exc:
            # A concurrent confirmation got there first: say which rule it broke.
            if await self.find_link(link.game_id, link.game_user_id) is not None:
                raise GameUserLinkedElsewhere() from exc
            raise PlayerLinkedElsewhere() from exc

    async def list_links(self, player_id: str) -> list[AccountLink]:
        statement = (
            self._links()
            .where(account_link.c.player_id == player_id)
            .order_by(account_link.c.linked_at, account_link.c.id)
        )
        return [AccountLink(**row) for row in (await self._conn.execute(statement)).mappings()]

    async def remove_link(self, game_id: str, player_id: str) -> AccountLink | None:
        found = await self.link_of_player(game_id, player_id)
        if found is not None:
            await self._conn.execute(delete(account_link).where(account_link.c.id == found.id))
        return found
