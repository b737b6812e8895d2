"""Client match routes: request a match, poll its status, cancel it.

Status polls are the hot path: they are answered from this replica's status board, without a
database query, unless the board has never heard of the request.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import MediaType, Request, Response, delete, get, post
from litestar.di import NamedDependency
from litestar.openapi import ResponseSpec
from litestar.params import FromPath

from gamekeeper.api.deps import WriteUow, body_first
from gamekeeper.api.dialects.battleplace.guards import ClientDep, client_of, require_client
from gamekeeper.api.dialects.battleplace.views import StatusOut, Wire, client_session, read_body
from gamekeeper.api.guards import runtime_of
from gamekeeper.core.matchmaking import queue
from gamekeeper.core.matchmaking.tokens import ClientPrincipal, Signer
from gamekeeper.infra.matchboard import Seat
from gamekeeper.runtime import Runtime

_encode = msgspec.json.Encoder().encode
_NOT_FOUND = _encode(StatusOut("notFound"))
_IN_PROGRESS = _encode(StatusOut("inProgress"))
MatchToken = Annotated[str, msgspec.Meta(max_length=64)]


class MatchIn(Wire):
    team_sizes: Annotated[list[int], msgspec.Meta(max_length=64)]
    max_match_time: int
    match_tag: str | None = None
    server_tag: str | None = None
    info: Any = None
    client_token: str | None = None  # the seed lists it; the Authorization header is what counts


class MatchOut(Wire):
    match_token: str


async def read_match(request: Request[Any, Any, Any]) -> MatchIn:
    return await read_body(request, MatchIn)


@post(
    "/client/match",
    guards=[require_client],
    dependencies=body_first(read_match),
    status_code=200,
)
async def request_match(
    payload: NamedDependency[MatchIn], principal: ClientDep, write_uow: WriteUow
) -> MatchOut:
    placed = await queue.enqueue_request(
        write_uow,
        client=principal,
        team_sizes=payload.team_sizes,
        max_match_time=payload.max_match_time,
        match_tag=payload.match_tag,
        server_tag=payload.server_tag,
        info=payload.info,
    )
    return MatchOut(match_token=placed.id)


async def _seat_from_storage(runtime: Runtime, client: ClientPrincipal, token: str) -> Seat | None:
    # Only when the board has not heard of it: most polls open no unit of work at all.
    async with runtime.db.read() as uow:  # request, then its session: committed together
        found = await queue.request_status(uow, client=client, request_id=token)
    if found is None:
        return None
    r = found.request
    seat = Seat(
        r.game_id, r.player_id, r.deadline_at.timestamp(), r.status, r.reason, found.session
    )
    runtime.matchmaker.board.put(token, seat)
    return seat


@get(
    "/client/match/{match_token:str}",
    guards=[require_client],
    # Answered from encoded bytes: inProgress, notFound, failed or matched with the session.
    responses={200: ResponseSpec(StatusOut, description="Where the match request stands")},
)
async def match_status(
    match_token: FromPath[MatchToken], request: Request[Any, Any, Any]
) -> Response[bytes]:
    runtime, client = runtime_of(request), client_of(request)
    seat = runtime.matchmaker.board.get(match_token, now=runtime.clock().timestamp())
    if seat is None:
        seat = await _seat_from_storage(runtime, client, match_token)
    if seat is None or seat.player_id != client.player_id or seat.game_id != client.game_id:
        return Response(_NOT_FOUND, media_type=MediaType.JSON)
    if seat.status == "waiting":
        return Response(_IN_PROGRESS, media_type=MediaType.JSON)
    if seat.answer is None:  # settled: the answer never changes again
        seat.answer = _answer(seat, match_token, runtime.match_signer)
    return Response(seat.answer, media_type=MediaType.JSON)


def _answer(seat: Seat, match_token: str, signer: Signer) -> bytes:
    if seat.session is None:
        return _encode(StatusOut("failed", reason=seat.reason))
    return _encode(StatusOut("matched", client_session(seat.session, match_token, signer)))


@delete("/client/match/{match_token:str}", guards=[require_client], status_code=200)
async def cancel_match(
    match_token: FromPath[MatchToken], principal: ClientDep, write_uow: WriteUow
) -> None:
    await queue.cancel_request(write_uow, client=principal, request_id=match_token)


ROUTES = [request_match, match_status, cancel_match]
