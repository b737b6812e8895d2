"""A key of one owner is refused on another owner's objects, in every dialect.

One table: each row is a dialect, the owner whose key is used, the object of another owner it
reaches for, and what the caller must see (status and the dialect's own error). Kongregate and
the tournament platform have no endpoints of their own yet; their rows go through the probe
routes, which use the same guards and envelopes as their dialects will.
"""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass

import pytest
from litestar import Router, get
from litestar.params import FromPath
from PIL import Image

from gamekeeper.api import guards as g
from gamekeeper.api.deps import KeyPrincipalDep
from gamekeeper.api.dialects.tournaments.errors import STATUS_OVERRIDES
from gamekeeper.api.dialects.tournaments.errors import render as tournaments
from gamekeeper.api.errors import exception_handlers
from gamekeeper.core.identity import hmac_auth
from gamekeeper.core.identity.errors import PlatformNotFound
from gamekeeper.core.identity.types import KeyKind
from gamekeeper.core.owners.types import Owner, OwnerKind
from support.probes import routers
from support.provision import ADMIN, new_developer, new_game

pytestmark = pytest.mark.anyio


@get("/platforms/{platform_id:str}")
async def platform_probe(platform_id: FromPath[str], principal: KeyPrincipalDep) -> dict:
    if principal.owner != Owner(OwnerKind.PLATFORM, platform_id):
        raise PlatformNotFound()
    return {"platform": platform_id}


PLATFORM_PROBE = Router(
    "/probe/platform",
    route_handlers=[platform_probe],
    guards=g.guards(g.require_key(KeyKind.INTERNAL, owner=OwnerKind.PLATFORM)),
    exception_handlers=exception_handlers(tournaments, STATUS_OVERRIDES),
)


@dataclass
class World:
    """Two of each owner, each with its keys: ``keys[owner][kind]``."""

    games: list[str]
    operators: list[str]
    platforms: list[str]
    developers: list[dict]
    keys: dict[str, dict[str, str]]
    link_token: str  # an OGS account-link token of games[1]


async def _key(client, path: str, kind: str) -> str:
    response = await client.post(f"/admin/v1/{path}/keys", json={"kind": kind}, headers=ADMIN)
    assert response.status_code == 201, response.text
    return response.json()["key"]


async def _owner(client, path: str, name: str) -> str:
    response = await client.post(f"/admin/v1/{path}", json={"name": name}, headers=ADMIN)
    assert response.status_code == 201, response.text
    return response.json()["id"]


async def _world(client) -> World:
    origins = {"allowedOrigins": ["https://b.example"]}
    games = [await new_game(client, "A", **origins), await new_game(client, "B", **origins)]
    operators = [await _owner(client, "operators", f"Cup {n}") for n in "AB"]
    platforms = [await _owner(client, "platforms", f"Arcade {n}") for n in "AB"]
    keys = {
        "gameA": {
            "server": await _key(client, f"games/{games[0]}", "server"),
            "internal": await _key(client, f"games/{games[0]}", "internal"),
        },
        "gameB": {"server": await _key(client, f"games/{games[1]}", "server")},
        "operatorA": {"operator": await _key(client, f"operators/{operators[0]}", "operator")},
        "platformA": {"internal": await _key(client, f"platforms/{platforms[0]}", "internal")},
    }
    link = await client.post(
        "/api/v1/auth/account-link-token",
        json={"gameUserId": "user-b", "redirectUrl": "https://b.example/back"},
        headers={"Authorization": f"Bearer {keys['gameB']['server']}"},
    )
    assert link.status_code == 200, link.text
    developers = [await new_developer(client, "Dev A"), await new_developer(client, "Dev B")]
    return World(games, operators, platforms, developers, keys, link.json()["linkToken"])


def _bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def _signed(developer: dict, clock, method: str, path: str) -> dict[str, str]:
    timestamp = str(int(clock().timestamp()))
    value = hmac_auth.header_value(
        developer["apiKey"], developer["secretKey"], method, path, timestamp
    )
    return {"Authorization": value}


async def _ogp_game(client, clock, developer: dict) -> str:
    image = io.BytesIO()
    Image.new("RGB", (4, 3), "red").save(image, "PNG")
    body = {
        "name": "Listed",
        "description": "A game",
        "gameUrl": "https://l.example/play",
        "platform": "WEB",
        "base64Image": "data:image/png;base64," + base64.b64encode(image.getvalue()).decode(),
    }
    response = await client.post(
        "/games", json=body, headers=_signed(developer, clock, "POST", "/games")
    )
    assert response.status_code == 201, response.text
    return response.json()["data"]["id"]


