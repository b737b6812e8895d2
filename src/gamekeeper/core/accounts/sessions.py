"""Opening, refreshing and closing player sessions from the account side."""

from __future__ import annotations

from gamekeeper.core.accounts.store import AccountsUow
from gamekeeper.core.accounts.types import AccountContext, AccountSession
from gamekeeper.core.audit import Actor
from gamekeeper.core.identity import sessions
from gamekeeper.core.identity.types import Player, PlayerPrincipal, SessionTokens


async def open_session(
    uow: AccountsUow,
    player: Player,
    *,
    ctx: AccountContext,
    ip: str | None,
    created: bool = False,
    audited: bool = True,
) -> AccountSession:
    """A new session for a player who just proved who they are (``session.started`` if audited)."""
    tokens = await sessions.start_session(
        uow,
        player_id=player.id,
        policy=ctx.policy.session,
        actor=Actor("player", player.id, ip),
        audited=audited,
    )
    return AccountSession(player=player, tokens=tokens, created=created)


async def refresh(
    uow: AccountsUow, *, refresh_token: str, ctx: AccountContext, ip: str | None
) -> SessionTokens:
    """Rotate a refresh token; reuse of a spent one revokes the session (and is audited)."""
    return await sessions.refresh_session(
        uow, refresh_token=refresh_token, policy=ctx.policy.session, actor=Actor("anonymous", ip=ip)
    )


async def sign_out(uow: AccountsUow, *, principal: PlayerPrincipal, ip: str | None) -> None:
    """End the caller's session: its access and refresh tokens stop working."""
    await sessions.end_session(
        uow,
        session_id=principal.session_id,
        actor=Actor("player", principal.player_id, ip),
    )
