"""Account services against real storage (SQLite and PostgreSQL): what is stored, and races."""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack

import pytest
from sqlalchemy import func, select

from gamekeeper.core import accounts
from gamekeeper.core.accounts.errors import GameUserLinkedElsewhere, InvalidCode, LinkTokenUsed
from gamekeeper.core.accounts.types import AccountContext, AccountPolicy, Mail
from gamekeeper.core.audit import Actor
from gamekeeper.core.identity import games
from gamekeeper.core.identity.types import SessionPolicy
from gamekeeper.core.secrets import SecretBox
from gamekeeper.db.tables.accounts import account_code, link_token, web_code
from gamekeeper.db.tables.audit import audit_entry
from gamekeeper.db.tables.identity import player, player_identity, player_session, refresh_token
from gamekeeper.infra.ratelimit import RateLimiter
from support.locks import until_waiting_for_a_lock

pytestmark = pytest.mark.anyio
ADMIN = Actor("admin")
BOX = SecretBox("x" * 40)


class Outbox:
    """A mailer that keeps what it is given."""

    def __init__(self) -> None:
        self.mails: list[Mail] = []

    def post(self, mail: Mail) -> None:
        self.mails.append(mail)

    def code(self) -> str:
        return self.mails[-1].text.split("\n\n")[1].strip()


@pytest.fixture
def ctx():
    policy = AccountPolicy(
        session=SessionPolicy(signing_key=b"k" * 32, access_ttl=900, refresh_ttl=3600),
        code_key=b"c" * 32,
    )
    limiter = RateLimiter(
        {"account_failure": "10/minute", "auth_failure": "30/minute", "email_send": "50/minute"}
    )
    return AccountContext(policy=policy, mailer=Outbox(), attempts=limiter)


async def game(db, name="Trivia Jam"):
    async with db.transaction() as uow:
        created = await games.create_game(
            uow, box=BOX, name=name, allowed_origins=["https://play.example.com"], actor=ADMIN
        )
        return created.id


async def test_secrets_are_stored_as_hashes(db, ctx):
    async with db.transaction() as uow:
        session = await accounts.sign_up(
            uow, email="ada@example.com", password="correct horse battery", ip=None, ctx=ctx
        )
        code = await accounts.issue_web_code(uow, player_id=session.player.id, ctx=ctx)
        await accounts.sign_in_device(uow, device_id="device-0123456789", ip=None, ctx=ctx)
    game_id = await game(db)
    async with db.transaction() as uow:
        issued = await accounts.create_link_token(
            uow,
            game_id=game_id,
            game_user_id="u-1",
            redirect_url="https://play.example.com/cb",
            ctx=ctx,
        )
    mailed = ctx.mailer.code()
    async with db.transaction(write=False) as uow:
        stored = [
            *(await uow.conn.execute(select(player.c.password_hash))).scalars(),
            *(await uow.conn.execute(select(account_code.c.code_hash))).scalars(),
            *(await uow.conn.execute(select(web_code.c.code_hash))).scalars(),
            *(await uow.conn.execute(select(link_token.c.token_hash))).scalars(),
            *(await uow.conn.execute(select(player_identity.c.subject))).scalars(),
        ]
    text = " ".join(s for s in stored if s)
    for secret in (
        "correct horse battery",
        mailed,
        code.code,
        issued.token,
        "device-0123456789",
    ):
        assert secret not in text
    assert any(s.startswith("$argon2id$") for s in stored if s)


