"""Account rules that need no storage: device ids, redirect origins, code hashes, lockouts."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from gamekeeper.core.accounts import limits
from gamekeeper.core.accounts.codes import code_hash
from gamekeeper.core.accounts.device import device_hash
from gamekeeper.core.accounts.errors import RedirectNotAllowed, TooManyAttempts
from gamekeeper.core.accounts.links import _redirect
from gamekeeper.core.accounts.types import AccountContext, AccountPolicy
from gamekeeper.core.errors import InvalidInput
from gamekeeper.core.identity.types import SessionPolicy

pytestmark = pytest.mark.anyio
ORIGINS = ("https://play.example.com", "http://localhost:3000")


def test_device_ids_are_hashed_and_bounded():
    assert device_hash("device-0123456789") == device_hash("device-0123456789")
    assert device_hash("device-0123456789") != device_hash("device-0123456788")
    assert len(device_hash("device-0123456789")) == 64
    for bad in ("short", "x" * 129, "device-\n-0123456789"):
        with pytest.raises(InvalidInput):
            device_hash(bad)


@pytest.mark.parametrize(
    "url",
    ["https://play.example.com/cb?x=1", "https://PLAY.example.com/cb", "http://localhost:3000/"],
)
def test_redirects_on_the_games_origins_pass(url):
    assert _redirect(url, ORIGINS) == url


@pytest.mark.parametrize(
    "url",
    [
        "https://play.example.com:8443/cb",
        "https://play.example.com@evil.example/cb",
        "https://user:pw@play.example.com/cb",
        "http://localhost:3001/",
        "ftp://play.example.com/",
        "//play.example.com/cb",
    ],
)
def test_redirects_elsewhere_are_refused(url):
    with pytest.raises(InvalidInput) as refused:
        _redirect(url, ORIGINS)
    assert isinstance(refused.value, RedirectNotAllowed) or refused.value.code == "invalid_url"


def test_code_hashes_depend_on_key_player_and_purpose():
    base = code_hash(b"k" * 32, player_id="p", purpose="login", code="123456")
    assert base != code_hash(b"j" * 32, player_id="p", purpose="login", code="123456")
    assert base != code_hash(b"k" * 32, player_id="q", purpose="login", code="123456")
    assert base != code_hash(b"k" * 32, player_id="p", purpose="verify_email", code="123456")


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    reset_after: int = 7


class FakeAttempts:
    """Counts hits; refuses past ``limit`` per (category, identity)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.counts: dict[tuple[str, str], int] = {}

    async def hit(self, category: str, identity: str) -> Verdict:
        key = (category, identity)
        self.counts[key] = self.counts.get(key, 0) + 1
        return Verdict(self.counts[key] <= self.limit)

    async def check(self, category: str, identity: str) -> Verdict:
        return Verdict(self.counts.get((category, identity), 0) < self.limit)

    async def clear(self, category: str, identity: str) -> None:
        self.counts.pop((category, identity), None)


class Mailer:
    def post(self, mail) -> None:
        raise AssertionError("no mail expected")


def context(attempts: FakeAttempts) -> AccountContext:
    policy = AccountPolicy(
        session=SessionPolicy(signing_key=b"k" * 32, access_ttl=900, refresh_ttl=3600),
        code_key=b"c" * 32,
    )
    return AccountContext(policy=policy, mailer=Mailer(), attempts=attempts)


async def test_lockout_by_account_or_by_address():
    attempts = FakeAttempts(limit=2)
    ctx = context(attempts)
    attempts.counts[(limits.ACCOUNT, "ada@example.com")] = 2
    with pytest.raises(TooManyAttempts) as locked:
        await limits.refuse_if_locked(ctx, account="ada@example.com", ip="10.0.0.1")
    assert locked.value.retry_after == 7
    await limits.refuse_if_locked(ctx, account="bob@example.com", ip="10.0.0.1")
    attempts.counts[(limits.ADDRESS, "10.0.0.1")] = 2
    with pytest.raises(TooManyAttempts):
        await limits.refuse_if_locked(ctx, account="bob@example.com", ip="10.0.0.1")
    await limits.forget_failures(ctx, account="ada@example.com")
    await limits.refuse_if_locked(ctx, account="ada@example.com", ip=None)
