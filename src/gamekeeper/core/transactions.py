"""How a flow of several steps opens its own units of work: the ``Transactions`` protocol.

A service takes the one unit of work its request opened. A flow that must hold no
transaction across a slow step (asking itch.io or Steam, fetching a page, storing a blob)
takes ``Transactions`` instead and opens a short unit of work for each step that needs
storage. ``gamekeeper.db.database.Database`` satisfies it structurally; each flow names the
unit of work its steps use (``Transactions[AccountsUow]``). ``within(uow)`` runs every step
of a flow in one unit of work that is open already.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Generic, Protocol, TypeVar

__all__ = ["Transactions", "within"]

U = TypeVar("U", covariant=True)
W = TypeVar("W")


class Transactions(Protocol[U]):
    def transaction(self, *, write: bool = True) -> AbstractAsyncContextManager[U]:
        """A transaction: committed when the block ends, rolled back if it raises."""
        ...

    def read(self) -> AbstractAsyncContextManager[U]:
        """Reads only; on PostgreSQL without a transaction (each statement sees the latest)."""
        ...

    def autocommit(self) -> AbstractAsyncContextManager[U]:
        """A change of one statement, committed alone."""
        ...


class _Within(Generic[W]):
    def __init__(self, uow: W) -> None:
        self._uow = uow

    @asynccontextmanager
    async def _same(self) -> AsyncIterator[W]:
        yield self._uow

    def transaction(self, *, write: bool = True) -> AbstractAsyncContextManager[W]:
        return self._same()

    def read(self) -> AbstractAsyncContextManager[W]:
        return self._same()

    def autocommit(self) -> AbstractAsyncContextManager[W]:
        return self._same()


def within(uow: W) -> Transactions[W]:
    """Every step of a flow in ``uow``, a unit of work the caller has open already."""
    return _Within(uow)
