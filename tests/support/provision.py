"""Provisioning through the admin API, as an operator would."""

from __future__ import annotations

from conftest import ADMIN_TOKEN

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


async def new_game(client, name="Game", **fields) -> str:
    response = await client.post("/admin/v1/games", json={"name": name, **fields}, headers=ADMIN)
    assert response.status_code == 201, response.text
    return response.json()["id"]


async def new_key(client, game_id, kind="server", **fields) -> dict:
    response = await client.post(
        f"/admin/v1/games/{game_id}/keys", json={"kind": kind, **fields}, headers=ADMIN
    )
    assert response.status_code == 201, response.text
    return response.json()


async def new_developer(client, name="Dev") -> dict:
    response = await client.post("/admin/v1/developers", json={"name": name}, headers=ADMIN)
    assert response.status_code == 201, response.text
    return response.json()


async def audit_actions(client, limit=50) -> list[dict]:
    response = await client.get(f"/admin/v1/audit?limit={limit}", headers=ADMIN)
    assert response.status_code == 200
    return response.json()["items"]


def in_app(client, fn, *args):
    """Run ``await fn(runtime, *args)`` on the application's own event loop.

    The test client serves the app from a portal thread; its database pool belongs to that
    loop, so direct access to the app's runtime must happen there too.
    """
    return client.blocking_portal.call(fn, client.app.state.runtime, *args)
