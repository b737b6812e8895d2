"""Domain events recorded by core services and dispatched once their transaction commits."""

from __future__ import annotations

from dataclasses import dataclass

from gamekeeper.core.matchmaking.types import GameServer, MatchRequest


@dataclass(frozen=True, slots=True)
class CredentialRevoked:
    credential_id: str


@dataclass(frozen=True, slots=True)
class DeveloperSecretRotated:
    developer_id: str


@dataclass(frozen=True, slots=True)
class SessionRevoked:
    session_id: str


@dataclass(frozen=True, slots=True)
class OutboxRecorded:
    """Deliveries are waiting: wake the relay."""


@dataclass(frozen=True, slots=True)
class CatalogChanged:
    """A listed game changed (listing, game fields, tokens, split identities): cached public
    reads of the catalog are stale."""


@dataclass(frozen=True, slots=True)
class MatchRequestPlaced:
    """A match request joined the queue: the engine leading its game must take it in."""

    request: MatchRequest


@dataclass(frozen=True, slots=True)
class MatchRequestCancelled:
    game_id: str
    request_id: str


@dataclass(frozen=True, slots=True)
class GameServerChanged:
    """A dedicated server registered, renewed, left (expires now) or finished its session."""

    server: GameServer


DomainEvent = (
    CredentialRevoked
    | DeveloperSecretRotated
    | SessionRevoked
    | OutboxRecorded
    | CatalogChanged
    | MatchRequestPlaced
    | MatchRequestCancelled
    | GameServerChanged
)
