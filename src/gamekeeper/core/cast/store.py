"""What cast services need from storage; ``gamekeeper.db.cast`` implements it."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from gamekeeper.core.cast.types import CastInput, CastSession, Controller, NewCastSession
from gamekeeper.core.identity.store import IdentityUow


class CastStore(Protocol):
    async def add_session(self, new: NewCastSession) -> None: ...
    async def get_session(self, session_id: str) -> CastSession | None: ...
    async def join_code_sealed(self, session_id: str) -> str | None: ...
    async def receiver_key_hash(self, session_id: str) -> str | None: ...
    async def touch(self, session_id: str, at: datetime, *, activate: bool) -> None:
        """Record activity: ``last_activity_at``, and ``active`` unless terminated."""
        ...

    async def end(self, session_id: str, at: datetime, reason: str) -> bool:
        """Terminate it; False if it was terminated already."""
        ...

    async def set_receiver(self, session_id: str, attached: bool) -> None: ...
    async def ack(self, session_id: str, seq: int) -> None:
        """The receiver holds every input up to ``seq`` (never moves back)."""
        ...

    # Controllers: a player joins a session once and keeps the seat.
    async def controller(self, session_id: str, player_id: str) -> Controller | None: ...
    async def controllers(self, session_id: str) -> list[Controller]: ...
    async def add_controller(self, controller: Controller) -> bool:
        """False if the seat or the player is taken (a concurrent join won)."""
        ...

    # Inputs, numbered per session; only the last ``keep`` are kept for a receiver to resume.
    async def add_input(self, value: CastInput, *, keep: int) -> CastInput:
        """Store it with the session's next sequence number (the returned copy has it)."""
        ...

    async def record_input(
        self, value: CastInput, *, player_id: str, keep: int
    ) -> tuple[CastInput, bool] | None:
        """In one statement, where the database can: ``value`` as ``add_input`` stores it, with
        the player's seat, if the session is active or idle and the player its controller; the
        session marked active. The input and whether a receiver is attached; None otherwise or
        where it cannot (the caller then takes the path that checks and says why)."""
        ...

    async def inputs_after(self, session_id: str, seq: int, *, limit: int) -> list[CastInput]: ...

    # Expiry, by any process: sessions idle since before ``idle_before`` become idle, those
    # idle since before ``end_before`` are terminated. Returns what changed.
    async def expire(
        self, *, idle_before: datetime, end_before: datetime, at: datetime
    ) -> tuple[list[CastSession], list[CastSession]]: ...


class CastUow(IdentityUow, Protocol):
    """Cast services: sessions, controllers, inputs, over identity's games and players."""

    @property
    def cast(self) -> CastStore: ...
