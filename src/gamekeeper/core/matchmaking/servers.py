"""Dedicated game servers: authentication, registration, and the sessions given to them."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import msgspec

from gamekeeper.core.matchmaking.errors import (
    InvalidMatchRequest,
    ServerNotRegistered,
)
from gamekeeper.core.matchmaking.events import GameServerChanged
from gamekeeper.core.matchmaking.store import MatchmakingUow
from gamekeeper.core.matchmaking.types import GameServer, MatchSession

DEFAULT_TIMEOUT = 60
MAX_TIMEOUT = 3600
MAX_NAME = 64
MAX_INFO_BYTES = 4096


def _check_name(name: str) -> None:
    if not 1 <= len(name) <= MAX_NAME:
        raise InvalidMatchRequest(f"name must be 1 to {MAX_NAME} characters")


async def register_server(
    uow: MatchmakingUow,
    *,
    project_id: str,
    name: str,
    server_tag: str | None = None,
    info: Any = None,
    timeout: int | None = None,  # noqa: ASYNC109 - the server's registration lifetime
) -> GameServer:
    """Offer a server for sessions until ``timeout`` seconds pass without another call."""
    _check_name(name)
    timeout = DEFAULT_TIMEOUT if timeout is None else timeout
    if not 1 <= timeout <= MAX_TIMEOUT:
        raise InvalidMatchRequest(f"timeout must be 1 to {MAX_TIMEOUT} seconds")
    if server_tag is not None and not 1 <= len(server_tag) <= MAX_NAME:
        raise InvalidMatchRequest(f"serverTag must be 1 to {MAX_NAME} characters")
    if info is not None and len(msgspec.json.encode(info)) > MAX_INFO_BYTES:
        raise InvalidMatchRequest(f"info must encode to at most {MAX_INFO_BYTES} bytes")
    now = uow.now()
    existing = await uow.matchmaking.get_server(project_id, name)
    server = GameServer(
        game_id=project_id,
        name=name,
        server_tag=server_tag,
        info=info,
        expires_at=now + timedelta(seconds=timeout),
        session_id=existing.session_id if existing else None,
        registered_at=existing.registered_at if existing else now,
        updated_at=now,
    )
    await uow.matchmaking.put_server(server)
    uow.emit(GameServerChanged(server))
    return server


async def unregister_server(uow: MatchmakingUow, *, project_id: str, name: str) -> None:
    """Stop offering a server for new sessions (the one it hosts, if any, goes on)."""
    _check_name(name)
    existing = await uow.matchmaking.get_server(project_id, name)
    if existing is None:
        raise ServerNotRegistered()
    now = uow.now()
    gone = replace(existing, expires_at=min(existing.expires_at, now), updated_at=now)
    await uow.matchmaking.put_server(gone)
    uow.emit(GameServerChanged(gone))


async def take_sessions(uow: MatchmakingUow, *, project_id: str, name: str) -> list[MatchSession]:
    """Sessions assigned to this server that it has not fetched before."""
    _check_name(name)
    return await uow.matchmaking.take_unfetched_sessions(project_id, name, uow.now())
