"""Guest accounts keyed by a device id, as mobile games use them.

The device id is the credential: it is stored as its SHA-256 (like API keys), so signing in
costs one hash and one indexed read, and no password hashing. A sign-in is one statement:
the read of the device's player, which also stores the session and its refresh token (on
PostgreSQL; SQLite runs three, without round trips). The first sign-in of a device inserts
the player and its identity at once, and if a simultaneous first sign-in of the same device
got there first, signs in as that request's player.

Audit: a new device (a new guest player) is recorded as ``player.created``; a sign-in with a
known device is not, as a request with an API key is not: the device id is a bearer secret
that cannot be guessed wrong in a way worth counting (an unknown id makes a new guest), and
each sign-in leaves its session row (player, time). Sign-ins with passwords and mailed codes,
and their failures, are audited.
"""

from __future__ import annotations

import uuid

from gamekeeper.core import audit, validate
from gamekeeper.core.accounts.errors import DeviceSignInRaced
from gamekeeper.core.accounts.sessions import open_session
from gamekeeper.core.accounts.store import AccountsUow
from gamekeeper.core.accounts.types import AccountContext, AccountSession
from gamekeeper.core.audit import Actor
from gamekeeper.core.errors import InvalidInput
from gamekeeper.core.identity import sessions
from gamekeeper.core.identity.types import Player, PlayerIdentity
from gamekeeper.core.secrets import hash_secret
from gamekeeper.core.transactions import Transactions, within

PROVIDER = "device"
MIN_DEVICE_ID, MAX_DEVICE_ID = 10, 128


def device_hash(device_id: str) -> str:
    if not MIN_DEVICE_ID <= len(device_id) <= MAX_DEVICE_ID or not device_id.isprintable():
        raise InvalidInput(
            f"deviceId must be {MIN_DEVICE_ID} to {MAX_DEVICE_ID} printable characters",
            code="invalid_device_id",
        )
    return hash_secret(device_id)


async def sign_in_device(
    uow: AccountsUow,
    *,
    device_id: str,
    ip: str | None,
    ctx: AccountContext,
    display_name: str | None = None,
) -> AccountSession:
    """Sign in with a device id, in ``uow``; the first sign-in creates the (guest) player."""
    return await sign_in_with_device(
        within(uow), device_id=device_id, ip=ip, ctx=ctx, display_name=display_name
    )


async def sign_in_with_device(
    db: Transactions[AccountsUow],
    *,
    device_id: str,
    ip: str | None,
    ctx: AccountContext,
    display_name: str | None = None,
) -> AccountSession:
    """Sign in with a device id: a known device in one statement committed alone, a new one
    (a new guest player) in a transaction."""
    async with db.autocommit() as uow:
        known = await sign_in_known_device(uow, device_id=device_id, ctx=ctx)
    if known is not None:
        return known
    async with db.transaction() as uow:
        return await sign_up_device(
            uow, device_id=device_id, ip=ip, ctx=ctx, display_name=display_name
        )


async def sign_in_known_device(
    uow: AccountsUow, *, device_id: str, ctx: AccountContext
) -> AccountSession | None:
    """Sign in with a device id that has a player, in one statement; None (nothing stored)
    if the device is new."""
    policy = ctx.policy.session
    session = sessions.new_session(policy, uow.now())
    player = await uow.accounts.sign_in_device(device_hash(device_id), session)
    if player is None:
        return None
    return AccountSession(player, sessions.session_tokens(policy, session, player.id))


async def sign_up_device(
    uow: AccountsUow,
    *,
    device_id: str,
    ip: str | None,
    ctx: AccountContext,
    display_name: str | None = None,
) -> AccountSession:
    """The first sign-in of a device: a new guest player (or, if a simultaneous first sign-in
    of the device registered one meanwhile, that player)."""
    player = await _sign_up(uow, device_hash(device_id), ip=ip, display_name=display_name)
    if player is not None:
        return await open_session(uow, player, ctx=ctx, ip=ip, created=True, audited=False)
    known = await sign_in_known_device(uow, device_id=device_id, ctx=ctx)
    if known is None:
        raise DeviceSignInRaced()
    return known


async def _sign_up(
    uow: AccountsUow, subject: str, *, ip: str | None, display_name: str | None
) -> Player | None:
    """A new guest player for the device, or None if another request registered it first."""
    now = uow.now()
    player = Player(
        id=str(uuid.uuid4()),
        email=None,
        display_name=validate.name(display_name, field="display_name") if display_name else None,
        verified=False,
        created_at=now,
    )
    identity = PlayerIdentity(
        id=str(uuid.uuid4()),
        player_id=player.id,
        provider=PROVIDER,
        subject=subject,
        game_id=None,
        created_at=now,
    )
    if not await uow.accounts.add_device_player(player, identity):
        return None
    await audit.record(
        uow,
        "player.created",
        actor=Actor("anonymous", ip=ip),
        target_type="player",
        target_id=player.id,
        provider=PROVIDER,
    )
    return player
