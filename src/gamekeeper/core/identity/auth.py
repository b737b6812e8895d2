"""Resolving credentials to principals. Callers cache the results; these read storage."""

from __future__ import annotations

from typing import TYPE_CHECKING

from gamekeeper.core import audit
from gamekeeper.core.audit import Actor
from gamekeeper.core.identity.errors import GameNotFound, InvalidApiKey
from gamekeeper.core.identity.secrets import hash_secret
from gamekeeper.core.identity.types import KeyPrincipal

if TYPE_CHECKING:
    from gamekeeper.core.uow import UnitOfWork


async def resolve_key(uow: UnitOfWork, key_hash: str) -> KeyPrincipal | None:
    """The principal of an active key, by the key's SHA-256; None if unknown or revoked."""
    credential = await uow.identity.find_credential(key_hash)
    if credential is None or credential.revoked_at is not None:
        return None
    return KeyPrincipal(
        credential_id=credential.id,
        game_id=credential.game_id,
        kind=credential.kind,
        scopes=frozenset(credential.scopes),
    )


async def authenticate_key(uow: UnitOfWork, key: str) -> KeyPrincipal:
    """The principal of an active key, or InvalidApiKey."""
    principal = await resolve_key(uow, hash_secret(key))
    if principal is None:
        raise InvalidApiKey()
    return principal


async def record_auth_failure(
    uow: UnitOfWork, *, method: str, reason: str, actor: Actor, **details: str
) -> None:
    """Audit a refused credential; the entry stands although the request fails."""
    await audit.record(uow, "auth.failed", actor=actor, method=method, reason=reason, **details)
    uow.keep_on_error()


def ensure_game(principal: KeyPrincipal, game_id: str) -> None:
    """A key speaks for its own game only: another game's id is answered as not found."""
    if principal.game_id != game_id:
        raise GameNotFound()
