"""Dependencies handlers ask for by name: ``uow``, ``principal``, ``actor``, ``runtime``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from litestar import Request
from litestar.di import NamedDependency, Provide

from gamekeeper.api.guards import Principal, client_ip, principal_of, runtime_of
from gamekeeper.api.runtime import Runtime
from gamekeeper.core.audit import Actor
from gamekeeper.core.identity.types import DeveloperPrincipal, KeyPrincipal, PlayerPrincipal
from gamekeeper.core.matchmaking.tokens import ClientPrincipal
from gamekeeper.db.database import SqlUnitOfWork

# What handlers annotate. Core services take the unit of work as their UnitOfWork protocol.
Uow = NamedDependency[SqlUnitOfWork]
RuntimeDep = NamedDependency[Runtime]
# The authenticated caller, as the route's guard resolved it.
KeyPrincipalDep = NamedDependency[KeyPrincipal]
DeveloperDep = NamedDependency[DeveloperPrincipal]
PlayerDep = NamedDependency[PlayerPrincipal]
ActorDep = NamedDependency[Actor]
_READ_ONLY = frozenset({"GET", "HEAD", "OPTIONS"})


async def provide_uow(request: Request[Any, Any, Any]) -> AsyncIterator[SqlUnitOfWork]:
    """One transaction per request: committed after the handler, rolled back if it raises."""
    write = request.method not in _READ_ONLY
    async with runtime_of(request).db.transaction(write=write) as uow:
        yield uow


def provide_runtime(request: Request[Any, Any, Any]) -> Runtime:
    return runtime_of(request)


def provide_principal(request: Request[Any, Any, Any]) -> Principal:
    return principal_of(request)


def provide_actor(request: Request[Any, Any, Any]) -> Actor:
    """Who is acting, for the audit log."""
    ip = client_ip(request)
    match request.scope.get("state", {}).get("principal"):
        case Actor() as actor:
            return actor
        case KeyPrincipal(credential_id=cid):
            return Actor("key", cid, ip)
        case DeveloperPrincipal(developer_id=did):
            return Actor("developer", did, ip)
        case PlayerPrincipal(player_id=pid) | ClientPrincipal(player_id=pid):
            return Actor("player", pid, ip)
        case _:
            return Actor("anonymous", ip=ip)


DEPENDENCIES = {
    "uow": Provide(provide_uow),
    "runtime": Provide(provide_runtime, sync_to_thread=False),
    "principal": Provide(provide_principal, sync_to_thread=False),
    "actor": Provide(provide_actor, sync_to_thread=False),
}
