"""Players and the outside identities linked to them."""

from __future__ import annotations

import uuid

from gamekeeper.core import audit, validate
from gamekeeper.core.audit import Actor
from gamekeeper.core.errors import InvalidInput
from gamekeeper.core.identity.errors import IdentityTaken, PlayerNotFound
from gamekeeper.core.identity.store import IdentityUow
from gamekeeper.core.identity.types import Player, PlayerIdentity
from gamekeeper.core.secrets import hash_password

PROVIDERS = frozenset({"game_user", "itch", "steam", "test", "email", "device"})
MAX_SUBJECT = 255


async def create_player(
    uow: IdentityUow,
    *,
    actor: Actor,
    email: str | None = None,
    password: str | None = None,
    display_name: str | None = None,
) -> Player:
    """A player; all fields are optional (a guest has none)."""
    password_hash = await hash_password(validate.password(password)) if password else None
    player = Player(
        id=str(uuid.uuid4()),
        email=validate.email(email) if email else None,
        display_name=validate.name(display_name, field="display_name") if display_name else None,
        verified=False,
        created_at=uow.now(),
        has_password=password_hash is not None,
    )
    await uow.identity.add_player(player, password_hash=password_hash)
    await audit.record(
        uow, "player.created", actor=actor, target_type="player", target_id=player.id
    )
    return player


async def get_player(uow: IdentityUow, player_id: str) -> Player:
    """The player, or PlayerNotFound."""
    player = await uow.identity.get_player(player_id)
    if player is None:
        raise PlayerNotFound()
    return player


async def list_players(uow: IdentityUow, *, limit: int, after: str | None) -> list[Player]:
    """Players, oldest first; ``after`` is the last id of the previous page."""
    return await uow.identity.list_players(limit=limit, after=after)


def _identity_key(provider: str, subject: str) -> tuple[str, str]:
    if provider not in PROVIDERS:
        raise InvalidInput(f"unknown identity provider {provider!r}", code="invalid_provider")
    subject = subject.strip()
    if not subject or len(subject) > MAX_SUBJECT:
        raise InvalidInput(
            f"identity subject must be 1 to {MAX_SUBJECT} characters", code="invalid_subject"
        )
    return provider, subject


async def link_identity(
    uow: IdentityUow,
    *,
    player_id: str,
    provider: str,
    subject: str,
    game_id: str | None = None,
) -> PlayerIdentity:
    """Link an outside identity (scoped to a game when ``game_id`` is given) to a player."""
    provider, subject = _identity_key(provider, subject)
    await get_player(uow, player_id)
    if await uow.identity.find_identity(provider, subject, game_id) is not None:
        raise IdentityTaken()
    identity = PlayerIdentity(
        id=str(uuid.uuid4()),
        player_id=player_id,
        provider=provider,
        subject=subject,
        game_id=game_id,
        created_at=uow.now(),
    )
    await uow.identity.add_identity(identity)
    return identity


async def player_for_identity(
    uow: IdentityUow,
    *,
    provider: str,
    subject: str,
    game_id: str | None = None,
    display_name: str | None = None,
    actor: Actor,
) -> tuple[Player, bool]:
    """The player behind an identity, created on first sight; the flag tells if it is new."""
    provider, subject = _identity_key(provider, subject)
    existing = await uow.identity.find_identity(provider, subject, game_id)
    if existing is not None:
        return await get_player(uow, existing.player_id), False
    try:
        async with uow.savepoint():
            player = await create_player(uow, actor=actor, display_name=display_name)
            await link_identity(
                uow, player_id=player.id, provider=provider, subject=subject, game_id=game_id
            )
    except IdentityTaken:
        # A concurrent first sign-in of the same identity committed first: its player it is.
        existing = await uow.identity.find_identity(provider, subject, game_id)
        if existing is None:
            raise
        return await get_player(uow, existing.player_id), False
    return player, True
