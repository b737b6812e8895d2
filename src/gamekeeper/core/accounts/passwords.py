"""Email and password accounts: sign-up, sign-in, adding credentials to a guest, changes."""

from __future__ import annotations

from gamekeeper.core import audit, validate
from gamekeeper.core.accounts import limits
from gamekeeper.core.accounts.codes import send_code
from gamekeeper.core.accounts.errors import AccountHasEmail, InvalidCredentials, WrongPassword
from gamekeeper.core.accounts.sessions import open_session
from gamekeeper.core.accounts.store import AccountsUow
from gamekeeper.core.accounts.types import AccountContext, AccountSession
from gamekeeper.core.audit import Actor
from gamekeeper.core.identity.errors import EmailTaken
from gamekeeper.core.identity.events import SessionRevoked
from gamekeeper.core.identity.players import create_player, get_player
from gamekeeper.core.identity.types import Player, PlayerPrincipal
from gamekeeper.core.secrets import hash_password, verify_password

_dummy_hash: str | None = None


async def _check_password(password_hash: str | None, password: str) -> bool:
    """Verify; with no hash, spend the same time on a dummy one (no account enumeration)."""
    global _dummy_hash
    if password_hash is None:
        if _dummy_hash is None:
            _dummy_hash = await hash_password("not a password of anyone")
        await verify_password(_dummy_hash, password)
        return False
    return await verify_password(password_hash, password)


async def sign_up(
    uow: AccountsUow,
    *,
    email: str,
    password: str,
    ip: str | None,
    ctx: AccountContext,
    display_name: str | None = None,
) -> AccountSession:
    """Create a player with email and password, mail a verification code, open a session."""
    address = validate.email(email)
    validate.password(password)
    if await uow.accounts.find_by_email(address) is not None:
        raise EmailTaken()
    player = await create_player(
        uow,
        actor=Actor("anonymous", ip=ip),
        email=address,
        password=password,
        display_name=display_name,
    )
    await send_code(uow, ctx, player=player, purpose="verify_email")
    return await open_session(uow, player, ctx=ctx, ip=ip)


async def sign_in(
    uow: AccountsUow, *, email: str, password: str, ip: str | None, ctx: AccountContext
) -> AccountSession:
    """Sign in with email and password; failures are counted per account and per address."""
    address = validate.email(email)
    await limits.refuse_if_locked(ctx, account=address, ip=ip)
    found = await uow.accounts.find_by_email(address)
    if not await _check_password(found[1] if found else None, password) or found is None:
        await limits.record_failure(uow, ctx, account=address, ip=ip, method="password")
        raise InvalidCredentials()
    await limits.forget_failures(ctx, account=address)
    return await open_session(uow, found[0], ctx=ctx, ip=ip)


async def add_credentials(
    uow: AccountsUow,
    *,
    principal: PlayerPrincipal,
    email: str,
    password: str,
    ip: str | None,
    ctx: AccountContext,
) -> Player:
    """Give a guest (device) account an email and password; a verification code is mailed."""
    address = validate.email(email)
    password_hash = await hash_password(validate.password(password))
    if await uow.accounts.find_by_email(address) is not None:
        raise EmailTaken()
    if not await uow.accounts.set_email(principal.player_id, address, password_hash):
        raise AccountHasEmail()
    player = await get_player(uow, principal.player_id)
    await send_code(uow, ctx, player=player, purpose="verify_email")
    await audit.record(
        uow,
        "credentials.added",
        actor=Actor("player", player.id, ip),
        target_type="player",
        target_id=player.id,
    )
    return player


async def change_password(
    uow: AccountsUow,
    *,
    principal: PlayerPrincipal,
    current_password: str | None,
    new_password: str,
    ip: str | None,
    ctx: AccountContext,
) -> None:
    """Change the password (the current one is required if there is one); other sessions end."""
    player_id = principal.player_id
    await limits.refuse_if_locked(ctx, account=player_id, ip=ip)
    existing = await uow.accounts.password_hash(player_id)
    if existing is not None and not (
        current_password and await verify_password(existing, current_password)
    ):
        await limits.record_failure(uow, ctx, account=player_id, ip=ip, method="password_change")
        raise WrongPassword()
    await uow.accounts.set_password(player_id, await hash_password(validate.password(new_password)))
    revoked = await uow.accounts.revoke_sessions(player_id, keep=principal.session_id, at=uow.now())
    for session_id in revoked:
        uow.emit(SessionRevoked(session_id))
    await audit.record(
        uow,
        "password.changed",
        actor=Actor("player", player_id, ip),
        target_type="player",
        target_id=player_id,
        sessions_revoked=len(revoked),
    )
