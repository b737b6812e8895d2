"""A player's push devices: register (again), list, remove.

A device token is a secret: it is stored sealed (``SecretBox``, the token's hash as context)
and found by its SHA-256. Registering a known token updates that one row (its player, topics and
app) and makes it active again.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence

from gamekeeper.core import validate
from gamekeeper.core.errors import InvalidInput, NotFound
from gamekeeper.core.notify import tokens
from gamekeeper.core.notify.errors import DeviceNotFound, TooManyDevices
from gamekeeper.core.notify.store import NotifyUow
from gamekeeper.core.notify.types import Device, NewDevice, Platform
from gamekeeper.core.secrets import SecretBox, hash_secret

MAX_DEVICES_PER_PLAYER = 20
MAX_TOPICS = 50
TOPIC = re.compile(r"[A-Za-z0-9_.:\-]{1,64}")


def token_context(token_hash: str) -> str:
    """The ``SecretBox`` context a device token is sealed under."""
    return f"push-device:{token_hash}"


def _platform(value: str) -> Platform:
    try:
        return Platform(value)
    except ValueError:
        message = "platform must be ios, android or web"
        raise InvalidInput(message, code="invalid_platform") from None


def _topics(values: Sequence[str] | None) -> tuple[str, ...] | None:
    if values is None:
        return None
    if len(values) > MAX_TOPICS or not all(TOPIC.fullmatch(v) for v in values):
        raise InvalidInput(
            f"topics are at most {MAX_TOPICS} notification types of 1 to 64 letters, digits"
            " or _.:-",
            code="invalid_topics",
        )
    return tuple(dict.fromkeys(values))


async def register_device(
    uow: NotifyUow,
    *,
    player_id: str,
    platform: str,
    token: object,
    topics: Sequence[str] | None,
    game_id: str | None,
    box: SecretBox,
) -> Device:
    """Register a device for the player, or update the one with the same token."""
    kind = _platform(platform)
    provider, stored = tokens.device_token(kind, token)
    wanted = _topics(topics)
    if game_id is not None and (
        not validate.is_uuid(game_id) or await uow.identity.get_game(game_id) is None
    ):
        raise NotFound("no game with that id", code="game_not_found")
    token_hash = hash_secret(stored)
    known = await uow.notify.get_device_by_hash(token_hash)
    if (known is None or known.player_id != player_id) and await uow.notify.count_devices(
        player_id
    ) >= MAX_DEVICES_PER_PLAYER:
        raise TooManyDevices()
    now = uow.now()
    device = Device(
        id=str(uuid.uuid4()),
        player_id=player_id,
        platform=kind,
        provider=provider,
        topics=wanted,
        active=True,
        created_at=now,
        updated_at=now,
        game_id=game_id,
    )
    sealed = box.seal(stored, context=token_context(token_hash))
    return await uow.notify.upsert_device(
        NewDevice(device=device, token_hash=token_hash, sealed_token=sealed)
    )


async def list_devices(uow: NotifyUow, *, player_id: str) -> list[Device]:
    return await uow.notify.list_devices(player_id, limit=MAX_DEVICES_PER_PLAYER)


async def remove_device(uow: NotifyUow, *, player_id: str, device_id: str) -> None:
    """Remove one of the player's devices (its token is deleted); another's is not found."""
    device = await uow.notify.get_device(device_id) if validate.is_uuid(device_id) else None
    if device is None or device.player_id != player_id:
        raise DeviceNotFound()
    await uow.notify.delete_device(device_id)
