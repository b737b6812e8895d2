"""BattlePlace wire structs: strict body decoding, and sessions as each participant sees them."""

from __future__ import annotations

from typing import Any, TypeVar

import msgspec
from litestar import Request

from gamekeeper.api.bodies import read_json
from gamekeeper.core.errors import InvalidInput
from gamekeeper.core.matchmaking.tokens import SERVER, Signer
from gamekeeper.core.matchmaking.types import MatchSession

T = TypeVar("T")


class Wire(msgspec.Struct, rename="camel", kw_only=True):
    """Base of bodies: camelCase names."""


async def read_body(request: Request[Any, Any, Any], into: type[T]) -> T:
    """The body decoded strictly: ``"30"`` is not a number of seconds."""
    return await read_json(request, into, code=InvalidInput.code)


class SeatOut(msgspec.Struct, rename="camel"):
    """A participant; tickets are null on one's own seat."""

    info: Any
    our_ticket: str | None
    their_ticket: str | None


class ServerOut(msgspec.Struct, rename="camel"):
    info: Any
    our_ticket: str
    their_ticket: str


class SessionOut(msgspec.Struct, rename="camel"):
    external_session_id: str
    session_token: str
    teams: list[list[SeatOut]]
    team_index: int
    mate_index: int
    server: ServerOut | None


class StatusOut(msgspec.Struct, rename="camel", omit_defaults=True):
    status: str  # notFound | inProgress | matched | failed
    session: SessionOut | None = None
    reason: str | None = None


class ServerSessionOut(msgspec.Struct, rename="camel"):
    external_session_id: str
    server_session_token: str
    teams: list[list[SeatOut]]
    match_tag: str | None
    server_tag: str | None


def _teams(session: MatchSession) -> list[list[SeatOut]]:
    return [[] for _ in session.team_sizes]


def client_session(session: MatchSession, request_id: str, signer: Signer) -> SessionOut:
    """The session as the participant of ``request_id`` sees it."""
    teams = _teams(session)
    me = next(m for m in session.members if m.request_id == request_id)
    for member in session.members:
        other = member.request_id
        teams[member.team_index].append(
            SeatOut(member.info, None, None)
            if other == request_id
            else SeatOut(
                member.info,
                signer.ticket(session.id, request_id, other),
                signer.ticket(session.id, other, request_id),
            )
        )
    server = None
    if session.server_name is not None:
        server = ServerOut(
            session.server_info,
            signer.ticket(session.id, request_id, SERVER),
            signer.ticket(session.id, SERVER, request_id),
        )
    return SessionOut(
        external_session_id=session.id,
        session_token=signer.session_token(request_id),
        teams=teams,
        team_index=me.team_index,
        mate_index=me.mate_index,
        server=server,
    )


def server_session(session: MatchSession, signer: Signer) -> ServerSessionOut:
    """The session as its dedicated server sees it."""
    teams = _teams(session)
    for member in session.members:
        teams[member.team_index].append(
            SeatOut(
                member.info,
                signer.ticket(session.id, SERVER, member.request_id),
                signer.ticket(session.id, member.request_id, SERVER),
            )
        )
    return ServerSessionOut(
        external_session_id=session.id,
        server_session_token=signer.server_session_token(session.id),
        teams=teams,
        match_tag=session.match_tag,
        server_tag=session.server_tag,
    )
