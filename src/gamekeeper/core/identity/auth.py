"""Resolving credentials to principals. Callers cache the results; these read storage."""

from __future__ import annotations

from gamekeeper.core import audit
from gamekeeper.core.audit import Actor
from gamekeeper.core.identity.errors import GameNotFound, InvalidApiKey
from gamekeeper.core.identity.store import IdentityUow
from gamekeeper.core.identity.types import KeyPrincipal
from gamekeeper.core.owners.types import Owner
from gamekeeper.core.secrets import hash_secret


async def resolve_key(uow: IdentityUow, key_hash: str) -> KeyPrincipal | None:
    """The principal of an active key, by the key's SHA-256; None if unknown or revoked."""
    credential = await uow.identity.find_credential(key_hash)
    if credential is None or credential.revoked_at is not None:
        return None
    return KeyPrincipal(
        credential_id=credential.id,
        owner=credential.owner,
        kind=credential.kind,
        scopes=frozenset(credential.scopes),
        test_mode=credential.test_mode,
    )


async def authenticate_key(uow: IdentityUow, key: str) -> KeyPrincipal:
    """The principal of an active key, or InvalidApiKey."""
    principal = await resolve_key(uow, hash_secret(key))
    if principal is None:
        raise InvalidApiKey()
    return principal


async def record_auth_failure(
    uow: IdentityUow, *, method: str, reason: str, actor: Actor, **details: str
) -> None:
    """Audit a refused credential; the entry stands although the request fails."""
    await audit.record(uow, "auth.failed", actor=actor, method=method, reason=reason, **details)
    uow.keep_on_error()


def ensure_game(principal: KeyPrincipal, game_id: str) -> None:
    """A key speaks for its own game only: another game's id is answered as not found."""
    if principal.owner != Owner.game(game_id):
        raise GameNotFound()
