"""Player sessions: short access tokens and single-use, rotating refresh tokens."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from gamekeeper.core import audit
from gamekeeper.core.audit import Actor
from gamekeeper.core.events.domain import SessionRevoked
from gamekeeper.core.identity.errors import InvalidSession, RefreshTokenReused
from gamekeeper.core.identity.players import get_player
from gamekeeper.core.identity.secrets import hash_secret, new_token
from gamekeeper.core.identity.store import SessionRecord
from gamekeeper.core.identity.tokens import decode_access_token, encode_access_token
from gamekeeper.core.identity.types import PlayerPrincipal, SessionTokens

if TYPE_CHECKING:
    from gamekeeper.core.uow import UnitOfWork


@dataclass(frozen=True, slots=True)
class SessionPolicy:
    signing_key: bytes
    access_ttl: int
    refresh_ttl: int


async def start_session(
    uow: UnitOfWork, *, player_id: str, policy: SessionPolicy, actor: Actor
) -> SessionTokens:
    """Open a session for the player: an access token and the first refresh token."""
    await get_player(uow, player_id)
    now = uow.now()
    session = SessionRecord(
        id=str(uuid.uuid4()),
        player_id=player_id,
        created_at=now,
        expires_at=now + timedelta(seconds=policy.refresh_ttl),
        revoked_at=None,
    )
    await uow.identity.add_session(session)
    await audit.record(
        uow, "session.started", actor=actor, target_type="session", target_id=session.id
    )
    return await _issue(uow, session, policy)


async def refresh_session(
    uow: UnitOfWork, *, refresh_token: str, policy: SessionPolicy, actor: Actor
) -> SessionTokens:
    """Spend a refresh token for new tokens; a token spent twice revokes its whole session."""
    token_hash = hash_secret(refresh_token)
    record = await uow.identity.get_refresh_token(token_hash)
    if record is None:
        raise InvalidSession()
    now = uow.now()
    session = await uow.identity.get_session(record.session_id)
    if session is None or session.revoked_at is not None:
        raise InvalidSession()
    if record.spent_at is not None or not await uow.identity.spend_refresh_token(token_hash, now):
        await _revoke(uow, session.id, reason="refresh_token_reuse", actor=actor)
        uow.keep_on_error()
        raise RefreshTokenReused()
    if record.expires_at <= now:
        raise InvalidSession()
    session_expiry = now + timedelta(seconds=policy.refresh_ttl)
    await uow.identity.extend_session(session.id, session_expiry)
    return await _issue(uow, session, policy)


async def end_session(uow: UnitOfWork, *, session_id: str, actor: Actor) -> None:
    """Log out: the session's access and refresh tokens stop working."""
    await _revoke(uow, session_id, reason="logout", actor=actor)


async def check_session(uow: UnitOfWork, principal: PlayerPrincipal) -> None:
    """InvalidSession unless the token's session is open."""
    session = await uow.identity.get_session(principal.session_id)
    if (
        session is None
        or session.revoked_at is not None
        or session.expires_at <= uow.now()
        or session.player_id != principal.player_id
    ):
        raise InvalidSession()


def read_access_token(token: str, *, policy: SessionPolicy, now: datetime) -> PlayerPrincipal:
    """Verify an access token's signature and expiry (no storage read)."""
    return decode_access_token(token, signing_key=policy.signing_key, now=now)


async def _issue(uow: UnitOfWork, session: SessionRecord, policy: SessionPolicy) -> SessionTokens:
    now = uow.now()
    refresh = new_token()
    refresh_expires = now + timedelta(seconds=policy.refresh_ttl)
    await uow.identity.add_refresh_token(
        hash_secret(refresh), session_id=session.id, created_at=now, expires_at=refresh_expires
    )
    access = encode_access_token(
        signing_key=policy.signing_key,
        player_id=session.player_id,
        session_id=session.id,
        now=now,
        ttl=policy.access_ttl,
    )
    return SessionTokens(
        session_id=session.id,
        player_id=session.player_id,
        access_token=access,
        access_expires_in=policy.access_ttl,
        refresh_token=refresh,
        refresh_expires_at=refresh_expires,
    )


async def _revoke(uow: UnitOfWork, session_id: str, *, reason: str, actor: Actor) -> None:
    if await uow.identity.revoke_session(session_id, uow.now()):
        uow.emit(SessionRevoked(session_id))
        await audit.record(
            uow,
            "session.revoked",
            actor=actor,
            target_type="session",
            target_id=session_id,
            reason=reason,
        )
