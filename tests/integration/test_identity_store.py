"""Identity services against real storage (SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from gamekeeper.core import audit
from gamekeeper.core.audit import Actor
from gamekeeper.core.errors import InvalidInput
from gamekeeper.core.identity import auth, games, keys, players
from gamekeeper.core.identity.errors import (
    DeveloperNotFound,
    EmailTaken,
    GameNotFound,
    IdentityTaken,
    InvalidApiKey,
    SlugTaken,
    TooManyKeys,
)
from gamekeeper.core.identity.events import CredentialRevoked, DeveloperSecretRotated
from gamekeeper.core.identity.types import KeyKind
from gamekeeper.core.owners.types import Owner
from gamekeeper.core.secrets import SecretBox
from gamekeeper.db.tables.identity import credential, developer, player

pytestmark = pytest.mark.anyio
ADMIN = Actor("admin", ip="127.0.0.1")
BOX = SecretBox("x" * 40)


async def test_developer_secret_is_sealed_and_rotates(db):
    async with db.transaction() as uow:
        dev, secret = await games.create_developer(
            uow, name="Acme", email=None, box=BOX, actor=ADMIN
        )
    async with db.transaction() as uow:
        stored = (await uow.conn.execute(select(developer.c.secret_sealed))).scalar_one()
        assert secret not in stored
        assert await games.developer_secret(uow, dev.id, box=BOX) == secret
    seen = []
    db.on_commit = lambda events: _collect(seen, events)
    async with db.transaction() as uow:
        new = await games.rotate_developer_secret(uow, developer_id=dev.id, box=BOX, actor=ADMIN)
    assert new != secret
    assert seen == [DeveloperSecretRotated(dev.id)]
    async with db.transaction() as uow:
        assert await games.developer_secret(uow, dev.id, box=BOX) == new
        with pytest.raises(DeveloperNotFound):
            await games.get_developer(uow, "missing")


async def _collect(into, events):
    into.extend(events)


async def test_game_slugs_settings_and_validation(db):
    async with db.transaction() as uow:
        first = await games.create_game(uow, box=BOX, name="Space Game!", actor=ADMIN)
        second = await games.create_game(uow, box=BOX, name="Space  game", actor=ADMIN)
        assert first.slug == "space-game"
        assert second.slug.startswith("space-game-") and second.slug != first.slug
        with pytest.raises(InvalidInput):
            await games.create_game(
                uow, box=BOX, name="Bad", game_url="ftp://x.example", actor=ADMIN
            )
        with pytest.raises(InvalidInput):
            await games.create_game(
                uow, box=BOX, name="Bad", allowed_origins=["https://a.example/path"], actor=ADMIN
            )
        with pytest.raises(DeveloperNotFound):
            await games.create_game(uow, box=BOX, name="Orphan", developer_id="nope", actor=ADMIN)
        updated = await games.update_game(
            uow,
            box=BOX,
            game_id=first.id,
            changes={"settings": {"ogp": {"a": 1}}, "allowed_origins": ["https://A.example"]},
            actor=ADMIN,
        )
        updated = await games.update_game(
            uow,
            box=BOX,
            game_id=first.id,
            changes={"settings": {"kongregate": {"b": 2}}},
            actor=ADMIN,
        )
        assert updated.settings == {"ogp": {"a": 1}, "kongregate": {"b": 2}}
        assert updated.allowed_origins == ("https://a.example",)
    with pytest.raises(SlugTaken):
        async with db.transaction() as uow:
            await games.update_game(
                uow, box=BOX, game_id=second.id, changes={"slug": "space-game"}, actor=ADMIN
            )
    async with db.transaction() as uow:
        assert (await games.get_game(uow, first.id)).settings == {
            "ogp": {"a": 1},
            "kongregate": {"b": 2},
        }
        page = await games.list_games(uow, limit=1, after=None)
        rest = await games.list_games(uow, limit=10, after=page[0].id)
        assert {g.id for g in page + rest} == {first.id, second.id}
        with pytest.raises(GameNotFound):
            await games.get_game(uow, "missing")


async def test_rolled_back_request_leaves_nothing(db):
    seen = []
    db.on_commit = lambda events: _collect(seen, events)
    async with db.transaction() as uow:
        game = await games.create_game(uow, box=BOX, name="Keep", actor=ADMIN)
        issued = await keys.issue_key(
            uow, owner=Owner.game(game.id), kind=KeyKind.SERVER, actor=ADMIN
        )
    with pytest.raises(RuntimeError):
        async with db.transaction() as uow:
            await games.create_game(uow, box=BOX, name="Lost", actor=ADMIN)
            await keys.revoke_key(uow, key_id=issued.credential.id, actor=ADMIN)
            raise RuntimeError("boom")
    assert seen == []  # the revocation event of a rolled-back transaction is never dispatched
    async with db.transaction() as uow:
        assert [g.name for g in await games.list_games(uow, limit=10, after=None)] == ["Keep"]
        assert (await auth.authenticate_key(uow, issued.key)).game_id == game.id


async def test_keys_are_hashed_scoped_and_revocable(db):
    seen = []
    db.on_commit = lambda events: _collect(seen, events)
    async with db.transaction() as uow:
        game = await games.create_game(uow, box=BOX, name="Keys", actor=ADMIN)
        issued = await keys.issue_key(
            uow,
            owner=Owner.game(game.id),
            kind=KeyKind.INTERNAL,
            scopes=["rooms.write"],
            name="rooms",
            actor=ADMIN,
        )
    assert issued.key.startswith("internal_") and len(issued.key) > 40
    async with db.transaction() as uow:
        rows = (await uow.conn.execute(select(credential))).mappings().all()
        assert all(issued.key not in str(dict(row)) for row in rows)
        principal = await auth.authenticate_key(uow, issued.key)
        assert (principal.game_id, principal.kind) == (game.id, KeyKind.INTERNAL)
        assert principal.allows("rooms.write") and not principal.allows("auth.validate")
        with pytest.raises(InvalidApiKey):
            await auth.authenticate_key(uow, issued.key + "x")
        with pytest.raises(InvalidInput, match="unknown scopes"):
            await keys.issue_key(
                uow, owner=Owner.game(game.id), kind=KeyKind.SERVER, scopes=["root"], actor=ADMIN
            )
    for _ in range(2):  # revoking twice is harmless and audited once
        async with db.transaction() as uow:
            await keys.revoke_key(uow, key_id=issued.credential.id, actor=ADMIN)
    assert seen == [CredentialRevoked(issued.credential.id)]
    async with db.transaction() as uow:
        with pytest.raises(InvalidApiKey):
            await auth.authenticate_key(uow, issued.key)
        [listed] = await keys.list_keys(uow, owner=Owner.game(game.id))
        assert listed.revoked_at is not None and listed.prefix == issued.credential.prefix
        actions = [e.action for e in await audit.list_entries(uow, limit=10, before=None)]
        assert actions.count("key.revoked") == 1 and actions.count("key.issued") == 1


async def test_key_limit_per_game(db, monkeypatch):
    monkeypatch.setattr(keys, "MAX_ACTIVE_KEYS_PER_OWNER", 3)
    async with db.transaction() as uow:
        game = await games.create_game(uow, box=BOX, name="Limited", actor=ADMIN)
        issued = [
            await keys.issue_key(uow, owner=Owner.game(game.id), kind=KeyKind.SERVER, actor=ADMIN)
            for _ in range(3)
        ]
        with pytest.raises(TooManyKeys):
            await keys.issue_key(uow, owner=Owner.game(game.id), kind=KeyKind.SERVER, actor=ADMIN)
        await keys.revoke_key(uow, key_id=issued[0].credential.id, actor=ADMIN)
        await keys.issue_key(uow, owner=Owner.game(game.id), kind=KeyKind.SERVER, actor=ADMIN)


async def test_last_used_is_recorded_in_batches(db, clock):
    async with db.transaction() as uow:
        game = await games.create_game(uow, box=BOX, name="Used", actor=ADMIN)
        issued = await keys.issue_key(
            uow, owner=Owner.game(game.id), kind=KeyKind.SERVER, actor=ADMIN
        )
    async with db.transaction() as uow:
        await uow.identity.touch_credentials({issued.credential.id: clock.now})
        await uow.identity.touch_credentials({issued.credential.id: clock.now.replace(year=2025)})
    async with db.transaction() as uow:
        [listed] = await keys.list_keys(uow, owner=Owner.game(game.id))
    assert listed.last_used_at == clock.now  # an older report never moves it back


async def test_players_and_identities(db):
    async with db.transaction() as uow:
        alice = await players.create_player(
            uow,
            email=" Alice@Example.COM ",
            password="correct horse",
            display_name="Alice",
            actor=ADMIN,
        )
        assert alice.email == "alice@example.com" and alice.has_password
        stored = (await uow.conn.execute(select(player.c.password_hash))).scalar_one()
        assert stored.startswith("$argon2id$") and "correct horse" not in stored
        with pytest.raises(InvalidInput):
            await players.create_player(uow, email="not-an-email", actor=ADMIN)
        with pytest.raises(InvalidInput):
            await players.create_player(uow, password="short", actor=ADMIN)
    with pytest.raises(EmailTaken):
        async with db.transaction() as uow:
            await players.create_player(uow, email="alice@example.com", actor=ADMIN)
    async with db.transaction() as uow:
        game = await games.create_game(uow, box=BOX, name="Scoped", actor=ADMIN)
        p1, new1 = await players.player_for_identity(
            uow, provider="itch", subject="42", game_id=game.id, actor=ADMIN
        )
        p2, new2 = await players.player_for_identity(
            uow, provider="itch", subject="42", game_id=game.id, actor=ADMIN
        )
        p3, new3 = await players.player_for_identity(
            uow, provider="itch", subject="42", actor=ADMIN
        )
        assert (new1, new2, new3) == (True, False, True)
        assert p1.id == p2.id != p3.id
        with pytest.raises(IdentityTaken):
            await players.link_identity(uow, player_id=alice.id, provider="itch", subject="42")
        with pytest.raises(InvalidInput):
            await players.link_identity(uow, player_id=alice.id, provider="myspace", subject="1")
        linked = await players.link_identity(
            uow, player_id=alice.id, provider="steam", subject="765"
        )
        assert [i.id for i in await uow.identity.list_identities(alice.id)] == [linked.id]


async def test_audit_pages_newest_first(db):
    async with db.transaction() as uow:
        for n in range(5):
            await audit.record(uow, f"test.{n}", actor=ADMIN)
    async with db.transaction() as uow:
        first = await audit.list_entries(uow, limit=2, before=None)
        second = await audit.list_entries(uow, limit=10, before=first[-1].id)
    assert [e.action for e in first + second] == [f"test.{n}" for n in (4, 3, 2, 1, 0)]
    assert first[0].actor == "admin" and first[0].ip == "127.0.0.1"
