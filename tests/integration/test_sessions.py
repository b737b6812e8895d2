"""Player sessions: rotation, reuse detection, logout, expiry — on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio

import pytest

from gamekeeper.core.audit import Actor
from gamekeeper.core.identity import players, sessions
from gamekeeper.core.identity.errors import InvalidSession, RefreshTokenReused
from gamekeeper.core.identity.events import SessionRevoked
from gamekeeper.core.secrets import derive_key

pytestmark = pytest.mark.anyio
POLICY = sessions.SessionPolicy(
    signing_key=derive_key("k" * 40, "jwt"), access_ttl=900, refresh_ttl=3600
)
ACTOR = Actor("player")


async def _start(db):
    async with db.transaction() as uow:
        player = await players.create_player(uow, actor=ACTOR)
        return await sessions.start_session(uow, player_id=player.id, policy=POLICY, actor=ACTOR)


async def test_refresh_rotates_and_reuse_revokes_the_family(db, clock):
    revoked = []

    async def sink(events):
        revoked.extend(events)

    db.on_commit = sink
    first = await _start(db)
    principal = sessions.read_access_token(first.access_token, policy=POLICY, now=clock())
    assert (principal.player_id, principal.session_id) == (first.player_id, first.session_id)
    async with db.transaction() as uow:
        second = await sessions.refresh_session(
            uow, refresh_token=first.refresh_token, policy=POLICY, actor=ACTOR
        )
    assert second.refresh_token != first.refresh_token and second.session_id == first.session_id
    with pytest.raises(RefreshTokenReused):
        async with db.transaction() as uow:
            await sessions.refresh_session(
                uow, refresh_token=first.refresh_token, policy=POLICY, actor=ACTOR
            )
    # The revocation stood although the request failed, and was dispatched.
    assert revoked == [SessionRevoked(first.session_id)]
    with pytest.raises(InvalidSession):
        async with db.transaction() as uow:
            await sessions.refresh_session(
                uow, refresh_token=second.refresh_token, policy=POLICY, actor=ACTOR
            )
    async with db.transaction() as uow:
        with pytest.raises(InvalidSession):
            await sessions.check_session(uow, principal)


async def test_expiry_of_access_and_refresh_tokens(db, clock):
    tokens = await _start(db)
    clock.advance(POLICY.access_ttl + 1)
    with pytest.raises(InvalidSession):
        sessions.read_access_token(tokens.access_token, policy=POLICY, now=clock())
    clock.advance(POLICY.refresh_ttl)
    with pytest.raises(InvalidSession):
        async with db.transaction() as uow:
            await sessions.refresh_session(
                uow, refresh_token=tokens.refresh_token, policy=POLICY, actor=ACTOR
            )


async def test_logout_ends_the_session(db, clock):
    tokens = await _start(db)
    principal = sessions.read_access_token(tokens.access_token, policy=POLICY, now=clock())
    async with db.transaction() as uow:
        await sessions.end_session(uow, session_id=tokens.session_id, actor=ACTOR)
    async with db.transaction() as uow:
        with pytest.raises(InvalidSession):
            await sessions.check_session(uow, principal)
    with pytest.raises(InvalidSession):
        async with db.transaction() as uow:
            await sessions.refresh_session(
                uow, refresh_token=tokens.refresh_token, policy=POLICY, actor=ACTOR
            )


def test_forged_or_foreign_tokens_are_refused(clock):
    other = sessions.SessionPolicy(
        signing_key=derive_key("z" * 40, "jwt"), access_ttl=900, refresh_ttl=60
    )
    from gamekeeper.core.identity.tokens import encode_access_token

    token = encode_access_token(
        signing_key=other.signing_key, player_id="p", session_id="s", now=clock(), ttl=900
    )
    with pytest.raises(InvalidSession):
        sessions.read_access_token(token, policy=POLICY, now=clock())
    with pytest.raises(InvalidSession):
        sessions.read_access_token("not.a.jwt", policy=POLICY, now=clock())


async def test_concurrent_refreshes_with_one_token_let_exactly_one_win(db):
    tokens = await _start(db)

    async def attempt():
        try:
            async with db.transaction() as uow:
                await sessions.refresh_session(
                    uow, refresh_token=tokens.refresh_token, policy=POLICY, actor=ACTOR
                )
            return "ok"
        except (RefreshTokenReused, InvalidSession):
            return "refused"

    outcomes = await asyncio.gather(*(attempt() for _ in range(4)))
    assert outcomes.count("ok") == 1
