"""Domain events recorded by core services and dispatched once their transaction commits."""

from __future__ import annotations

from dataclasses import dataclass


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


DomainEvent = CredentialRevoked | DeveloperSecretRotated | SessionRevoked | OutboxRecorded
