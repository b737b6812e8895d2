"""Turning an engine tick into stored sessions and failures, in one transaction.

The engine proposes; the database decides. Every request of a proposed match is locked and
must still be waiting (a cancel may have committed meanwhile; a second leader during a
failover may have matched it), and its server must still be free. A match that fails either
check is dropped and its still-waiting members go back to the engine. The primary key of
``match_member`` makes a second session for one request impossible whatever happens above.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from gamekeeper.core.events.outbox import NewEvent, record_events
from gamekeeper.core.matchmaking.engine_types import Match, QueuedRequest, TickOutcome
from gamekeeper.core.matchmaking.events import MatchFailed, MatchFound
from gamekeeper.core.matchmaking.store import MatchmakingUow
from gamekeeper.core.matchmaking.tokens import new_session_id
from gamekeeper.core.matchmaking.types import (
    FailureReason,
    GameServer,
    MatchRequest,
    MatchSession,
    Participant,
)
from gamekeeper.core.owners.types import Owner


@dataclass(slots=True)
class TickRecord:
    sessions: list[MatchSession] = field(default_factory=list)
    failed: list[tuple[MatchRequest, FailureReason]] = field(default_factory=list)
    returned: list[QueuedRequest] = field(default_factory=list)  # back to the engine
    lost_servers: list[tuple[str, str]] = field(default_factory=list)  # gone or taken


def _session(
    match: Match,
    requests: Mapping[str, MatchRequest],
    server: GameServer | None,
    uow: MatchmakingUow,
) -> MatchSession:
    project_id, team_sizes, match_tag, server_tag = match.pool
    members = tuple(
        Participant(
            request_id=queued.id,
            player_id=requests[queued.id].player_id,
            team_index=team_index,
            mate_index=mate_index,
            info=requests[queued.id].info,
        )
        for team_index, team in enumerate(match.teams)
        for mate_index, queued in enumerate(team)
    )
    return MatchSession(
        id=new_session_id(),
        game_id=project_id,
        team_sizes=team_sizes,
        match_tag=match_tag,
        server_tag=server_tag,
        server_name=server.name if server else None,
        server_info=server.info if server else None,
        members=members,
        created_at=uow.now(),
    )


async def record_tick(
    uow: MatchmakingUow,
    outcome: TickOutcome,
    *,
    requests: Mapping[str, MatchRequest],
    servers: Mapping[tuple[str, str], GameServer],
) -> TickRecord:
    """Store what a tick decided that still holds; say what goes back to the engine."""
    record = TickRecord()
    ids = [q.id for m in outcome.matches for team in m.teams for q in team]
    waiting = await uow.matchmaking.lock_waiting(ids + [f.request.id for f in outcome.failures])
    now = uow.now()
    for match in outcome.matches:
        queued = [q for team in match.teams for q in team]
        server = servers.get((match.pool[0], match.server)) if match.server else None
        if all(q.id in waiting for q in queued):
            session = _session(match, requests, server, uow)
            if server is None or await uow.matchmaking.claim_server(
                server.game_id, server.name, session.id, now
            ):
                record.sessions.append(session)
                continue
            record.lost_servers.append((server.game_id, server.name))
        record.returned.extend(q for q in queued if q.id in waiting)
    record.failed = [
        (requests[f.request.id], f.reason) for f in outcome.failures if f.request.id in waiting
    ]
    await uow.matchmaking.add_sessions(record.sessions)
    await uow.matchmaking.settle(
        [(m.request_id, s.id) for s in record.sessions for m in s.members],
        [(request.id, reason) for request, reason in record.failed],
        now,
    )
    await _record_events(uow, record)
    return record


async def _record_events(uow: MatchmakingUow, record: TickRecord) -> None:
    events = []
    for session in record.sessions:
        teams: list[list[str]] = [[] for _ in session.team_sizes]
        for member in session.members:
            teams[member.team_index].append(member.player_id)
        payload = MatchFound(
            session_id=session.id,
            teams=teams,
            match_tag=session.match_tag,
            server_tag=session.server_tag,
            server=session.server_name,
        )
        events.append(NewEvent("match.found", payload, Owner.game(session.game_id), session.id))
    for request, reason in record.failed:
        failed = MatchFailed(request_id=request.id, player_id=request.player_id, reason=reason)
        events.append(NewEvent("match.failed", failed, Owner.game(request.game_id), request.id))
    await record_events(uow, events)
