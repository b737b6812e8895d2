"""How a session ends: reports from its participants and its server, and the result that stands.

- The server's report stands the moment it arrives: ``finished`` (rated) or ``cancelled``.
- A session with a server waits for it: its clients' reports are kept, and decide nothing.
- A session without a server ends when every participant has reported the same result
  (``finished`` with the same order of teams, or ``cancelled``); it ends unrated as soon as
  two reports differ: ``finished``, ``rated`` false, no ranks.
- A reporter may report again while the session is open; the new report replaces the old.
- Once ended, a session refuses every report (SessionClosed).

Ranks are stored dense (0 first, ties share a place, no gaps): ``[0, 5, 5]`` is ``[0, 1, 1]``.
A session is rated when it finished with ranks, has two or more teams and no player holds two
places in it (a player matched with themself learns nothing about their skill).

Each report locks the session row first, so concurrent reports end a session exactly once.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from gamekeeper.core.errors import Forbidden, InvalidInput, NotFound
from gamekeeper.core.events.outbox import record_event
from gamekeeper.core.matchmaking import ratings
from gamekeeper.core.matchmaking.errors import SessionClosed
from gamekeeper.core.matchmaking.events import GameServerChanged, RatedPlayer, SessionResult
from gamekeeper.core.matchmaking.store import MatchmakingUow
from gamekeeper.core.matchmaking.tokens import SERVER, ClientPrincipal
from gamekeeper.core.matchmaking.types import (
    OpenSession,
    Outcome,
    Report,
    ReportStatus,
    SkillRating,
)
from gamekeeper.core.owners.types import Owner


class SessionNotFound(NotFound):
    code = "session_not_found"
    message = "No such session"


class SessionNotYours(Forbidden):
    code = "forbidden"
    message = "That session token belongs to another client"


class InvalidResult(InvalidInput):
    code = "invalid_result"


def check_report(status: ReportStatus, ranks: Sequence[int] | None, *, teams: int) -> Report:
    """A report checked against the session's number of teams, its ranks made dense."""
    if ranks is None:
        if status == "finished":
            raise InvalidResult("a finished session needs ranks, one per team")
        return Report(status, None)
    if len(ranks) != teams:
        raise InvalidResult(f"ranks must hold one rank per team: {teams}, not {len(ranks)}")
    if any(rank < 0 for rank in ranks):
        raise InvalidResult("ranks must be 0 or more (0 is first)")
    if status == "cancelled":
        return Report(status, None)  # a cancelled game ranks no one
    places = {rank: place for place, rank in enumerate(sorted(set(ranks)))}
    return Report(status, tuple(places[rank] for rank in ranks))


async def report_by_client(
    uow: MatchmakingUow,
    *,
    client: ClientPrincipal,
    request_id: str,
    status: ReportStatus,
    ranks: Sequence[int] | None,
) -> None:
    """A participant's report, by the request its session token names."""
    place = await uow.match_results.session_of_request(request_id)
    if place is None:
        raise SessionNotFound()
    session_id, player_id = place
    session = await uow.match_results.lock_session(session_id)
    if session is None:
        raise SessionNotFound()
    if session.game_id != client.game_id or player_id != client.player_id:
        raise SessionNotYours()
    await _submit(uow, session, request_id, status, ranks)


async def report_by_server(
    uow: MatchmakingUow,
    *,
    session_id: str,
    status: ReportStatus,
    ranks: Sequence[int] | None,
    project_id: str | None = None,
) -> None:
    """The dedicated server's report, by the session its signed token names.

    ``project_id`` is the project the server also claimed (its server token already checked),
    if it did: it must be the session's.
    """
    session = await uow.match_results.lock_session(session_id)
    if session is None:
        raise SessionNotFound()
    if project_id is not None and session.game_id != project_id:
        raise Forbidden("That session belongs to another project", code="forbidden")
    await _submit(uow, session, SERVER, status, ranks)


async def _submit(
    uow: MatchmakingUow,
    session: OpenSession,
    reporter: str,
    status: ReportStatus,
    ranks: Sequence[int] | None,
) -> None:
    if session.status != "open":
        raise SessionClosed()
    report = check_report(status, ranks, teams=session.team_count)
    await uow.match_results.put_report(session.id, reporter, report, uow.now())
    outcome = decide(session, await uow.match_results.reports(session.id))
    if outcome is not None:
        await _close(uow, session, outcome)


def decide(session: OpenSession, reports: dict[str, Report]) -> Outcome | None:
    """The result that stands given the reports so far, or None while it is open."""
    server = reports.get(SERVER)
    if server is not None:
        return Outcome(server.status, server.ranks, "server")
    if session.server_name is not None:
        return None
    given = [reports[m.request_id] for m in session.members if m.request_id in reports]
    if not given:
        return None
    if any(not report.agrees_with(given[0]) for report in given[1:]):
        return Outcome("finished", None, "clients")
    if len(given) < len(session.members):
        return None
    return Outcome(given[0].status, given[0].ranks, "clients")


def _ratable(session: OpenSession, outcome: Outcome) -> bool:
    players = [m.player_id for m in session.members]
    return (
        outcome.status == "finished"
        and outcome.ranks is not None
        and session.team_count >= 2
        and len(set(players)) == len(players)
        and all(any(m.team_index == t for m in session.members) for t in range(session.team_count))
    )


async def _close(uow: MatchmakingUow, session: OpenSession, outcome: Outcome) -> None:
    now = uow.now()
    rated = _ratable(session, outcome)
    after: dict[str, SkillRating] = {}
    if rated and outcome.ranks is not None:
        teams = [
            [m.player_id for m in session.members if m.team_index == t]
            for t in range(session.team_count)
        ]
        new = await ratings.apply_ranks(
            uow, game_id=session.game_id, teams=teams, ranks=outcome.ranks
        )
        after = {r.player_id: r for team in new for r in team}
    await uow.match_results.close_session(session.id, outcome=outcome, rated=rated, at=now)
    if session.server_name is not None:
        server = await uow.match_results.free_server(
            session.game_id, session.server_name, session.id, now
        )
        if server is not None:
            uow.emit(GameServerChanged(server))
    players = [
        RatedPlayer(
            player_id=m.player_id,
            team_index=m.team_index,
            rating=after[m.player_id].conservative if m.player_id in after else None,
        )
        for m in session.members
    ]
    payload = SessionResult(
        session_id=session.id,
        status=outcome.status,
        ranks=list(outcome.ranks) if outcome.ranks is not None else None,
        rated=rated,
        decided_by=outcome.decided_by,
        players=players,
    )
    await record_event(
        uow, "session.result", payload, owner=Owner.game(session.game_id), aggregate_id=session.id
    )


async def abandon_stale_sessions(
    uow: MatchmakingUow, *, older_than: datetime, limit: int = 100
) -> int:
    """End sessions nobody reported on before ``older_than`` as cancelled, freeing their servers.

    A server that died mid-session, or a client that never reports, would otherwise keep the
    session open and its server busy for good. Returns how many sessions were ended.
    """
    ended = 0
    for session_id in await uow.match_results.stale_sessions(older_than, limit):
        session = await uow.match_results.lock_session(session_id)
        if session is not None and session.status == "open":
            await _close(uow, session, Outcome("cancelled", None, "timeout"))
            ended += 1
    return ended
