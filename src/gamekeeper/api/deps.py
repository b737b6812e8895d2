"""Dependencies handlers ask for by name: units of work, ``principal``, ``actor``, ``runtime``.

A handler names the unit of work it needs by its parameter's name:

- ``write_uow: WriteUow``: a write transaction, committed after the handler, rolled back if it
  raises. It begins once the body is in hand and valid. Litestar reads ``data`` before it
  resolves dependencies but validates it after them (``tests/api/test_litestar_order.py``), so
  the dependency asks ``data_refused`` first and begins nothing for a body Litestar is about to
  refuse. A route whose dialect reads its body itself provides it as the ``payload``
  dependency with ``body_first(reader)``, which the transaction waits for (Litestar reserves
  the name ``body`` for the raw bytes).
- ``read_uow: ReadUow``: reads only (``Database.read``: no transaction on PostgreSQL).

A flow that must hold no transaction across a slow step (asking itch.io, fetching a page,
storing a blob) is a core function that takes the ``Database`` as its ``Transactions``; so is a
hot path whose change is one statement committed alone (``Database.autocommit``: device
sign-in, spending a web code), where a dependency's cost shows (docs/benchmarks.md).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from litestar import Request
from litestar.di import NamedDependency, Provide

from gamekeeper.api.bodies import data_refused
from gamekeeper.api.guards import Principal, client_ip, principal_of, runtime_of
from gamekeeper.core.audit import Actor
from gamekeeper.core.identity.types import DeveloperPrincipal, KeyPrincipal, PlayerPrincipal
from gamekeeper.core.matchmaking.tokens import ClientPrincipal
from gamekeeper.core.owners.types import Owner
from gamekeeper.db.database import SqlUnitOfWork
from gamekeeper.runtime import Runtime

AnyRequest = Request[Any, Any, Any]
# What handlers annotate, under the parameter name that picks the dependency (see above).
# Core services take the unit of work as their own narrow unit-of-work protocol.
WriteUow = NamedDependency[SqlUnitOfWork]
ReadUow = NamedDependency[SqlUnitOfWork]
RuntimeDep = NamedDependency[Runtime]
# The authenticated caller, as the route's guard resolved it.
KeyPrincipalDep = NamedDependency[KeyPrincipal]
DeveloperDep = NamedDependency[DeveloperPrincipal]
PlayerDep = NamedDependency[PlayerPrincipal]
ActorDep = NamedDependency[Actor]
# The owner an admin route acts on, from its path (``/operators/{id}/keys`` …).
OwnerDep = NamedDependency[Owner]


async def provide_write_uow(request: AnyRequest) -> AsyncIterator[SqlUnitOfWork | None]:
    """One write transaction per request, begun after ``data`` is read and valid."""
    if await data_refused(request):
        yield None  # Litestar refuses ``data`` next and never calls the handler
        return
    async with runtime_of(request).db.transaction() as uow:
        yield uow


async def provide_read_uow(request: AnyRequest) -> AsyncIterator[SqlUnitOfWork]:
    """A unit of work for reads only."""
    async with runtime_of(request).db.read() as uow:
        yield uow


async def _write_uow_after_body(
    request: AnyRequest, payload: NamedDependency[Any]
) -> AsyncIterator[SqlUnitOfWork]:
    # ``payload`` is named only so that Litestar resolves it, the dialect's reading, first.
    async with runtime_of(request).db.transaction() as uow:
        yield uow


def body_first(read: Callable[[AnyRequest], Awaitable[Any]]) -> dict[str, Provide]:
    """A route's dependencies when its dialect reads the body: ``payload`` (what ``read`` returns:
    the body decoded, checked, its credentials verified), then ``write_uow``."""
    return {"payload": Provide(read), "write_uow": Provide(_write_uow_after_body)}


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
    "write_uow": Provide(provide_write_uow),
    "read_uow": Provide(provide_read_uow),
    "runtime": Provide(provide_runtime, sync_to_thread=False),
    "principal": Provide(provide_principal, sync_to_thread=False),
    "actor": Provide(provide_actor, sync_to_thread=False),
}
