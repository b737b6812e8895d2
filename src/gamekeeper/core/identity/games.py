"""Developers, games and their credentials."""

from __future__ import annotations

import secrets
import uuid
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from gamekeeper.core import audit
from gamekeeper.core.audit import Actor
from gamekeeper.core.events import webhooks
from gamekeeper.core.events.domain import CatalogChanged, CredentialRevoked, DeveloperSecretRotated
from gamekeeper.core.events.outbox import record_event
from gamekeeper.core.events.registry import GameUpdated, KeyRevoked
from gamekeeper.core.identity import validate
from gamekeeper.core.identity.errors import (
    CredentialNotFound,
    DeveloperNotFound,
    GameNotFound,
    TooManyKeys,
)
from gamekeeper.core.identity.secrets import SecretBox, hash_secret, new_key, new_token
from gamekeeper.core.identity.types import (
    DEFAULT_SCOPES,
    Credential,
    Developer,
    Game,
    IssuedKey,
    KeyKind,
)

if TYPE_CHECKING:
    from gamekeeper.core.uow import UnitOfWork

MAX_ACTIVE_KEYS_PER_GAME = 100
KNOWN_SCOPES = frozenset(scope for scopes in DEFAULT_SCOPES.values() for scope in scopes)
# Fields of a game that PATCH may change; None clears the nullable ones.
UPDATABLE = frozenset(
    {"name", "slug", "developer_id", "game_url", "callback_url", "allowed_origins", "settings"}
)


async def create_developer(
    uow: UnitOfWork, *, name: str, email: str | None, box: SecretBox, actor: Actor
) -> tuple[Developer, str]:
    """A developer with a fresh HMAC secret; the secret is returned once, stored sealed."""
    developer = Developer(
        id=str(uuid.uuid4()),
        name=validate.name(name),
        email=validate.email(email) if email else None,
        created_at=uow.now(),
    )
    secret = new_token()
    await uow.identity.add_developer(
        developer, sealed_secret=box.seal(secret, context=developer.id)
    )
    await audit.record(
        uow, "developer.created", actor=actor, target_type="developer", target_id=developer.id
    )
    return developer, secret


async def get_developer(uow: UnitOfWork, developer_id: str) -> Developer:
    """The developer, or DeveloperNotFound."""
    developer = await uow.identity.get_developer(developer_id)
    if developer is None:
        raise DeveloperNotFound()
    return developer


async def developer_secret(uow: UnitOfWork, developer_id: str, *, box: SecretBox) -> str | None:
    """The developer's HMAC secret in clear, for verifying signatures; None if unknown."""
    sealed = await uow.identity.get_sealed_secret(developer_id)
    return None if sealed is None else box.open(sealed, context=developer_id)


async def rotate_developer_secret(
    uow: UnitOfWork, *, developer_id: str, box: SecretBox, actor: Actor
) -> str:
    """Replace the developer's HMAC secret; the old one stops working on commit."""
    await get_developer(uow, developer_id)
    secret = new_token()
    await uow.identity.set_sealed_secret(developer_id, box.seal(secret, context=developer_id))
    uow.emit(DeveloperSecretRotated(developer_id))
    await audit.record(
        uow,
        "developer.secret_rotated",
        actor=actor,
        target_type="developer",
        target_id=developer_id,
    )
    return secret


async def create_game(
    uow: UnitOfWork,
    *,
    name: str,
    box: SecretBox,
    actor: Actor,
    slug: str | None = None,
    **fields: Any,
) -> Game:
    """Register a game; the slug is derived from the name when not given."""
    if slug is None:
        slug = validate.slug_from_name(name)
        if await uow.identity.slug_exists(slug):
            slug = f"{slug[:43]}-{secrets.token_hex(2)}"
    now = uow.now()
    blank = Game(
        id=str(uuid.uuid4()),
        slug=slug,
        name=name,
        developer_id=None,
        game_url=None,
        callback_url=None,
        allowed_origins=(),
        settings={},
        created_at=now,
        updated_at=now,
    )
    game = await _apply(uow, blank, {"name": name, "slug": slug, **fields})
    await uow.identity.add_game(game)
    await audit.record(
        uow, "game.created", actor=actor, target_type="game", target_id=game.id, game_id=game.id
    )
    await webhooks.sync_game_callback(uow, game, box=box, actor=actor)
    return game


