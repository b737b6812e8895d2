"""Player sessions: short access tokens and single-use, rotating refresh tokens."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import NoReturn

from gamekeeper.core import audit
from gamekeeper.core.audit import Actor
from gamekeeper.core.identity.errors import InvalidSession, RefreshTokenReused
from gamekeeper.core.identity.events import SessionRevoked
from gamekeeper.core.identity.store import IdentityUow, SessionRecord
from gamekeeper.core.identity.tokens import decode_access_token, encode_access_token
from gamekeeper.core.identity.types import (
    NewSession,
    PlayerPrincipal,
    SessionPolicy,
    SessionTokens,
)
from gamekeeper.core.secrets import hash_secret, new_token


def new_session(policy: SessionPolicy, now: datetime) -> NewSession:
    """The values of a new session; the caller stores it and then issues its tokens."""
    refresh = new_token()
    return NewSession(
        id=str(uuid.uuid4()),
        refresh_token=refresh,
        refresh_hash=hash_secret(refresh),
        created_at=now,
        expires_at=now + timedelta(seconds=policy.refresh_ttl),
    )


def session_tokens(policy: SessionPolicy, session: NewSession, player_id: str) -> SessionTokens:
    """The tokens of a session just stored for ``player_id``."""
    return _tokens(
        policy,
        session_id=session.id,
        player_id=player_id,
        refresh=session.refresh_token,
        now=session.created_at,
    )


async def start_session(
    uow: IdentityUow,
    *,
    player_id: str,
    policy: SessionPolicy,
    actor: Actor,
    audited: bool = True,
) -> SessionTokens:
    """Open a session for the player: an access token and the first refresh token.

    The player is not read again: the store refuses a session of an unknown player
    (PlayerNotFound). ``audited`` records ``session.started``: password and code sign-ins do,
    device sign-ins do not (see ``accounts.device``).
    """
    session = new_session(policy, uow.now())
    record = SessionRecord(
        id=session.id,
        player_id=player_id,
        created_at=session.created_at,
        expires_at=session.expires_at,
        revoked_at=None,
    )
    await uow.identity.open_session(
        record, refresh_hash=session.refresh_hash, refresh_expires_at=session.expires_at
    )
    if audited:
        await audit.record(
            uow, "session.started", actor=actor, target_type="session", target_id=session.id
        )
    return session_tokens(policy, session, player_id)


async def refresh_session(
    uow: IdentityUow, *, refresh_token: str, policy: SessionPolicy, actor: Actor
) -> SessionTokens:
    """Spend a refresh token for new tokens; a token spent twice revokes its whole session."""
    token_hash = hash_secret(refresh_token)
    now = uow.now()
    spent = await uow.identity.spend_refresh_token(token_hash, now)
    if spent is None:
        await _refuse(uow, token_hash, actor=actor)
    session_id, player_id = spent
    refresh = new_token()
    await uow.identity.rotate_refresh_token(
        session_id,
        refresh_hash=hash_secret(refresh),
        at=now,
        refresh_expires_at=now + timedelta(seconds=policy.refresh_ttl),
    )
    return _tokens(policy, session_id=session_id, player_id=player_id, refresh=refresh, now=now)


async def _refuse(uow: IdentityUow, token_hash: str, *, actor: Actor) -> NoReturn:
    """Why a refresh token was not spent; a spent one is a reuse, which revokes its session."""
    record = await uow.identity.get_refresh_token(token_hash)
    if record is None:
        raise InvalidSession()
    session = await uow.identity.get_session(record.session_id)
    if session is None or session.revoked_at is not None:
        raise InvalidSession()
    if record.spent_at is not None:
        await _revoke(uow, session.id, reason="refresh_token_reuse", actor=actor)
        uow.keep_on_error()
        raise RefreshTokenReused()
    raise InvalidSession()  # expired


async def end_session(uow: IdentityUow, *, session_id: str, actor: Actor) -> None:
    """Log out: the session's access and refresh tokens stop working."""
    await _revoke(uow, session_id, reason="logout", actor=actor)


async def check_session(uow: IdentityUow, principal: PlayerPrincipal) -> None:
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


def _tokens(
    policy: SessionPolicy, *, session_id: str, player_id: str, refresh: str, now: datetime
) -> SessionTokens:
    access = encode_access_token(
        signing_key=policy.signing_key,
        player_id=player_id,
        session_id=session_id,
        now=now,
        ttl=policy.access_ttl,
    )
    return SessionTokens(
        session_id=session_id,
        player_id=player_id,
        access_token=access,
        access_expires_in=policy.access_ttl,
        refresh_token=refresh,
        refresh_expires_at=now + timedelta(seconds=policy.refresh_ttl),
    )


async def _revoke(uow: IdentityUow, session_id: str, *, reason: str, actor: Actor) -> None:
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
