"""What the matchmaking services need from storage."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from gamekeeper.core.identity.store import IdentityUow
from gamekeeper.core.matchmaking.types import (
    FailureReason,
    GameServer,
    MatchRequest,
    MatchSession,
    OpenSession,
    Outcome,
    Report,
    SkillRating,
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


class RatingStore(Protocol):
    async def rating(self, game_id: str, player_id: str) -> SkillRating | None: ...

    async def lock_ratings(
        self, starting: Sequence[SkillRating], at: datetime
    ) -> dict[str, SkillRating]:
        """Each player's rating, stored from ``starting`` if new, locked until the end of the
        transaction (all of one game)."""
        ...

    async def save_ratings(self, ratings: Sequence[SkillRating]) -> None:
        """Insert or replace each rating."""
        ...

    async def count_above(self, game_id: str, conservative: float) -> int:
        """How many players of the game have a conservative rating strictly above this."""
        ...


class ResultStore(RatingStore, Protocol):
    async def session_of_request(self, request_id: str) -> tuple[str, str] | None:
        """(session id, player id) of the request's place in a session, if it has one."""
        ...

    async def lock_session(self, session_id: str) -> OpenSession | None: ...

    async def put_report(
        self, session_id: str, reporter: str, report: Report, at: datetime
    ) -> None: ...

    async def reports(self, session_id: str) -> dict[str, Report]: ...

    async def close_session(
        self, session_id: str, *, outcome: Outcome, rated: bool, at: datetime
    ) -> None: ...

    async def stale_sessions(self, before: datetime, limit: int) -> list[str]:
        """Ids of sessions still open that were formed before ``before``, oldest first."""
        ...

    async def free_server(
        self, game_id: str, name: str, session_id: str, at: datetime
    ) -> GameServer | None:
        """Clear the server's session if it is still this one; the freed server, or None."""
        ...


class MatchmakingUow(IdentityUow, Protocol):
    """Matchmaking services: the queue and sessions, results and ratings."""

    @property
    def matchmaking(self) -> MatchmakingStore: ...

    @property
    def match_results(self) -> ResultStore: ...