async def ogs_other_games_link_token(client, w, clock):
    return await client.post(
        "/api/v1/auth/verify-link-token",
        json={"token": w.link_token},
        headers=_bearer(w.keys["gameA"]["server"]),
    )


async def ogs_operator_key(client, w, clock):
    return await client.post(
        "/api/v1/auth/verify-link-token",
        json={"token": w.link_token},
        headers=_bearer(w.keys["operatorA"]["operator"]),
    )


async def ogs_platform_key(client, w, clock):
    return await client.post(
        "/api/v1/auth/account-link-token",
        json={"gameUserId": "u", "redirectUrl": "https://b.example/back"},
        headers=_bearer(w.keys["platformA"]["internal"]),
    )


async def battleplace_other_projects_token(client, w, clock):
    token = w.keys["gameA"]["server"]
    body = {"projectId": w.games[1], "projectServerToken": token, "name": "EU"}
    return await client.post("/v1a/server/match", json=body)


async def battleplace_platform_key(client, w, clock):
    token = w.keys["platformA"]["internal"]
    body = {"projectId": w.games[0], "projectServerToken": token, "name": "EU"}
    return await client.post("/v1a/server/match", json=body)


async def ogp_other_developers_game(client, w, clock):
    game = await _ogp_game(client, clock, w.developers[1])
    path = f"/games/toggle-visibility/{game}"
    return await client.post(path, headers=_signed(w.developers[0], clock, "POST", path))


async def kongregate_other_games_key(client, w, clock):
    return await client.get(f"/probe/kong/games/{w.games[1]}?api_key={w.keys['gameA']['server']}")


async def kongregate_operator_key(client, w, clock):
    return await client.get(
        f"/probe/kong/games/{w.games[0]}?api_key={w.keys['operatorA']['operator']}"
    )


async def platform_other_platforms_object(client, w, clock):
    return await client.get(
        f"/probe/platform/platforms/{w.platforms[1]}",
        headers=_bearer(w.keys["platformA"]["internal"]),
    )


async def platform_games_internal_key(client, w, clock):
    return await client.get(
        f"/probe/platform/platforms/{w.platforms[0]}",
        headers=_bearer(w.keys["gameA"]["internal"]),
    )


async def admin_other_operators_webhook(client, w, clock):
    hook = await client.post(
        f"/admin/v1/operators/{w.operators[1]}/webhooks",
        json={"url": "https://hooks.example.com/b"},
        headers=ADMIN,
    )
    return await client.get(
        f"/admin/v1/operators/{w.operators[0]}/webhooks/{hook.json()['id']}", headers=ADMIN
    )


def _ogs_code(body):
    return body["error"]["code"]


# (how to send it, the status, what of the body to read, what it must say)
CASES = [
    # OGS: a game's own link tokens only; keys of other owners are turned away at the door.
    (ogs_other_games_link_token, 200, lambda b: b, {"valid": False}),
    (ogs_operator_key, 403, _ogs_code, "wrong_key_owner"),
    (ogs_platform_key, 403, _ogs_code, "wrong_key_owner"),
    # BattlePlace: a server token speaks for its own project only.
    (battleplace_other_projects_token, 401, lambda b: b["status"], "notAuthenticated"),
    (battleplace_platform_key, 401, lambda b: b["status"], "notAuthenticated"),
    # OGP: a developer's signature reaches its own games only.
    (ogp_other_developers_game, 403, lambda b: b["statusCode"], 403),
    # Kongregate (probe): the api_key of one game on another, an operator's key.
    (kongregate_other_games_key, 404, lambda b: b["success"], False),
    (kongregate_operator_key, 403, lambda b: (b["success"], b["error"]), (False, 403)),
    # Tournament platform (probe): one platform's key on another's object; a game's key.
    (platform_other_platforms_object, 404, lambda b: b["success"], False),
    (platform_games_internal_key, 403, lambda b: b["success"], False),
    # Admin: an owner's webhook is not found under another owner.
    (admin_other_operators_webhook, 404, _ogs_code, "webhook_not_found"),
]


@pytest.fixture
async def client(make_client):
    async with make_client(extra_routes=[*routers(), PLATFORM_PROBE]) as client:
        yield client


@pytest.mark.parametrize(
    ("send", "status", "read", "expected"), CASES, ids=lambda c: getattr(c, "__name__", None)
)
async def test_a_key_of_one_owner_is_refused_on_another_owners_objects(
    client, clock, send, status, read, expected
):
    world = await _world(client)
    response = await send(client, world, clock)
    assert response.status_code == status, response.text
    assert read(response.json()) == expected
