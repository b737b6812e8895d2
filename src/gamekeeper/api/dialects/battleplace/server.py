"""Dedicated-server routes: offer to host sessions, stop offering, fetch assigned sessions.

Every body carries ``projectId`` and ``projectServerToken`` (a ``server`` key of that game).
Fetching sessions is a long poll: with nothing to hand out it waits up to
``server_poll_seconds`` for the matchmaker to assign one.
"""

from __future__ import annotations

from functools import partial
from typing import Annotated, Any, TypeVar

import msgspec
from litestar import Request, delete, post
from litestar.di import NamedDependency, Provide

from gamekeeper.api.deps import RuntimeDep, WriteUow, body_first
from gamekeeper.api.dialects.battleplace.guards import authenticate_server
from gamekeeper.api.dialects.battleplace.views import (
    ServerSessionOut,
    Wire,
    read_body,
    server_session,
)
from gamekeeper.api.guards import refuse_browsers
from gamekeeper.core.matchmaking import servers
from gamekeeper.core.matchmaking.server_poll import poll_sessions

Text = Annotated[str, msgspec.Meta(max_length=256)]
_GUARDS = [refuse_browsers]
B = TypeVar("B", bound="ServerIn")


class ServerIn(Wire):
    project_id: Text
    project_server_token: Text
    name: Text


class RegisterIn(ServerIn):
    server_tag: Text | None = None
    info: Any = None
    timeout: int | None = None


class StatusOut(Wire):
    status: str


class SessionsOut(Wire):
    sessions: list[ServerSessionOut]


async def _server(request: Request[Any, Any, Any], into: type[B]) -> B:
    body = await read_body(request, into)
    await authenticate_server(request, project_id=body.project_id, token=body.project_server_token)
    return body


async def read_register(request: Request[Any, Any, Any]) -> RegisterIn:
    """The body, whose project server token must be the project's."""
    return await _server(request, RegisterIn)


async def read_server(request: Request[Any, Any, Any]) -> ServerIn:
    """The body, whose project server token must be the project's."""
    return await _server(request, ServerIn)


@post("/server/match", status_code=200, guards=_GUARDS, dependencies=body_first(read_register))
async def register_server(payload: NamedDependency[RegisterIn], write_uow: WriteUow) -> StatusOut:
    await servers.register_server(
        write_uow,
        project_id=payload.project_id,
        name=payload.name,
        server_tag=payload.server_tag,
        info=payload.info,
        timeout=payload.timeout,
    )
    return StatusOut("registered")


@delete("/server/match", status_code=200, guards=_GUARDS, dependencies=body_first(read_server))
async def unregister_server(payload: NamedDependency[ServerIn], write_uow: WriteUow) -> StatusOut:
    await servers.unregister_server(write_uow, project_id=payload.project_id, name=payload.name)
    return StatusOut("cancelled")


@post(
    "/server/match/sessions",
    status_code=200,
    guards=_GUARDS,
    dependencies={"payload": Provide(read_server)},
)
async def fetch_sessions(payload: NamedDependency[ServerIn], runtime: RuntimeDep) -> SessionsOut:
    seconds, project_id, name = (
        runtime.settings.server_poll_seconds,
        payload.project_id,
        payload.name,
    )
    wait = partial(runtime.matchmaker.wait_for_session, project_id, name, seconds)
    taken = await poll_sessions(
        runtime.db, project_id=project_id, name=name, wait=wait if seconds > 0 else None
    )
    return SessionsOut([server_session(s, runtime.match_signer) for s in taken])


ROUTES = [register_server, unregister_server, fetch_sessions]