async def test_concurrent_confirmations_link_the_game_user_once(db, ctx):
    game_id = await game(db)
    tokens, players = [], []
    async with db.transaction() as uow:
        for n in range(2):
            issued = await accounts.create_link_token(
                uow,
                game_id=game_id,
                game_user_id="u-1",
                redirect_url="https://play.example.com/cb",
                ctx=ctx,
            )
            tokens.append(issued.token)
            device = await accounts.sign_in_device(
                uow, device_id=f"device-{n:012d}", ip=None, ctx=ctx
            )
            players.append(device.player.id)

    async def confirm(token, player_id):
        async with db.transaction() as uow:
            return await accounts.confirm_link(
                uow, token=token, player_id=player_id, actor=Actor("player", player_id)
            )

    results = await asyncio.gather(
        *(confirm(t, p) for t, p in zip(tokens, players, strict=True)), return_exceptions=True
    )
    assert sorted(type(r).__name__ for r in results) == ["GameUserLinkedElsewhere", "LinkRequest"]
    winner = next(r for r in results if not isinstance(r, Exception))
    async with db.transaction(write=False) as uow:
        links = [await accounts.list_links(uow, player_id=p) for p in players]
    assert [len(x) for x in links] == [int(p == winner.player_id) for p in players]
    with pytest.raises((LinkTokenUsed, GameUserLinkedElsewhere)):
        await confirm(tokens[0], players[0])


async def test_concurrent_code_spends_let_one_in(db, ctx):
    async with db.transaction() as uow:
        await accounts.sign_up(
            uow, email="ada@example.com", password="correct horse battery", ip=None, ctx=ctx
        )
        await accounts.request_login_code(uow, email="ada@example.com", ip=None, ctx=ctx)
    code = ctx.mailer.code()

    async def spend():
        async with db.transaction() as uow:
            return await accounts.sign_in_with_code(
                uow, email="ada@example.com", code=code, ip=None, ctx=ctx
            )

    results = await asyncio.gather(spend(), spend(), return_exceptions=True)
    assert sorted(type(r).__name__ for r in results) == ["AccountSession", "InvalidCode"]
    assert isinstance(next(r for r in results if isinstance(r, Exception)), InvalidCode)


DEVICE = "device-simultaneous-01"


async def _sign_in_device(db, ctx):
    async with db.transaction() as uow:
        return await accounts.sign_in_device(uow, device_id=DEVICE, ip="203.0.113.7", ctx=ctx)


async def test_simultaneous_first_sign_ins_of_a_device_are_one_player(db, ctx):
    """The second first sign-in waits for the first, then signs in as its player (no 409)."""
    async with AsyncExitStack() as first_transaction:
        uow = await first_transaction.enter_async_context(db.transaction())
        first = await accounts.sign_in_device(uow, device_id=DEVICE, ip="203.0.113.7", ctx=ctx)
        second = asyncio.create_task(_sign_in_device(db, ctx))
        if not db.is_sqlite:  # SQLite's writers queue at BEGIN: the second cannot get ahead
            await until_waiting_for_a_lock(db, what="the second sign-in waits for the first")
    twin = await second
    assert (first.created, twin.created) == (True, False)
    assert twin.player.id == first.player.id and twin.tokens.session_id != first.tokens.session_id
    async with db.engine.connect() as conn:
        count = select(func.count()).select_from
        assert (await conn.execute(count(player))).scalar_one() == 1
        assert (await conn.execute(count(player_identity))).scalar_one() == 1
        assert (await conn.execute(count(player_session))).scalar_one() == 2


async def test_device_sign_in_stores_one_session_and_audits_only_the_new_player(db, ctx):
    first = await _sign_in_device(db, ctx)
    again = await _sign_in_device(db, ctx)
    assert again.player == first.player and not again.created
    async with db.engine.connect() as conn:
        actions = (await conn.execute(select(audit_entry.c.action, audit_entry.c.ip))).all()
        tokens = (await conn.execute(select(refresh_token.c.session_id))).scalars().all()
    assert actions == [("player.created", "203.0.113.7")]
    assert sorted(tokens) == sorted([first.tokens.session_id, again.tokens.session_id])


async def test_no_code_is_mailed_for_a_request_that_rolls_back(db, ctx):
    class Refused(Exception):
        pass

    with pytest.raises(Refused):
        async with db.transaction() as uow:
            await accounts.sign_up(
                uow, email="ada@example.com", password="correct horse battery", ip=None, ctx=ctx
            )
            raise Refused  # anything failing later in the same request
    assert ctx.mailer.mails == []
    async with db.transaction() as uow:
        await accounts.sign_up(
            uow, email="ada@example.com", password="correct horse battery", ip=None, ctx=ctx
        )
    assert [mail.to for mail in ctx.mailer.mails] == ["ada@example.com"]
