"""Wire shapes of the admin API's operators and platforms."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec

from gamekeeper.api.dialects.admin.schemas import Name, Wire
from gamekeeper.core.identity.owners import MAX_PLATFORM_GAMES
from gamekeeper.core.identity.types import Operator, Platform

GameRefs = Annotated[
    list[Annotated[str, msgspec.Meta(min_length=1, max_length=64)]],
    msgspec.Meta(max_length=MAX_PLATFORM_GAMES),
]


class OperatorCreate(Wire):
    name: Name


class OperatorOut(Wire):
    id: str
    name: str
    created_at: datetime

    @classmethod
    def of(cls, value: Operator) -> OperatorOut:
        return cls(id=value.id, name=value.name, created_at=value.created_at)


class OperatorPage(Wire):
    items: list[OperatorOut]
    next_cursor: str | None


class PlatformCreate(Wire):
    name: Name
    games: GameRefs | None = None  # game ids or slugs


class PlatformOut(Wire):
    id: str
    name: str
    games: list[str]  # game ids
    created_at: datetime

    @classmethod
    def of(cls, value: Platform) -> PlatformOut:
        return cls(
            id=value.id, name=value.name, games=list(value.game_ids), created_at=value.created_at
        )


class PlatformPage(Wire):
    items: list[PlatformOut]
    next_cursor: str | None
