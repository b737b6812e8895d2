"""The cast store in SQL: sessions, controllers, the input backlog, expiry."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Integer, bindparam, delete, func, insert, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection

from gamekeeper.core.cast.types import (
    CastInput,
    CastSession,
    CastStatus,
    Controller,
    NewCastSession,
)
from gamekeeper.db.tables.cast import cast_controller, cast_input, cast_session
from gamekeeper.db.types import Json, UTCDateTime

_SESSION = [c for c in cast_session.c if c.name not in {"join_code_sealed", "receiver_key_hash"}]
_TERMINATED = CastStatus.TERMINATED.value


# An input of a live session in one statement (PostgreSQL): the player's seat, the session's
# next number (which locks its row: inputs of one session are numbered in turn), its activity,
# the input, and the backlog trimmed. No row when the session is not active or idle, or the
# player not its controller: the caller then takes the path that says why.
_RECORD_INPUT = (
    text(
        """
WITH c AS (
    SELECT seat FROM cast_controller WHERE session_id = :sid AND player_id = :pid
), s AS (
    UPDATE cast_session
    SET next_seq = next_seq + 1, last_activity_at = :at, status = 'active'
    WHERE id = :sid AND status IN ('active', 'idle') AND EXISTS (SELECT 1 FROM c)
    RETURNING next_seq - 1 AS seq, receiver_attached
), i AS (
    INSERT INTO cast_input (session_id, seq, seat, input_type, input_data, at)
    SELECT :sid, s.seq, c.seat, :input_type, :data, :at FROM s, c
), d AS (
    DELETE FROM cast_input
    WHERE session_id = :sid AND seq <= (SELECT seq FROM s) - CAST(:keep AS integer)
)
SELECT s.seq, s.receiver_attached, c.seat FROM s, c
"""
    )
    .bindparams(bindparam("data", type_=Json), bindparam("at", type_=UTCDateTime))
    .columns(seq=Integer, receiver_attached=Boolean, seat=Integer)
)


def _session(row: RowMapping) -> CastSession:
    fields = {k: row[k] for k in CastSession.__dataclass_fields__}
    return CastSession(**{**fields, "status": CastStatus(row["status"])})


def _input(row: Any) -> CastInput:
    return CastInput(
        row.session_id, row.seq, row.seat, row.input_type, row.input_data, row.at
    )  # fmt: skip


class SqlCastStore:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def add_session(self, new: NewCastSession) -> None:
        s = new.session
        await self._conn.execute(
            insert(cast_session).values(
                id=s.id, game_id=s.game_id, game_url=s.game_url, session_data=s.session_data,
                status=s.status.value, join_code_sealed=new.join_code_sealed,
                receiver_key_hash=new.receiver_key_hash, next_seq=s.next_seq,
                acked_seq=s.acked_seq, receiver_attached=False, created_at=s.created_at,
                last_activity_at=s.last_activity_at,
            )
        )  # fmt: skip

    async def get_session(self, session_id: str) -> CastSession | None:
        row = (
            (await self._conn.execute(select(*_SESSION).where(cast_session.c.id == session_id)))
            .mappings()
            .first()
        )
        return None if row is None else _session(row)

    async def _column(self, session_id: str, column: Any) -> str | None:
        statement = select(column).where(cast_session.c.id == session_id)
        value: str | None = (await self._conn.execute(statement)).scalar()
        return value

    async def join_code_sealed(self, session_id: str) -> str | None:
        return await self._column(session_id, cast_session.c.join_code_sealed)

    async def receiver_key_hash(self, session_id: str) -> str | None:
        return await self._column(session_id, cast_session.c.receiver_key_hash)

    async def touch(self, session_id: str, at: datetime, *, activate: bool) -> None:
        values: dict[str, Any] = {"last_activity_at": at}
        if activate:
            values["status"] = CastStatus.ACTIVE.value
        await self._conn.execute(
            update(cast_session)
            .where(cast_session.c.id == session_id, cast_session.c.status != _TERMINATED)
            .values(**values)
        )

    async def end(self, session_id: str, at: datetime, reason: str) -> bool:
        result = await self._conn.execute(
            update(cast_session)
            .where(cast_session.c.id == session_id, cast_session.c.status != _TERMINATED)
            .values(status=_TERMINATED, ended_at=at, ended_reason=reason, receiver_attached=False)
        )
        return bool(result.rowcount)

    async def set_receiver(self, session_id: str, attached: bool) -> None:
        await self._conn.execute(
            update(cast_session)
            .where(cast_session.c.id == session_id)
            .values(receiver_attached=attached)
        )

    async def ack(self, session_id: str, seq: int) -> None:
        await self._conn.execute(
            update(cast_session)
            .where(
                cast_session.c.id == session_id,
                cast_session.c.acked_seq < seq,
                cast_session.c.next_seq > seq,
            )
            .values(acked_seq=seq)
        )

    async def controller(self, session_id: str, player_id: str) -> Controller | None:
        row = (
            await self._conn.execute(
                select(cast_controller).where(
                    cast_controller.c.session_id == session_id,
                    cast_controller.c.player_id == player_id,
                )
            )
        ).first()
        return None if row is None else Controller(*row)

    async def controllers(self, session_id: str) -> list[Controller]:
        rows = await self._conn.execute(
            select(cast_controller)
            .where(cast_controller.c.session_id == session_id)
            .order_by(cast_controller.c.seat)
        )
        return [Controller(*row) for row in rows]

    async def add_controller(self, controller: Controller) -> bool:
        dialect = postgresql if self._conn.dialect.name == "postgresql" else sqlite
        result = await self._conn.execute(
            dialect.insert(cast_controller)
            .values(
                session_id=controller.session_id, player_id=controller.player_id,
                seat=controller.seat, joined_at=controller.joined_at,
            )
            .on_conflict_do_nothing()
        )  # fmt: skip
        return bool(result.rowcount)

    async def add_input(self, value: CastInput, *, keep: int) -> CastInput:
        # Taking the number locks the session row: inputs of one session are numbered in turn.
        seq = (
            await self._conn.execute(
                update(cast_session)
                .where(cast_session.c.id == value.session_id)
                .values(next_seq=cast_session.c.next_seq + 1)
                .returning(cast_session.c.next_seq - 1)
            )
        ).scalar_one()
        await self._conn.execute(
            insert(cast_input).values(
                session_id=value.session_id, seq=seq, seat=value.seat,
                input_type=value.input_type, input_data=value.input_data, at=value.at,
            )
        )  # fmt: skip
        if seq > keep:
            await self._conn.execute(
                delete(cast_input).where(
                    cast_input.c.session_id == value.session_id, cast_input.c.seq <= seq - keep
                )
            )
        return replace(value, seq=seq)

    async def record_input(
        self, value: CastInput, *, player_id: str, keep: int
    ) -> tuple[CastInput, bool] | None:
        if self._conn.dialect.name != "postgresql":  # no data-modifying CTE in SQLite
            return None
        row = (
            await self._conn.execute(
                _RECORD_INPUT,
                {
                    "sid": value.session_id, "pid": player_id, "at": value.at,
                    "input_type": value.input_type, "data": value.input_data, "keep": keep,
                },
            )
        ).first()  # fmt: skip
        if row is None:
            return None
        return replace(value, seq=row.seq, seat=row.seat), bool(row.receiver_attached)

    async def inputs_after(self, session_id: str, seq: int, *, limit: int) -> list[CastInput]:
        rows = await self._conn.execute(
            select(cast_input)
            .where(cast_input.c.session_id == session_id, cast_input.c.seq > seq)
            .order_by(cast_input.c.seq)
            .limit(limit)
        )
        return [_input(row) for row in rows]

    async def expire(
        self, *, idle_before: datetime, end_before: datetime, at: datetime
    ) -> tuple[list[CastSession], list[CastSession]]:
        ended = (
            (
                await self._conn.execute(
                    update(cast_session)
                    .where(
                        cast_session.c.status != _TERMINATED,
                        cast_session.c.last_activity_at < end_before,
                    )
                    .values(
                        status=_TERMINATED,
                        ended_at=at,
                        ended_reason="idle",
                        receiver_attached=False,
                    )
                    .returning(*_SESSION)
                )
            )
            .mappings()
            .all()
        )
        idled = (
            (
                await self._conn.execute(
                    update(cast_session)
                    .where(
                        cast_session.c.status.in_(
                            [CastStatus.ACTIVE.value, CastStatus.CREATED.value]
                        ),
                        cast_session.c.last_activity_at < idle_before,
                    )
                    .values(status=CastStatus.IDLE.value)
                    .returning(*_SESSION)
                )
            )
            .mappings()
            .all()
        )
        return [_session(r) for r in idled], [_session(r) for r in ended]

    async def count_live(self) -> int:
        statement = select(func.count()).where(cast_session.c.status != _TERMINATED)
        return int((await self._conn.execute(statement)).scalar_one())
