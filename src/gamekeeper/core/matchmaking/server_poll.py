"""A dedicated server's long poll for its sessions, holding no transaction while it waits.

Each look at the assigned sessions is a short transaction of its own; between two looks the
caller's ``wait`` returns when the matchmaker announces a session for the server (or when it
gives up), and the connection and, on SQLite, the write lock are free meanwhile.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from gamekeeper.core.matchmaking.servers import take_sessions
from gamekeeper.core.matchmaking.store import MatchmakingUow
from gamekeeper.core.matchmaking.types import MatchSession
from gamekeeper.core.transactions import Transactions

__all__ = ["poll_sessions"]


async def poll_sessions(
    db: Transactions[MatchmakingUow],
    *,
    project_id: str,
    name: str,
    wait: Callable[[], Awaitable[object]] | None,
) -> list[MatchSession]:
    """The sessions newly assigned to the server; with none, ``wait`` once and look again."""
    async with db.transaction() as uow:
        taken = await take_sessions(uow, project_id=project_id, name=name)
    if taken or wait is None:
        return taken
    await wait()
    async with db.transaction() as uow:
        return await take_sessions(uow, project_id=project_id, name=name)
