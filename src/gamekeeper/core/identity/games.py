"""Developers, games and their credentials."""

from __future__ import annotations

import secrets
import uuid
from dataclasses import replace
from typing import Any

from gamekeeper.core import audit, validate
from gamekeeper.core.audit import Actor
from gamekeeper.core.events.outbox import record_event
from gamekeeper.core.events.store import WebhookFormat
from gamekeeper.core.events.webhooks import UrlRefusal, create_webhook, reachable
from gamekeeper.core.identity.errors import (
    DeveloperNotFound,
    GameNotFound,
)
from gamekeeper.core.identity.events import (
    DeveloperSecretRotated,
    GameChanged,
    GameUpdated,
)
from gamekeeper.core.identity.store import IdentityUow
from gamekeeper.core.identity.types import (
    Developer,
    Game,
)
from gamekeeper.core.owners.types import Owner
from gamekeeper.core.secrets import SecretBox, new_token

# Fields of a game that PATCH may change; None clears the nullable ones.
UPDATABLE = frozenset(
    {"name", "slug", "developer_id", "game_url", "callback_url", "allowed_origins", "settings"}
)


async def create_developer(
    uow: IdentityUow, *, name: str, email: str | None, box: SecretBox, actor: Actor
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


async def get_developer(uow: IdentityUow, developer_id: str) -> Developer:
    """The developer, or DeveloperNotFound."""
    developer = await uow.identity.get_developer(developer_id)
    if developer is None:
        raise DeveloperNotFound()
    return developer


async def list_developers(uow: IdentityUow, *, limit: int, after: str | None) -> list[Developer]:
    """Developers, oldest first; ``after`` is the last id of the previous page."""
    return await uow.identity.list_developers(limit=limit, after=after)


async def developer_secret(uow: IdentityUow, developer_id: str, *, box: SecretBox) -> str | None:
    """The developer's HMAC secret in clear, for verifying signatures; None if unknown."""
    sealed = await uow.identity.get_sealed_secret(developer_id)
    return None if sealed is None else box.open(sealed, context=developer_id)


async def rotate_developer_secret(
    uow: IdentityUow, *, developer_id: str, box: SecretBox, actor: Actor
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
    uow: IdentityUow,
    *,
    name: str,
    box: SecretBox,
    actor: Actor,
    slug: str | None = None,
    refusal: UrlRefusal | None = None,
    **fields: Any,
) -> Game:
    """Register a game; the slug is derived from the name when not given.

    ``refusal`` says why a callbackUrl could never be delivered to (``WebhookUrlUnreachable``).
    """
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
    game = await _apply(uow, blank, {"name": name, "slug": slug, **fields}, refusal)
    await uow.identity.add_game(game)
    await audit.record(
        uow, "game.created", actor=actor, target_type="game", target_id=game.id, game_id=game.id
    )
    await sync_game_callback(uow, game, box=box, actor=actor)
    return game


async def get_game(uow: IdentityUow, game_id: str) -> Game:
    """The game, or GameNotFound."""
    game = await uow.identity.get_game(game_id)
    if game is None:
        raise GameNotFound()
    return game


async def list_games(uow: IdentityUow, *, limit: int, after: str | None) -> list[Game]:
    """Games, oldest first; ``after`` is the last id of the previous page."""
    return await uow.identity.list_games(limit=limit, after=after)


async def update_game(
    uow: IdentityUow,
    *,
    game_id: str,
    changes: dict[str, Any],
    box: SecretBox,
    actor: Actor,
    refusal: UrlRefusal | None = None,
) -> Game:
    """Change the given fields; ``settings`` merge per dialect, each dialect's value whole."""
    game = await get_game(uow, game_id)
    updated = replace(await _apply(uow, game, changes, refusal), updated_at=uow.now())
    await uow.identity.update_game(updated)
    uow.emit(GameChanged(game_id))  # a listed game shows the game's name, slug and URLs
    await audit.record(
        uow,
        "game.updated",
        actor=actor,
        target_type="game",
        target_id=game_id,
        game_id=game_id,
        fields=sorted(changes),
    )
    await sync_game_callback(uow, updated, box=box, actor=actor)
    payload = GameUpdated(game_id=game_id, fields=sorted(changes))
    await record_event(
        uow, "game.updated", payload, owner=Owner.game(game_id), aggregate_id=game_id
    )
    return updated


async def _apply(
    uow: IdentityUow, game: Game, changes: dict[str, Any], refusal: UrlRefusal | None = None
) -> Game:
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
    if changes.get("game_url") is not None:
        values["game_url"] = validate.http_url(changes["game_url"], field="game_url")
    elif "game_url" in changes:
        values["game_url"] = None
    if changes.get("callback_url") is not None:  # becomes a webhook: deliverable, or refused
        values["callback_url"] = reachable(changes["callback_url"], refusal, field="callback_url")
    elif "callback_url" in changes:
        values["callback_url"] = None
    if "allowed_origins" in changes:
        origins = changes["allowed_origins"] or []
        values["allowed_origins"] = tuple(dict.fromkeys(validate.origin(o) for o in origins))
    if "settings" in changes:
        values["settings"] = {**game.settings, **(changes["settings"] or {})}
    return replace(game, **values)


async def sync_game_callback(uow: IdentityUow, game: Game, *, box: SecretBox, actor: Actor) -> None:
    """Keep the game's callbackUrl as a form webhook to every event."""
    current = await uow.events.managed_webhook(game.id)
    if game.callback_url is None:
        if current is not None:
            await uow.events.delete_webhook(current.id)
        return
    if current is None:
        await create_webhook(
            uow, owner=Owner.game(game.id), url=game.callback_url, box=box, actor=actor,
            fmt=WebhookFormat.FORM, managed=True,
        )  # fmt: skip
    elif current.url != game.callback_url:
        await uow.events.update_webhook(
            replace(current, url=game.callback_url, updated_at=uow.now())
        )
