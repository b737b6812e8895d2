"""BattlePlace session results (from clients and from dedicated servers) and client stats.

A result answers ``{"status": "ok"}``: the v1a reference documents no response body, and an
object with a status reads like every other BattlePlace answer.

A dedicated server's result is ``{status, ranks}`` as in the v1a reference: the signed server
session token in the path is its credential (only this installation issues one, and only to
the server the session was assigned to). A server that also sends ``projectId`` and
``projectServerToken`` has them checked: the token must be a live server key of the session's
project, and ``projectId`` must name that project; a mismatch is refused and changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Literal

import msgspec
from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath

from gamekeeper.api.deps import ReadUow, RuntimeDep, WriteUow, body_first
from gamekeeper.api.dialects.battleplace.guards import (
    ClientDep,
    authenticate_server,
    authenticate_server_session,
    require_client,
)
from gamekeeper.api.dialects.battleplace.views import Wire, read_body
from gamekeeper.api.guards import refuse_browsers
from gamekeeper.core.matchmaking import ratings, results

MAX_RANKS = 1024  # far above any session's team count; the exact count is checked in core
Rank = Annotated[int, msgspec.Meta(ge=0, le=2**31 - 1)]
Text = Annotated[str, msgspec.Meta(max_length=256)]


class ResultIn(Wire):
    status: Literal["finished", "cancelled"]
    ranks: Annotated[list[Rank], msgspec.Meta(max_length=MAX_RANKS)] | None = None


class ServerResultIn(ResultIn, kw_only=True):
    project_id: Text | None = None
    project_server_token: Text | None = None


@dataclass(frozen=True, slots=True)
class ServerReport:
    """A server's result, with the session its token names and the project it claims (if any)."""

    session_id: str
    project_id: str | None
    result: ServerResultIn


class OkOut(msgspec.Struct):
    status: str = "ok"


class StatsOut(msgspec.Struct):
    rating: float  # conservative: mu - 3 sigma
    rank: int | None  # None until the client has played a rated session


async def read_result(request: Request[Any, Any, Any]) -> ResultIn:
    return await read_body(request, ResultIn)


async def read_server_result(request: Request[Any, Any, Any]) -> ServerReport:
    """The body and its credentials, checked before the transaction opens."""
    session_id = await authenticate_server_session(
        request, request.path_params["server_session_token"]
    )
    data = await read_body(request, ServerResultIn)
    project_id = data.project_id
    if data.project_server_token is not None:
        project_id = await authenticate_server(
            request, project_id=data.project_id, token=data.project_server_token
        )
    return ServerReport(session_id, project_id, data)


@post(
    "/client/session/{session_token:str}/result",
    guards=[require_client],
    dependencies=body_first(read_result),
    status_code=200,
)
async def client_result(
    session_token: FromPath[str],
    payload: NamedDependency[ResultIn],
    runtime: RuntimeDep,
    principal: ClientDep,
    write_uow: WriteUow,
) -> OkOut:
    request_id = runtime.match_signer.read_session_token(session_token)
    await results.report_by_client(
        write_uow,
        client=principal,
        request_id=request_id,
        status=payload.status,
        ranks=payload.ranks,
    )
    return OkOut()


@post(
    "/server/session/{server_session_token:str}/result",
    status_code=200,
    guards=[refuse_browsers],
    dependencies=body_first(read_server_result),
    opt={"body": ServerResultIn},  # for the OpenAPI document: read_server_result decodes it
)
async def server_result(
    payload: NamedDependency[ServerReport],
    write_uow: WriteUow,
) -> OkOut:
    await results.report_by_server(
        write_uow,
        session_id=payload.session_id,
        project_id=payload.project_id,
        status=payload.result.status,
        ranks=payload.result.ranks,
    )
    return OkOut()


@get("/client/info/stats", guards=[require_client])
async def client_stats(read_uow: ReadUow, principal: ClientDep) -> StatsOut:
    stats = await ratings.player_stats(
        read_uow, game_id=principal.game_id, player_id=principal.player_id
    )
    return StatsOut(rating=stats.rating, rank=stats.rank)


ROUTES = [client_result, server_result, client_stats]
