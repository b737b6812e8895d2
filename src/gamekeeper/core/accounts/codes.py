"""Short codes mailed to players: one-time sign-in codes and email verification codes."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from datetime import timedelta

from gamekeeper.core import audit, validate
from gamekeeper.core.accounts import limits
from gamekeeper.core.accounts.errors import AlreadyVerified, InvalidCode, NoEmail
from gamekeeper.core.accounts.sessions import open_session
from gamekeeper.core.accounts.store import AccountsUow
from gamekeeper.core.accounts.types import (
    AccountContext,
    AccountSession,
    CodePurpose,
    CodeRecord,
    Mail,
)
from gamekeeper.core.audit import Actor
from gamekeeper.core.identity.players import get_player
from gamekeeper.core.identity.types import Player
from gamekeeper.core.secrets import constant_time_equal

CODE_DIGITS = 6
_SUBJECTS: dict[str, str] = {
    "login": "Your sign-in code",
    "verify_email": "Confirm your email address",
}
_INTROS: dict[str, str] = {
    "login": "Use this code to sign in",
    "verify_email": "Use this code to confirm your email address",
}


def code_hash(key: bytes, *, player_id: str, purpose: str, code: str) -> str:
    """HMAC of a short code: a stolen database does not give the codes away."""
    message = f"{player_id}:{purpose}:{code}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


async def send_code(
    uow: AccountsUow, ctx: AccountContext, *, player: Player, purpose: CodePurpose
) -> None:
    """Mail a new code to the player; earlier codes for the same purpose stop working."""
    if player.email is None:
        raise NoEmail()
    await limits.allow_mail(ctx, address=player.email)
    now = uow.now()
    code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
    ttl = ctx.policy.email_code_ttl
    await uow.accounts.retire_codes(player.id, purpose, now)
    await uow.accounts.add_code(
        CodeRecord(
            id=str(uuid.uuid4()),
            player_id=player.id,
            purpose=purpose,
            code_hash=code_hash(
                ctx.policy.code_key, player_id=player.id, purpose=purpose, code=code
            ),
            attempts=0,
            expires_at=now + timedelta(seconds=ttl),
            used_at=None,
        ),
        created_at=now,
    )
    minutes = max(1, ttl // 60)
    text = (
        f"{_INTROS[purpose]} at {ctx.policy.site_name}:\n\n    {code}\n\n"
        f"It works once, for {minutes} minutes. If you did not ask for it, ignore this message."
    )
    mail = Mail(to=player.email, subject=_SUBJECTS[purpose], text=text)
    uow.after_commit(lambda: ctx.mailer.post(mail))  # no code mailed for a rolled-back request


async def _spend(
    uow: AccountsUow,
    ctx: AccountContext,
    *,
    player: Player | None,
    purpose: CodePurpose,
    code: str,
    account: str,
    ip: str | None,
) -> None:
    """Spend the player's current code if ``code`` matches; count the failure otherwise."""
    await limits.refuse_if_locked(ctx, account=account, ip=ip)
    now = uow.now()
    record = None if player is None else await uow.accounts.current_code(player.id, purpose)
    if record is None or record.expires_at <= now:
        await limits.record_failure(uow, ctx, account=account, ip=ip, method="code:" + purpose)
        raise InvalidCode()
    expected = code_hash(
        ctx.policy.code_key, player_id=record.player_id, purpose=purpose, code=code
    )
    if not constant_time_equal(expected, record.code_hash):
        await uow.accounts.count_failure(record.id, burn_at=ctx.policy.code_attempts, at=now)
        await limits.record_failure(uow, ctx, account=account, ip=ip, method="code:" + purpose)
        raise InvalidCode()
    if not await uow.accounts.spend_code(record.id, now):  # a concurrent request spent it
        raise InvalidCode()
    await limits.forget_failures(ctx, account=account)


async def request_login_code(
    uow: AccountsUow, *, email: str, ip: str | None, ctx: AccountContext
) -> None:
    """Mail a sign-in code if a player has this email; the caller cannot tell either way."""
    address = validate.email(email)
    found = await uow.accounts.find_by_email(address)
    if found is None:
        return
    await send_code(uow, ctx, player=found[0], purpose="login")
    await audit.record(
        uow,
        "login_code.sent",
        actor=Actor("anonymous", ip=ip),
        target_type="player",
        target_id=found[0].id,
    )


async def sign_in_with_code(
    uow: AccountsUow, *, email: str, code: str, ip: str | None, ctx: AccountContext
) -> AccountSession:
    """Sign in with a mailed code; it also proves the player owns the address."""
    address = validate.email(email)
    found = await uow.accounts.find_by_email(address)
    player = None if found is None else found[0]
    await _spend(uow, ctx, player=player, purpose="login", code=code, account=address, ip=ip)
    assert player is not None  # _spend refuses an unknown address
    if not player.verified:
        await uow.accounts.mark_verified(player.id)
        player = await get_player(uow, player.id)
    return await open_session(uow, player, ctx=ctx, ip=ip)


async def send_verification(uow: AccountsUow, *, player_id: str, ctx: AccountContext) -> None:
    """Mail (again) a code that confirms the player's email address."""
    player = await get_player(uow, player_id)
    if player.verified:
        raise AlreadyVerified()
    await send_code(uow, ctx, player=player, purpose="verify_email")


async def verify_email(
    uow: AccountsUow, *, player_id: str, code: str, ip: str | None, ctx: AccountContext
) -> Player:
    """Confirm the player's email address with the mailed code."""
    player = await get_player(uow, player_id)
    if player.email is None:
        raise NoEmail()
    if player.verified:
        raise AlreadyVerified()
    await _spend(
        uow, ctx, player=player, purpose="verify_email", code=code, account=player.email, ip=ip
    )
    await uow.accounts.mark_verified(player.id)
    await audit.record(
        uow,
        "email.verified",
        actor=Actor("player", player.id, ip),
        target_type="player",
        target_id=player.id,
    )
    return await get_player(uow, player.id)
