"""What the matchmaking services need from storage."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from gamekeeper.core.matchmaking.types import (
    FailureReason,
    GameServer,
    MatchRequest,
    MatchSession,
)


class MatchmakingStore(Protocol):
    async def add_request(self, request: MatchRequest) -> None: ...

    async def get_request(self, request_id: str) -> MatchRequest | None: ...

    async def cancel_request(self, request_id: str, now: datetime) -> bool: ...

    async def waiting_requests(self) -> list[MatchRequest]: ...

    async def requests_changed_since(self, since: datetime) -> list[MatchRequest]: ...

    async def lock_waiting(self, request_ids: Sequence[str]) -> set[str]: ...

    async def settle(
        self,
        matched: Sequence[tuple[str, str]],
        failed: Sequence[tuple[str, FailureReason]],
        now: datetime,
    ) -> None: ...

    async def add_sessions(self, sessions: Sequence[MatchSession]) -> None: ...

    async def get_session(self, session_id: str) -> MatchSession | None: ...

    async def take_unfetched_sessions(
        self, game_id: str, server_name: str, now: datetime
    ) -> list[MatchSession]: ...

    async def put_server(self, server: GameServer) -> None: ...

    async def get_server(self, game_id: str, name: str) -> GameServer | None: ...

    async def active_servers(self, now: datetime) -> list[GameServer]: ...

    async def servers_changed_since(self, since: datetime) -> list[GameServer]: ...

    async def claim_server(
        self, game_id: str, name: str, session_id: str, now: datetime
    ) -> bool: ...
