"""The owner of a credential, webhook or event: a game, an operator or a platform."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class OwnerKind(StrEnum):
    """Who a credential, webhook or event belongs to."""

    GAME = "game"  # a game: its servers and test clients
    OPERATOR = "operator"  # a tournament organiser
    PLATFORM = "platform"  # a game platform hosting tournament rooms


@dataclass(frozen=True, slots=True)
class Owner:
    kind: OwnerKind
    id: str

    @classmethod
    def game(cls, game_id: str) -> Owner:
        return cls(OwnerKind.GAME, game_id)

    @property
    def game_id(self) -> str | None:
        """The game's id when the owner is a game, else None."""
        return self.id if self.kind is OwnerKind.GAME else None
