"""Web auth codes: a signed-in player hands a code to a game, which spends it once."""

from __future__ import annotations

from datetime import timedelta

from gamekeeper.core.accounts.store import AccountsUow
from gamekeeper.core.accounts.types import AccountContext, WebCode, WebCodeCheck
from gamekeeper.core.secrets import hash_secret, new_token
from gamekeeper.core.transactions import Transactions

MAX_CODE = 256


async def issue_web_code(uow: AccountsUow, *, player_id: str, ctx: AccountContext) -> WebCode:
    """A single-use code that proves to a game who the player is."""
    now = uow.now()
    code = new_token(24)
    ttl = ctx.policy.web_code_ttl
    await uow.accounts.add_web_code(
        hash_secret(code),
        player_id=player_id,
        created_at=now,
        expires_at=now + timedelta(seconds=ttl),
    )
    return WebCode(code=code, expires_in=ttl)


async def spend_web_code(db: Transactions[AccountsUow], *, code: str, game_id: str) -> WebCodeCheck:
    """Spend a web code in one statement committed alone: a game server's hot path, which a
    route dependency would slow (measured: docs/benchmarks.md, the architecture change)."""
    async with db.autocommit() as uow:
        return await verify_web_code(uow, code=code, game_id=game_id)


async def verify_web_code(uow: AccountsUow, *, code: str, game_id: str) -> WebCodeCheck:
    """Spend a web code; unknown, expired and spent codes are not valid."""
    if not 0 < len(code) <= MAX_CODE:
        return WebCodeCheck(valid=False)
    player = await uow.accounts.spend_web_code(hash_secret(code), game_id=game_id, at=uow.now())
    if player is None:
        return WebCodeCheck(valid=False)
    return WebCodeCheck(
        valid=True,
        player_id=player.id,
        email=player.email if player.verified else None,
        verified=player.verified,
    )
