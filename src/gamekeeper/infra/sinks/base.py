"""What every sink shares: the protocol, the body builder type, encoding and failure reasons."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol

import msgspec

from gamekeeper.core.events.types import Event

Body = Callable[[Event], dict[str, Any]]
"""Builds the JSON body of an event; ``Event.envelope`` unless a dialect needs its own shape."""


class Sink(Protocol):
    name: str

    async def start(self) -> None:
        """Connect and check the destination; raise ``Unavailable`` if it cannot be reached."""

    async def close(self) -> None: ...

    async def publish(self, events: Sequence[Event]) -> list[str | None]:
        """Per event, in order: ``None`` when the broker accepted it, else why not."""
        ...


def encode(body: Body, event: Event) -> bytes:
    return msgspec.json.encode(body(event))


def describe(exc: BaseException) -> str:
    """A one-line reason for a failed delivery."""
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
