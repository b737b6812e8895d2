"""OGS wire structs for TV casting: the spec's camelCase JSON, and the fields of ours."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import msgspec

from gamekeeper.api.dialects.ogs.schemas import In, Out
from gamekeeper.core.cast.types import CastSession

Id = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]


class CastSessionIn(In):
    game_id: Id
    game_url: Annotated[str, msgspec.Meta(min_length=1, max_length=2048)]
    session_data: dict[str, Any] = msgspec.field(default_factory=dict)


class CastCreatedOut(Out):
    session_id: str
    receiver_url: str
    status: str
    join_code: str  # ours: the code players join with, for the game's own UI too


class CastInputIn(In):
    session_id: Id
    input_type: Annotated[str, msgspec.Meta(min_length=1, max_length=32)]
    input_data: dict[str, Any] = msgspec.field(default_factory=dict)


class CastInputOut(Out):
    status: str  # delivered: a receiver is attached to take it; queued: kept until one is
    timestamp: datetime
    seq: int  # ours: the input's place in the session's order


class CastSessionOut(Out):
    session_id: str
    status: str
    created_at: datetime
    last_activity_at: datetime

    @classmethod
    def of(cls, value: CastSession) -> CastSessionOut:
        return cls(
            session_id=value.id,
            status=value.status.value,
            created_at=value.created_at,
            last_activity_at=value.last_activity_at,
        )


class CastEndedOut(Out):
    status: str
    session_id: str


class JoinIn(In):
    code: Annotated[str, msgspec.Meta(min_length=1, max_length=16)]


class JoinOut(Out):
    session_id: str
    seat: int
