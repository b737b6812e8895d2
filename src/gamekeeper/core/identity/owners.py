"""Owners beyond games: tournament operators and game platforms.

Credentials, webhooks and events belong to an owner (``Owner``): a game, an operator or a
platform. A key reads its own owner's data only.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from gamekeeper.core import audit, validate
from gamekeeper.core.audit import Actor
from gamekeeper.core.errors import InvalidInput
from gamekeeper.core.identity.errors import GameNotFound, OperatorNotFound, PlatformNotFound
from gamekeeper.core.identity.games import get_game
from gamekeeper.core.identity.store import IdentityUow
from gamekeeper.core.identity.types import Game, Operator, Platform
from gamekeeper.core.owners.types import Owner, OwnerKind

MAX_PLATFORM_GAMES = 1000


async def create_operator(uow: IdentityUow, *, name: str, actor: Actor) -> Operator:
    """A tournament operator; it gets its keys and webhooks afterwards."""
    operator = Operator(id=str(uuid.uuid4()), name=validate.name(name), created_at=uow.now())
    await uow.owners.add_operator(operator)
    await audit.record(
        uow, "operator.created", actor=actor, target_type="operator", target_id=operator.id
    )
    return operator


async def get_operator(uow: IdentityUow, operator_id: str) -> Operator:
    """The operator, or OperatorNotFound."""
    operator = await uow.owners.get_operator(operator_id)
    if operator is None:
        raise OperatorNotFound()
    return operator


async def list_operators(uow: IdentityUow, *, limit: int, after: str | None) -> list[Operator]:
    """Operators, oldest first; ``after`` is the last id of the previous page."""
    return await uow.owners.list_operators(limit=limit, after=after)


async def create_platform(
    uow: IdentityUow, *, name: str, games: Sequence[str] = (), actor: Actor
) -> Platform:
    """A game platform hosting the given games (each named by id or slug)."""
    if len(games) > MAX_PLATFORM_GAMES:
        raise InvalidInput(f"a platform lists at most {MAX_PLATFORM_GAMES} games", code="too_many")
    found = [await _game_by_id_or_slug(uow, ref) for ref in games]
    platform = Platform(
        id=str(uuid.uuid4()),
        name=validate.name(name),
        created_at=uow.now(),
        game_ids=tuple(sorted({game.id for game in found})),
    )
    await uow.owners.add_platform(platform)
    await audit.record(
        uow,
        "platform.created",
        actor=actor,
        target_type="platform",
        target_id=platform.id,
        games=list(platform.game_ids),
    )
    return platform


async def get_platform(uow: IdentityUow, platform_id: str) -> Platform:
    """The platform, or PlatformNotFound."""
    platform = await uow.owners.get_platform(platform_id)
    if platform is None:
        raise PlatformNotFound()
    return platform


async def list_platforms(uow: IdentityUow, *, limit: int, after: str | None) -> list[Platform]:
    """Platforms, oldest first; ``after`` is the last id of the previous page."""
    return await uow.owners.list_platforms(limit=limit, after=after)


async def check_owner(uow: IdentityUow, owner: Owner) -> None:
    """Raise the owner kind's NotFound unless the owner exists."""
    match owner.kind:
        case OwnerKind.GAME:
            await get_game(uow, owner.id)
        case OwnerKind.OPERATOR:
            await get_operator(uow, owner.id)
        case OwnerKind.PLATFORM:
            await get_platform(uow, owner.id)


async def _game_by_id_or_slug(uow: IdentityUow, ref: str) -> Game:
    game = await uow.identity.get_game(ref) or await uow.identity.get_game_by_slug(ref)
    if game is None:
        raise GameNotFound(f"No game with the id or slug {ref!r}")
    return game
