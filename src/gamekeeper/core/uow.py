"""The unit of work: one transaction, the stores that act inside it, and its events."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from datetime import datetime
from typing import Protocol

from gamekeeper.core.accounts.store import AccountStore
from gamekeeper.core.audit import AuditEntry
from gamekeeper.core.catalog.points import PointsStore
from gamekeeper.core.catalog.store import CatalogStore
from gamekeeper.core.events.domain import DomainEvent
from gamekeeper.core.events.store import EventStore
from gamekeeper.core.identity.store import IdentityStore
from gamekeeper.core.matchmaking.results import ResultStore
from gamekeeper.core.matchmaking.store import MatchmakingStore


class AuditStore(Protocol):
    async def append(self, entry: AuditEntry) -> None: ...

    async def list(self, *, limit: int, before: int | None) -> list[AuditEntry]: ...


class UnitOfWork(Protocol):
    @property
    def identity(self) -> IdentityStore: ...

    @property
    def audit(self) -> AuditStore: ...

    @property
    def catalog(self) -> CatalogStore: ...

    @property
    def points(self) -> PointsStore: ...

    @property
    def events(self) -> EventStore: ...

    @property
    def match_results(self) -> ResultStore: ...

    @property
    def accounts(self) -> AccountStore: ...

    @property
    def matchmaking(self) -> MatchmakingStore: ...

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