async def get_game(uow: UnitOfWork, game_id: str) -> Game:
    """The game, or GameNotFound."""
    game = await uow.identity.get_game(game_id)
    if game is None:
        raise GameNotFound()
    return game


async def list_games(uow: UnitOfWork, *, limit: int, after: str | None) -> list[Game]:
    """Games ordered by id; ``after`` is the last id of the previous page."""
    return await uow.identity.list_games(limit=limit, after=after)


async def update_game(
    uow: UnitOfWork, *, game_id: str, changes: dict[str, Any], box: SecretBox, actor: Actor
) -> Game:
    """Change the given fields; ``settings`` merge per dialect, each dialect's value whole."""
    game = await get_game(uow, game_id)
    updated = replace(await _apply(uow, game, changes), updated_at=uow.now())
    await uow.identity.update_game(updated)
    uow.emit(CatalogChanged())  # a listed game shows the game's name, slug and URLs
    await audit.record(
        uow,
        "game.updated",
        actor=actor,
        target_type="game",
        target_id=game_id,
        game_id=game_id,
        fields=sorted(changes),
    )
    await webhooks.sync_game_callback(uow, updated, box=box, actor=actor)
    payload = GameUpdated(game_id=game_id, fields=sorted(changes))
    await record_event(uow, "game.updated", payload, game_id=game_id, aggregate_id=game_id)
    return updated


async def _apply(uow: UnitOfWork, game: Game, changes: dict[str, Any]) -> Game:
    unknown = set(changes) - UPDATABLE
    if unknown:
        raise ValueError(f"not game fields: {sorted(unknown)}")
    values: dict[str, Any] = {}
    if "name" in changes:
        values["name"] = validate.name(changes["name"])
    if "slug" in changes:
        values["slug"] = validate.slug(changes["slug"])
    if changes.get("developer_id") is not None:
        values["developer_id"] = (await get_developer(uow, changes["developer_id"])).id
    elif "developer_id" in changes:
        values["developer_id"] = None
    for url_field in ("game_url", "callback_url"):
        if url_field in changes:
            url = changes[url_field]
            values[url_field] = None if url is None else validate.http_url(url, field=url_field)
    if "allowed_origins" in changes:
        origins = changes["allowed_origins"] or []
        values["allowed_origins"] = tuple(dict.fromkeys(validate.origin(o) for o in origins))
    if "settings" in changes:
        values["settings"] = {**game.settings, **(changes["settings"] or {})}
    return replace(game, **values)


async def issue_key(
    uow: UnitOfWork,
    *,
    game_id: str,
    kind: KeyKind,
    actor: Actor,
    scopes: list[str] | None = None,
    name: str | None = None,
) -> IssuedKey:
    """A new key for the game; the secret is in the result and nowhere else."""
    await get_game(uow, game_id)
    if await uow.identity.count_active_credentials(game_id) >= MAX_ACTIVE_KEYS_PER_GAME:
        raise TooManyKeys()
    key, prefix = new_key(kind)
    credential = Credential(
        id=str(uuid.uuid4()),
        game_id=game_id,
        kind=kind,
        scopes=DEFAULT_SCOPES[kind] if scopes is None else validate.scopes(scopes, KNOWN_SCOPES),
        name=validate.name(name, field="key_name") if name else None,
        prefix=prefix,
        created_at=uow.now(),
    )
    await uow.identity.add_credential(credential, key_hash=hash_secret(key))
    await audit.record(
        uow,
        "key.issued",
        actor=actor,
        target_type="key",
        target_id=credential.id,
        game_id=game_id,
        kind=kind.value,
        prefix=prefix,
    )
    return IssuedKey(credential=credential, key=key)


async def list_keys(uow: UnitOfWork, *, game_id: str) -> list[Credential]:
    """The game's keys, revoked ones included, without secrets."""
    await get_game(uow, game_id)
    return await uow.identity.list_credentials(game_id)


async def revoke_key(uow: UnitOfWork, *, key_id: str, actor: Actor) -> Credential:
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
            game_id=credential.game_id,
            prefix=credential.prefix,
        )
        payload = KeyRevoked(key_id=key_id, prefix=credential.prefix, kind=credential.kind.value)
        await record_event(
            uow, "key.revoked", payload, game_id=credential.game_id, aggregate_id=key_id
        )
    return credential
