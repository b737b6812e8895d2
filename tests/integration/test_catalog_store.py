"""The catalog store against real storage (SQLite and PostgreSQL)."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest
from sqlalchemy import select

from gamekeeper.core.audit import Actor
from gamekeeper.core.catalog.types import (
    IdentityKind,
    Listing,
    ListingQuery,
    Platform,
    Position,
    SortKey,
)
from gamekeeper.core.identity import games
from gamekeeper.core.secrets import SecretBox
from gamekeeper.db.tables.catalog import listing

pytestmark = pytest.mark.anyio
ADMIN = Actor("admin")
BOX = SecretBox("x" * 40)


async def _listed(db, *, name: str, description: str = "A game", **values) -> str:
    async with db.transaction() as uow:
        developer, _ = await games.create_developer(
            uow, name="Dev", email=None, box=BOX, actor=ADMIN
        )
        game = await games.create_game(
            uow, name=name, developer_id=developer.id, box=BOX, actor=ADMIN
        )
        now = uow.now()
        await uow.catalog.add_listing(
            Listing(
                game_id=game.id,
                description=description,
                platform=Platform.WEB,
                creator_id=developer.id,
                created_at=now,
                updated_at=now,
                **values,
            )
        )
    return game.id


async def test_amounts_are_exact_and_sort_as_numbers(db):
    amounts = ["999999999999.999999", "0.000001", "10.5", "9.999999", "0"]
    ids = {a: await _listed(db, name=f"G{a}", market_cap=Decimal(a)) for a in amounts}
    async with db.transaction(write=False) as uow:
        found = await uow.catalog.get(ids["999999999999.999999"])
        assert found.listing.market_cap == Decimal("999999999999.999999")
        page, total = await uow.catalog.query(ListingQuery(sort=SortKey.MARKET_CAP, limit=10))
        raw = (await uow.conn.execute(select(listing.c.market_cap))).scalars().all()
    assert total == 5
    assert [item.listing.market_cap for item in page] == sorted(
        (Decimal(a) for a in amounts), reverse=True
    )
    assert all(isinstance(value, Decimal) for value in raw)


async def test_keyset_positions_continue_after_equal_values(db):
    ids = sorted([await _listed(db, name=f"Same {i}", player_count=7) for i in range(4)])
    query = ListingQuery(sort=SortKey.PLAYER_COUNT, descending=False, limit=2)
    async with db.transaction(write=False) as uow:
        first, _ = await uow.catalog.query(query)
        after = Position(7, first[-1].game.id)
        second, _ = await uow.catalog.query(replace(query, after=after))
    assert [g.game.id for g in first + second] == ids


async def test_text_search_ignores_case_on_both_databases(db):
    wanted = await _listed(db, name="Dragon Quest", description="Slay it")
    also = await _listed(db, name="Quiet", description="no DRAGONS here")
    await _listed(db, name="Other", description="nothing")
    async with db.transaction(write=False) as uow:
        found, total = await uow.catalog.query(ListingQuery(text="dRaGoN"))
    assert total == 2
    assert {g.game.id for g in found} == {wanted, also}


async def test_search_pages_carry_the_total_of_all_matches(db):
    matching = [await _listed(db, name=f"Quest {n}", description="x") for n in range(3)] + [
        await _listed(db, name=f"Game {n}", description="a QUEST") for n in range(3)
    ]
    await _listed(db, name="Hidden quest", hidden=True)
    await _listed(db, name="Unrelated", description="none")
    query = ListingQuery(sort=SortKey.NAME, descending=False, limit=4, text="quest")
    async with db.read() as uow:
        first, first_total = await uow.catalog.query(query)
        after = Position(first[-1].game.name.lower(), first[-1].game.id)
        second, second_total = await uow.catalog.query(replace(query, after=after))
        beyond, beyond_total = await uow.catalog.query(replace(query, offset=10))
    names = [g.game.name for g in first + second]
    assert names == sorted(names, key=str.lower) and len(names) == 6
    assert {g.game.id for g in first + second} == set(matching)
    # The total counts every match, whichever page (offset, cursor or past the end) was asked.
    assert (first_total, second_total, beyond_total) == (6, 6, 6)
    assert beyond == []


async def test_an_identity_links_to_the_first_developer_only(db):
    async with db.transaction() as uow:
        first, _ = await games.create_developer(uow, name="A", email=None, box=BOX, actor=ADMIN)
        second, _ = await games.create_developer(uow, name="B", email=None, box=BOX, actor=ADMIN)
        linked = await uow.catalog.add_identity(
            IdentityKind.EMAIL, "a@x.example", developer_id=first.id, at=uow.now()
        )
        # The loser of a race finds the winner, and its transaction carries on.
        again = await uow.catalog.add_identity(
            IdentityKind.EMAIL, "a@x.example", developer_id=second.id, at=uow.now()
        )
        other = await uow.catalog.add_identity(
            IdentityKind.TWITTER, "ada", developer_id=second.id, at=uow.now()
        )
    assert (linked, again, other) == (first.id, first.id, second.id)
    async with db.transaction(write=False) as uow:
        assert await uow.catalog.find_identity(IdentityKind.EMAIL, "a@x.example") == first.id
        assert await uow.catalog.identities_of(second.id) == [(IdentityKind.TWITTER, "ada")]
        assert await uow.catalog.existing_developers([first.id, "nope"]) == {first.id}
