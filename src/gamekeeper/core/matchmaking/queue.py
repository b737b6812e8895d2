"""The client side of the queue: place, cancel and look up match requests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import msgspec

from gamekeeper.core.matchmaking import ratings
from gamekeeper.core.matchmaking.errors import InvalidMatchRequest
from gamekeeper.core.matchmaking.events import MatchRequestCancelled, MatchRequestPlaced
from gamekeeper.core.matchmaking.store import MatchmakingUow
from gamekeeper.core.matchmaking.tokens import ClientPrincipal, new_request_id
from gamekeeper.core.matchmaking.types import MatchRequest, MatchSession


@dataclass(frozen=True, slots=True)
class QueueLimits:
    max_teams: int = 16
    max_players: int = 100
    max_match_time: int = 3600
    max_tag: int = 64
    max_info_bytes: int = 4096


@dataclass(frozen=True, slots=True)
class RequestStatus:
    request: MatchRequest
    session: MatchSession | None  # when matched


def _check(
    team_sizes: list[int],
    max_match_time: int,
    tags: tuple[str | None, ...],
    info: Any,
    limits: QueueLimits,
) -> None:
    if not team_sizes or len(team_sizes) > limits.max_teams:
        raise InvalidMatchRequest(f"teamSizes must list 1 to {limits.max_teams} teams")
    if any(size < 1 for size in team_sizes):
        raise InvalidMatchRequest("every team size must be at least 1")
    if sum(team_sizes) < 2 or sum(team_sizes) > limits.max_players:
        raise InvalidMatchRequest(f"a session holds 2 to {limits.max_players} players")
    if not 1 <= max_match_time <= limits.max_match_time:
        raise InvalidMatchRequest(f"maxMatchTime must be 1 to {limits.max_match_time} seconds")
    for tag in tags:
        if tag is not None and not 1 <= len(tag) <= limits.max_tag:
            raise InvalidMatchRequest(f"tags must be 1 to {limits.max_tag} characters")
    if info is not None and len(msgspec.json.encode(info)) > limits.max_info_bytes:
        raise InvalidMatchRequest(f"info must encode to at most {limits.max_info_bytes} bytes")


async def enqueue_request(
    uow: MatchmakingUow,
    *,
    client: ClientPrincipal,
    team_sizes: list[int],
    max_match_time: int,
    match_tag: str | None = None,
    server_tag: str | None = None,
    info: Any = None,
    limits: QueueLimits = QueueLimits(),
) -> MatchRequest:
    """Queue a client for a match; the engine leading its game picks it up once this commits."""
    _check(team_sizes, max_match_time, (match_tag, server_tag), info, limits)
    skill = await ratings.current_rating(uow, game_id=client.game_id, player_id=client.player_id)
    now = uow.now()
    request = MatchRequest(
        id=new_request_id(),
        game_id=client.game_id,
        player_id=client.player_id,
        team_sizes=tuple(team_sizes),
        match_tag=match_tag,
        server_tag=server_tag,
        info=info,
        rating=skill.mu,
        status="waiting",
        reason=None,
        session_id=None,
        created_at=now,
        deadline_at=now + timedelta(seconds=max_match_time),
        updated_at=now,
    )
    await uow.matchmaking.add_request(request)
    uow.emit(MatchRequestPlaced(request))
    return request


async def _own_request(
    uow: MatchmakingUow, client: ClientPrincipal, request_id: str
) -> MatchRequest | None:
    request = await uow.matchmaking.get_request(request_id)
    if (
        request is None
        or request.player_id != client.player_id
        or request.game_id != client.game_id
    ):
        return None  # another client's token is as good as an unknown one
    return request


async def cancel_request(uow: MatchmakingUow, *, client: ClientPrincipal, request_id: str) -> bool:
    """Take a waiting request out of the queue; a no-op (False) once matched or failed."""
    request = await _own_request(uow, client, request_id)
    if request is None or not await uow.matchmaking.cancel_request(request_id, uow.now()):
        return False
    uow.emit(MatchRequestCancelled(game_id=request.game_id, request_id=request_id))
    return True


async def request_status(
    uow: MatchmakingUow, *, client: ClientPrincipal, request_id: str
) -> RequestStatus | None:
    """A request and, once matched, its session; None if the client has no such request."""
    request = await _own_request(uow, client, request_id)
    if request is None:
        return None
    session = None
    if request.session_id is not None:
        session = await uow.matchmaking.get_session(request.session_id)
    return RequestStatus(request=request, session=session)
