"""API keys: issued to an owner, shown once, stored hashed, revoked for good."""

from __future__ import annotations

import uuid

from gamekeeper.core import audit, validate
from gamekeeper.core.audit import Actor
from gamekeeper.core.events.outbox import record_event
from gamekeeper.core.identity.errors import CredentialNotFound, KeyKindNotAllowed, TooManyKeys
from gamekeeper.core.identity.events import CredentialRevoked, KeyRevoked
from gamekeeper.core.identity.owners import check_owner
from gamekeeper.core.identity.store import IdentityUow
from gamekeeper.core.identity.types import (
    DEFAULT_SCOPES,
    KEY_PREFIXES,
    OWNER_KEY_KINDS,
    TEST_MODE_PREFIX,
    Credential,
    IssuedKey,
    KeyKind,
)
from gamekeeper.core.owners.types import Owner
from gamekeeper.core.secrets import hash_secret, new_token

MAX_ACTIVE_KEYS_PER_OWNER = 100
KNOWN_SCOPES = frozenset(scope for scopes in DEFAULT_SCOPES.values() for scope in scopes)
VISIBLE_PREFIX_CHARS = 4  # random characters kept after the kind prefix, to tell keys apart


def new_key(kind: KeyKind, *, test_mode: bool = False) -> tuple[str, str]:
    """A new key of ``kind`` and its visible prefix (safe to display and log)."""
    kind_prefix = TEST_MODE_PREFIX if test_mode else KEY_PREFIXES[kind]
    key = kind_prefix + new_token()
    return key, key[: len(kind_prefix) + VISIBLE_PREFIX_CHARS]


async def issue_key(
    uow: IdentityUow,
    *,
    owner: Owner,
    kind: KeyKind,
    actor: Actor,
    scopes: list[str] | None = None,
    name: str | None = None,
    test_mode: bool = False,
) -> IssuedKey:
    """A new key for the owner; the secret is in the result and nowhere else."""
    await check_owner(uow, owner)
    if kind not in OWNER_KEY_KINDS[owner.kind]:
        allowed = ", ".join(sorted(OWNER_KEY_KINDS[owner.kind]))
        raise KeyKindNotAllowed(f"Keys of this {owner.kind.value} may be of kind {allowed} only")
    if test_mode and kind is not KeyKind.OPERATOR:
        raise KeyKindNotAllowed("Only operator keys have a test mode")
    if await uow.identity.count_active_credentials(owner) >= MAX_ACTIVE_KEYS_PER_OWNER:
        raise TooManyKeys()
    key, prefix = new_key(kind, test_mode=test_mode)
    credential = Credential(
        id=str(uuid.uuid4()),
        owner=owner,
        kind=kind,
        scopes=DEFAULT_SCOPES[kind] if scopes is None else validate.scopes(scopes, KNOWN_SCOPES),
        name=validate.name(name, field="key_name") if name else None,
        prefix=prefix,
        created_at=uow.now(),
        test_mode=test_mode,
    )
    await uow.identity.add_credential(credential, key_hash=hash_secret(key))
    await audit.record(
        uow,
        "key.issued",
        actor=actor,
        target_type="key",
        target_id=credential.id,
        kind=kind.value,
        prefix=prefix,
        **audit.owned_by(owner),
    )
    return IssuedKey(credential=credential, key=key)


async def list_keys(uow: IdentityUow, *, owner: Owner) -> list[Credential]:
    """The owner's keys, revoked ones included, without secrets."""
    await check_owner(uow, owner)
    return await uow.identity.list_credentials(owner)


async def revoke_key(uow: IdentityUow, *, key_id: str, actor: Actor) -> Credential:
    """Revoke a key; revoking a revoked key changes nothing."""
    credential = await uow.identity.get_credential(key_id)
    if credential is None:
        raise CredentialNotFound()
    if await uow.identity.revoke_credential(key_id, uow.now()):
        uow.emit(CredentialRevoked(key_id))
        await audit.record(
            uow,
            "key.revoked",
            actor=actor,
            target_type="key",
            target_id=key_id,
            prefix=credential.prefix,
            **audit.owned_by(credential.owner),
        )
        payload = KeyRevoked(key_id=key_id, prefix=credential.prefix, kind=credential.kind.value)
        await record_event(uow, "key.revoked", payload, owner=credential.owner, aggregate_id=key_id)
    return credential
