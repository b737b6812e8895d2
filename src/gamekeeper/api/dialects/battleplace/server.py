"""Dedicated-server routes: offer to host sessions, stop offering, fetch assigned sessions.

Every body carries ``projectId`` and ``projectServerToken`` (a ``server`` key of that game).
Fetching sessions is a long poll: with nothing to hand out it waits up to
``server_poll_seconds`` for the matchmaker to assign one.
"""

from __future__ import annotations

from typing import Annotated, Any, TypeVar

import msgspec
from litestar import Request, delete, post

from gamekeeper.api.deps import RuntimeDep
from gamekeeper.api.dialects.battleplace.guards import authenticate_server
from gamekeeper.api.dialects.battleplace.views import (
    ServerSessionOut,
    Wire,
    read_body,
    server_session,
)
from gamekeeper.api.guards import refuse_browsers
from gamekeeper.api.runtime import Runtime
from gamekeeper.core.matchmaking import servers

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


@post("/server/match", status_code=200, guards=_GUARDS)
async def register_server(request: Request[Any, Any, Any], runtime: RuntimeDep) -> StatusOut:
    body = await _server(request, RegisterIn)
    async with runtime.db.transaction() as uow:
        await servers.register_server(
            uow,
            project_id=body.project_id,
            name=body.name,
            server_tag=body.server_tag,
            info=body.info,
            timeout=body.timeout,
        )
    return StatusOut("registered")


@delete("/server/match", status_code=200, guards=_GUARDS)
async def unregister_server(request: Request[Any, Any, Any], runtime: RuntimeDep) -> StatusOut:
    body = await _server(request, ServerIn)
    async with runtime.db.transaction() as uow:
        await servers.unregister_server(uow, project_id=body.project_id, name=body.name)
    return StatusOut("cancelled")


async def _take(runtime: Runtime, body: ServerIn) -> SessionsOut:
    async with runtime.db.transaction() as uow:
        taken = await servers.take_sessions(uow, project_id=body.project_id, name=body.name)
    return SessionsOut([server_session(s, runtime.match_signer) for s in taken])


@post("/server/match/sessions", status_code=200, guards=_GUARDS)
async def fetch_sessions(request: Request[Any, Any, Any], runtime: RuntimeDep) -> SessionsOut:
    body = await _server(request, ServerIn)
    found = await _take(runtime, body)
    wait = runtime.settings.server_poll_seconds
    if not found.sessions and wait > 0:
        await runtime.matchmaker.wait_for_session(body.project_id, body.name, wait)
        found = await _take(runtime, body)
    return found


ROUTES = [register_server, unregister_server, fetch_sessions]
