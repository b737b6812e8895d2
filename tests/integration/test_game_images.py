"""Game images are stored before the transaction that lists them, and a retry reuses them.

``listings.register_game`` stores the (content-addressed) blobs first and lists the game in a
transaction after. A registration whose transaction fails after the blob write leaves the
bytes and no game; registering again stores the same key and lists the game once.
"""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from PIL import Image

from gamekeeper.core.audit import Actor
from gamekeeper.core.catalog import listings
from gamekeeper.core.catalog.types import ListingQuery, SortKey
from gamekeeper.core.catalog.uploads import ImageInput
from gamekeeper.core.errors import Conflict, InvalidInput
from gamekeeper.core.identity import games
from gamekeeper.core.secrets import SecretBox
from gamekeeper.infra.blobs import MemoryBlobStore, blob_key

pytestmark = pytest.mark.anyio
ADMIN = Actor("admin")
BOX = SecretBox("x" * 40)


class SlugRace(Conflict):
    code = "slug_taken"
    message = "Another registration took the slug as this one committed"


class FailsOnce:
    """The database, except that its first write transaction fails at the end of its block.

    As a registration that loses a race for a unique value when it commits: everything the
    block wrote is rolled back.
    """

    def __init__(self, db, blobs: MemoryBlobStore) -> None:
        self.db = db
        self.blobs = blobs
        self.failed = False
        self.stored_at_begin: list[set[str]] = []  # the blob keys as each transaction began

    @asynccontextmanager
    async def transaction(self, *, write: bool = True) -> AsyncIterator[object]:
        self.stored_at_begin.append(set(self.blobs.blobs))
        async with self.db.transaction(write=write) as uow:
            yield uow
            if write and not self.failed:
                self.failed = True
                raise SlugRace()

    def read(self):
        return self.db.read()

    def autocommit(self):
        return self.db.autocommit()


def png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 3), "red").save(buffer, "PNG")
    return buffer.getvalue()


async def _developer(db) -> str:
    async with db.transaction() as uow:
        developer, _ = await games.create_developer(
            uow, name="Dev", email=None, box=BOX, actor=ADMIN
        )
    return developer.id


async def _listed(db, developer_id: str) -> list[str]:
    query = ListingQuery(sort=SortKey.CREATED_AT, limit=10, developer_id=developer_id)
    async with db.read() as uow:
        page = await listings.list_games(uow, query, None)
    return [item.game.name for item in page.items]


async def _register(db, developer_id: str, blobs: MemoryBlobStore):
    return await listings.register_game(
        db,
        developer_id=developer_id,
        fields={
            "name": "Space Race",
            "description": "Race through space",
            "game_url": "https://space.example/play",
            "platform": "WEB",
        },
        image=ImageInput(file=png()),
        cover=ImageInput(),
        blobs=blobs,
        box=BOX,
        actor=ADMIN,
    )


async def test_a_failed_registration_leaves_its_blob_and_no_game_and_a_retry_lists_it(db):
    developer_id = await _developer(db)
    blobs = MemoryBlobStore()
    failing = FailsOnce(db, blobs)

    with pytest.raises(SlugRace):
        await _register(failing, developer_id, blobs)
    key = blob_key(png(), "image/png")
    assert failing.stored_at_begin == [{key}]  # written before the transaction began
    assert set(blobs.blobs) == {key}  # and left there
    assert await _listed(db, developer_id) == []
    async with db.read() as uow:
        assert await uow.identity.slug_exists("space-race") is False

    game = await _register(failing, developer_id, blobs)
    assert set(blobs.blobs) == {key}  # the same bytes, the same key: nothing new
    assert game.listing.image_url == f"{blobs.base_url}/{key}"
    assert await _listed(db, developer_id) == ["Space Race"]


async def test_a_refused_registration_stores_no_blob(db):
    developer_id = await _developer(db)
    blobs = MemoryBlobStore()
    with pytest.raises(InvalidInput, match="description is required"):
        await listings.register_game(
            db,
            developer_id=developer_id,
            fields={"name": "No Description", "game_url": "https://x.example", "platform": "WEB"},
            image=ImageInput(file=png()),
            cover=ImageInput(),
            blobs=blobs,
            box=BOX,
            actor=ADMIN,
        )
    assert blobs.blobs == {}
