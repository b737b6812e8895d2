"""The transaction protocol every unit of work keeps; each domain adds the stores it uses.

A domain declares its own narrow unit of work in ``core/<domain>/store.py``
(``class CatalogUow(IdentityUow, Protocol): catalog: CatalogStore …``); the SQL unit of work
satisfies all of them.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from datetime import datetime
from typing import Protocol


class DomainEvent:
    """Base of domain events: facts a service records with ``uow.emit``.

    They are handed to the process's reactions once the transaction commits (cache
    invalidation, waking the relay, feeding the matchmaker), never if it rolls back. Each
    domain declares its own, frozen dataclasses with slots, in ``core/<domain>/events.py``.
    """

    __slots__ = ()


class UnitOfWork(Protocol):
    def now(self) -> datetime:
        """The time of this unit of work, from the application's clock."""
        ...

    def after_commit(self, action: Callable[[], None]) -> None:
        """Run ``action`` once this transaction has committed (never if it rolls back)."""
        ...

    def emit(self, event: DomainEvent) -> None:
        """Record an event, dispatched only if the transaction commits."""
        ...

    def keep_on_error(self) -> None:
        """Commit this transaction even if the request then fails with a core error.

        For writes that must stand because of the failure: a session revoked on refresh-token
        reuse, an audit entry for a refused credential.
        """
        ...

    def savepoint(self) -> AbstractAsyncContextManager[None]:
        """A block undone alone if it raises (its writes and the events it emitted).

        The transaction goes on: for an insert that may lose a race to a concurrent request,
        where the loser then reads the winner's row.
        """
        ...
