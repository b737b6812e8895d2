"""OGP test helpers: developers, signed requests, images, games seeded through the API."""

from __future__ import annotations

import base64
import io
from dataclasses import replace
from decimal import Decimal

import pytest
from PIL import Image

from gamekeeper.core.catalog.events import CatalogChanged
from gamekeeper.core.identity import hmac_auth
from support.provision import ADMIN, in_app


def image_bytes(fmt: str = "PNG", size: tuple[int, int] = (4, 3), colour: str = "red") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, fmt)
    return buffer.getvalue()


def data_uri(data: bytes, declared: str = "png") -> str:
    return f"data:image/{declared};base64," + base64.b64encode(data).decode()


MONEY = frozenset(
    {
        "total_rewards_pool_value_usd",
        "total_rewards_allocated_usd",
        "estimated_daily_rewards_usd",
        "market_cap",
    }
)


class Ogp:
    """Drives the OGP API as a developer's server would."""

    image = staticmethod(image_bytes)
    data_uri = staticmethod(data_uri)

    def __init__(self, client, clock) -> None:
        self.client = client
        self.clock = clock
        self.signed_count = 0

    async def developer(self, name: str = "Dev") -> dict:
        response = await self.client.post(
            "/admin/v1/developers", json={"name": name}, headers=ADMIN
        )
        assert response.status_code == 201, response.text
        return response.json()

    def headers(
        self,
        developer: dict,
        method: str,
        path: str,
        *,
        ms: bool | None = None,
        separator: str = ", ",
        secret: str | None = None,
        skew: float = 0,
    ) -> dict[str, str]:
        """``ms``: True milliseconds, False seconds; by default a fresh millisecond per call,
        as a signature of a write is good for one request and the test clock stands still."""
        seconds = int(self.clock().timestamp() + skew)
        if ms is None:
            self.signed_count += 1
            timestamp = str(seconds * 1000 + self.signed_count)
        else:
            timestamp = str(seconds * 1000 if ms else seconds)
        value = hmac_auth.header_value(
            developer["apiKey"], secret or developer["secretKey"], method, path, timestamp
        )
        return {"Authorization": value.replace(", ", separator)}

    async def signed(self, developer: dict, method: str, path: str, **kwargs):
        headers = self.headers(developer, method, path)
        return await self.client.request(method, path, headers=headers, **kwargs)

    def game_fields(self, **fields) -> dict:
        return {
            "name": "Space Race",
            "description": "Race through space",
            "gameUrl": "https://space.example/play",
            "platform": "WEB",
            "base64Image": data_uri(image_bytes()),
            **fields,
        }

    async def register(self, developer: dict, **fields) -> dict:
        response = await self.signed(developer, "POST", "/games", json=self.game_fields(**fields))
        assert response.status_code == 201, response.text
        return response.json()["data"]

    def set_listing(self, game_id: str, **values) -> None:
        """Set listing columns directly: there is no rewards economy to move them yet."""
        values = {k: Decimal(v) if k in MONEY else v for k, v in values.items()}

        async def update(runtime):
            async with runtime.db.transaction() as uow:
                found = await uow.catalog.get(game_id)
                await uow.catalog.update_listing(replace(found.listing, **values))
                uow.emit(CatalogChanged())  # as the core's own writes do

        in_app(self.client, update)


@pytest.fixture
async def client(make_client):
    async with make_client() as client:
        yield client


@pytest.fixture
def ogp(client, clock) -> Ogp:
    return Ogp(client, clock)
