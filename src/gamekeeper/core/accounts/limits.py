"""Brute-force protection: failures are counted per account and per client address.

An account or address over its limit is refused before any password is checked, so a guesser
learns nothing more and costs no argon2 work. Categories are the rate limiter's.
"""

from __future__ import annotations

from gamekeeper.core import audit
from gamekeeper.core.accounts.errors import TooManyAttempts
from gamekeeper.core.accounts.store import AccountsUow
from gamekeeper.core.accounts.types import AccountContext
from gamekeeper.core.audit import Actor

ACCOUNT = "account_failure"  # per account (email address or player id)
ADDRESS = "auth_failure"  # per client IP, shared with the API-key and session guards
EMAIL_SEND = "email_send"  # mails sent per address: no mail bombing through our server


def _keys(account: str, ip: str | None) -> list[tuple[str, str]]:
    keys = [(ACCOUNT, account)]
    if ip:
        keys.append((ADDRESS, ip))
    return keys


async def refuse_if_locked(ctx: AccountContext, *, account: str, ip: str | None) -> None:
    """TooManyAttempts when the account or the address has failed too often lately."""
    for category, identity in _keys(account, ip):
        verdict = await ctx.attempts.check(category, identity)
        if not verdict.allowed:
            raise TooManyAttempts(retry_after=verdict.reset_after)


async def record_failure(
    uow: AccountsUow, ctx: AccountContext, *, account: str, ip: str | None, method: str
) -> None:
    """Count a failed attempt and audit it; the audit entry stands though the request fails."""
    for category, identity in _keys(account, ip):
        await ctx.attempts.hit(category, identity)
    await audit.record(
        uow,
        "auth.failed",
        actor=Actor("anonymous", ip=ip),
        target_type="account",
        method=method,
    )
    uow.keep_on_error()


async def forget_failures(ctx: AccountContext, *, account: str) -> None:
    """After a success, the account's own count starts again (the address's does not)."""
    await ctx.attempts.clear(ACCOUNT, account)


async def allow_mail(ctx: AccountContext, *, address: str) -> None:
    """Count one mail to ``address``; TooManyAttempts past the limit."""
    verdict = await ctx.attempts.hit(EMAIL_SEND, address)
    if not verdict.allowed:
        raise TooManyAttempts(
            "Too many emails were sent to this address; wait before asking again",
            retry_after=verdict.reset_after,
        )
