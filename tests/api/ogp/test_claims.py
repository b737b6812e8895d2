"""Ownership claims over HTTP against a real page server on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from support.loopback import QuietHandler, serving
from support.provision import audit_actions

pytestmark = pytest.mark.anyio
LOOPBACK = ["127.0.0.0/8"]


class Pages:
    """A loopback web server: ``pages[path] = html``; ``/moved`` redirects to ``/game``,
    ``/away`` to ``away`` (a URL)."""

    def __init__(self) -> None:
        self.pages: dict[str, str] = {}
        self.url = ""
        self.away = ""


@contextmanager
def page_server() -> Iterator[Pages]:
    pages = Pages()

    class Handler(QuietHandler):
        def do_GET(self) -> None:
            if self.path in {"/moved", "/away"}:
                self.reply(302, Location="/game" if self.path == "/moved" else pages.away)
                return
            body = pages.pages.get(self.path)
            data = (body or "not found").encode()
            status = 200 if body is not None else 404
            self.reply(status, data, Content_Type="text/html; charset=utf-8")

    with serving(Handler) as server:
        pages.url = server.url
        yield pages


def html(head: str = "", body: str = "<p>Play!</p>") -> str:
    return f"<!doctype html><html><head><title>Game</title>{head}</head><body>{body}</body></html>"


def meta(key: str, name: str = "x-ogp-key") -> str:
    return f'<meta name="{name}" content="{key}">'


@pytest.fixture
async def client(make_client):
    async with make_client(outbound_allowed_networks=LOOPBACK) as client:
        yield client


@pytest.fixture
def pages() -> Iterator[Pages]:
    with page_server() as pages:
        yield pages


async def test_a_page_with_the_meta_tag_proves_ownership(ogp, client, pages):
    developer = await ogp.developer()
    game = await ogp.register(developer, gameUrl=pages.url + "/game")
    pages.pages["/game"] = html(meta("someone-else") + meta(developer["apiKey"], "X-OGP-Key"))
    response = await ogp.signed(developer, "POST", f"/games/claim-ownership/{game['id']}")
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    assert data["ownershipValidated"] is True and data["ownerId"] == developer["apiKey"]
    [entry] = [e for e in await audit_actions(client) if e["action"] == "game.ownership_claimed"]
    assert entry["targetId"] == game["id"] and entry["actor"] == f"developer:{developer['apiKey']}"
    # Now a split is stored as asked.
    partner = await ogp.developer("Partner")
    split = {developer["apiKey"]: 6000, partner["apiKey"]: 4000}
    updated = await ogp.signed(
        developer, "POST", f"/games/update/{game['id']}", json={"orgRewardsSplit": split}
    )
    assert updated.json()["data"]["orgRewardsSplit"] == split


async def test_a_page_without_the_tag_is_refused_and_audited(ogp, client, pages):
    developer, other = await ogp.developer(), await ogp.developer("Other")
    game = await ogp.register(developer, gameUrl=pages.url + "/game")
    path = f"/games/claim-ownership/{game['id']}"
    for page in (
        html(),
        html(meta(other["apiKey"])),
        html(body=meta(developer["apiKey"])),  # in the body, not the head
        html(f'<meta name="x-ogp-key" value="{developer["apiKey"]}">'),
    ):
        pages.pages["/game"] = page
        response = await ogp.signed(developer, "POST", path)
        assert response.status_code == 403, page
        assert response.json()["message"].startswith(
            'The page at gameUrl has no <meta name="x-ogp-key" content="<your API key>"> tag'
        )
    read = (await client.get(f"/games/{game['id']}")).json()["data"]
    assert read["ownershipValidated"] is False and read["ownerId"] is None
    actions = [e["action"] for e in await audit_actions(client)]
    assert actions.count("game.ownership_claim_failed") == 4


async def test_another_developer_who_controls_the_page_becomes_owner(ogp, client, pages):
    creator, claimer = await ogp.developer(), await ogp.developer("Claimer")
    game = await ogp.register(creator, gameUrl=pages.url + "/moved")  # redirects are followed
    pages.pages["/game"] = html(meta(claimer["apiKey"]))
    response = await ogp.signed(claimer, "POST", f"/games/claim-ownership/{game['id']}")
    assert response.status_code == 200, response.text
    assert response.json()["data"]["ownerId"] == claimer["apiKey"]
    assert response.json()["data"]["creatorId"] == creator["apiKey"]
    path = f"/games/update/{game['id']}"
    assert (await ogp.signed(creator, "POST", path, json={"name": "x"})).status_code == 403
    assert (await ogp.signed(claimer, "POST", path, json={"name": "y"})).status_code == 200


@pytest.mark.parametrize("other", ["localhost", "another port"])
async def test_a_redirect_to_another_site_never_proves_ownership(ogp, client, pages, other):
    """Whoever controls a page the gameUrl redirects to must not become the owner."""
    creator, attacker = await ogp.developer(), await ogp.developer("Attacker")
    game = await ogp.register(creator, gameUrl=pages.url + "/away")
    with page_server() as theirs:
        theirs.pages["/game"] = html(meta(attacker["apiKey"]))
        port = theirs.url.rsplit(":", 1)[1]
        site = f"http://localhost:{port}" if other == "localhost" else theirs.url
        pages.away = site + "/game?token=abc"
        response = await ogp.signed(attacker, "POST", f"/games/claim-ownership/{game['id']}")
    assert response.status_code == 400, response.text
    assert response.json()["message"] == (
        f"gameUrl cannot be checked: it redirects to {site}; "
        f"only redirects within {pages.url} are followed"
    )
    read = (await client.get(f"/games/{game['id']}")).json()["data"]
    assert read["ownershipValidated"] is False and read["ownerId"] is None
    actions = [e["action"] for e in await audit_actions(client)]
    assert "game.ownership_claimed" not in actions


async def test_moving_the_game_elsewhere_drops_the_validation(ogp, client, pages):
    developer = await ogp.developer()
    game = await ogp.register(developer, gameUrl=pages.url + "/game")
    pages.pages["/game"] = html(meta(developer["apiKey"]))
    await ogp.signed(developer, "POST", f"/games/claim-ownership/{game['id']}")
    path = f"/games/update/{game['id']}"
    same_host = await ogp.signed(developer, "POST", path, json={"gameUrl": pages.url + "/v2"})
    assert same_host.json()["data"]["ownershipValidated"] is True
    moved = await ogp.signed(developer, "POST", path, json={"gameUrl": "https://elsewhere.example"})
    assert moved.json()["data"]["ownershipValidated"] is False


async def test_unreachable_pages_are_explained(ogp, client, pages):
    developer = await ogp.developer()
    game = await ogp.register(developer, gameUrl=pages.url + "/missing")
    response = await ogp.signed(developer, "POST", f"/games/claim-ownership/{game['id']}")
    assert response.status_code == 400
    assert response.json()["message"] == "gameUrl answered HTTP 404, not a page"
    unknown = await ogp.signed(
        developer, "POST", "/games/claim-ownership/00000000-0000-4000-8000-000000000000"
    )
    assert unknown.status_code == 404


async def test_private_addresses_are_refused_unless_allowed(ogp, make_client, pages):
    async with make_client() as client:  # outbound_allowed_networks left empty
        ogp.client = client
        developer = await ogp.developer()
        game = await ogp.register(developer, gameUrl=pages.url + "/game")
        pages.pages["/game"] = html(meta(developer["apiKey"]))
        response = await ogp.signed(developer, "POST", f"/games/claim-ownership/{game['id']}")
    assert response.status_code == 400
    assert response.json() == {
        "statusCode": 400,
        "message": "gameUrl cannot be checked: 127.0.0.1 is not a public address",
        "error": "Bad Request",
    }
