"""Identity events: keys and sessions that stop working, games that change."""

from __future__ import annotations

from dataclasses import dataclass

from gamekeeper.core.events.registry import EventType, Payload, register
from gamekeeper.core.uow import DomainEvent


@dataclass(frozen=True, slots=True)
class CredentialRevoked(DomainEvent):
    credential_id: str


@dataclass(frozen=True, slots=True)
class DeveloperSecretRotated(DomainEvent):
    developer_id: str


@dataclass(frozen=True, slots=True)
class SessionRevoked(DomainEvent):
    session_id: str


@dataclass(frozen=True, slots=True)
class GameChanged(DomainEvent):
    """A game's own fields (name, slug, URLs, settings) changed: views of it are stale."""

    game_id: str


class GameUpdated(Payload):
    game_id: str
    fields: list[str]


class KeyRevoked(Payload):
    key_id: str
    prefix: str
    kind: str


register(
    EventType("game.updated", GameUpdated, "A game's settings changed."),
    EventType("key.revoked", KeyRevoked, "One of the game's API keys was revoked."),
)
