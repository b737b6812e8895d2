"""All tables, SQLAlchemy Core, on one metadata: a module per domain, each registered here.

Singular snake_case names; timestamps end in ``_at``. Foreign keys across domains name their
table as a string (``ForeignKey("game.id")``), so no domain module imports another.
"""

from __future__ import annotations

# Importing a domain's module registers its tables on the metadata: one line per domain.
from gamekeeper.db.tables import (
    accounts,  # noqa: F401
    audit,  # noqa: F401
    cast,  # noqa: F401
    catalog,  # noqa: F401
    events,  # noqa: F401
    identity,  # noqa: F401
    matchmaking,  # noqa: F401
    notify,  # noqa: F401
)
from gamekeeper.db.tables.base import metadata

# Migration 0003 names the type as ``gamekeeper.db.tables.Money``; migrations stay as written.
from gamekeeper.db.types import Money as Money

__all__ = ["metadata"]
