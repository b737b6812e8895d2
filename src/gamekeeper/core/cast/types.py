"""Cast values: sessions, controllers, inputs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any


class CastStatus(StrEnum):
    CREATED = "created"  # no receiver attached and no input yet
    ACTIVE = "active"  # a receiver attached or an input arrived
    IDLE = "idle"  # no activity for a while (cast_idle_after)
    TERMINATED = "terminated"  # ended by the game, or idle too long (cast_end_after)


@dataclass(frozen=True, slots=True)
class CastSession:
    id: str
    game_id: str
    game_url: str
    session_data: dict[str, Any]
    status: CastStatus
    created_at: datetime
    last_activity_at: datetime
    next_seq: int = 1  # the sequence number the next input gets
    acked_seq: int = 0  # the last input the receiver acknowledged
    receiver_attached: bool = False
    ended_at: datetime | None = None
    ended_reason: str | None = None  # ended | idle

    @property
    def ended(self) -> bool:
        return self.status is CastStatus.TERMINATED


@dataclass(frozen=True, slots=True)
class NewCastSession:
    session: CastSession
    join_code_sealed: str
    receiver_key_hash: str


@dataclass(frozen=True, slots=True)
class Created:
    """What the game gets when it creates a session: the receiver capability, shown once."""

    session: CastSession
    receiver_key: str
    join_code: str


@dataclass(frozen=True, slots=True)
class Controller:
    session_id: str
    player_id: str
    seat: int  # 1, 2, …: what the receiver knows the controller by
    joined_at: datetime


@dataclass(frozen=True, slots=True)
class CastInput:
    session_id: str
    seq: int
    seat: int
    input_type: str
    input_data: dict[str, Any]
    at: datetime


@dataclass(frozen=True, slots=True)
class Sent:
    """An input stored: ``delivered`` when a receiver is attached to take it."""

    input: CastInput
    delivered: bool
