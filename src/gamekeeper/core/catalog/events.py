"""Catalog events."""

from __future__ import annotations

from dataclasses import dataclass

from gamekeeper.core.uow import DomainEvent


@dataclass(frozen=True, slots=True)
class CatalogChanged(DomainEvent):
    """A listed game changed (listing, game fields, tokens, split identities): cached public
    reads of the catalog are stale."""
