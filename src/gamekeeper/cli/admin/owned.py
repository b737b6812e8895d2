"""What ``keys`` and ``webhooks`` share: the owner they belong to, and its path in the API."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer


class OwnerKind(StrEnum):
    game = "game"
    operator = "operator"
    platform = "platform"


OwnerOption = Annotated[OwnerKind, typer.Option("--owner", help="What kind of owner the id names.")]


def owner_path(kind: OwnerKind, owner_id: str) -> str:
    """The owner's path under ``/admin/v1``: ``/games/{id}``, ``/operators/{id}``, …"""
    return f"/{kind.value}s/{owner_id}"
