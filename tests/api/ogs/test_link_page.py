"""The account-link page over HTTP, as a browser without JavaScript uses it (SQLite, PostgreSQL).

The client speaks to the app as ``http://127.0.0.1`` (plain local HTTP, where the page's
cookies are not Secure and so come back) and never follows redirects by itself: each test
looks at the 303 answers the way a browser would follow them.
"""

from __future__ import annotations

import re
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest

from support.provision import ADMIN, audit_actions, new_game, new_key

pytestmark = pytest.mark.anyio
PAGE = "/link-account"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
_H1 = re.compile(r"<h1[^>]*>(.*?)</h1>", re.S)
_ALERT = re.compile(r'<div class="alert" role="alert"[^>]*>(.*?)</div>', re.S)


def text_of(fragment: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


def heading(html: str) -> str:
    found = _H1.search(html)
    assert found, html
    return text_of(found.group(1))


def alert(html: str) -> str:
    found = _ALERT.search(html)
    assert found, html
    return text_of(found.group(1))


ORIGIN = "https://play.example.com"
PASSWORD = "correct horse battery"
AUTH = "/api/v1/auth"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


class Ogs:
    """The game server's side: a game with a server key, link tokens, verify-link-token."""

    bearer = staticmethod(bearer)

    def __init__(self, client) -> None:
        self.client = client

    async def game(self, name: str = "Trivia Jam") -> tuple[str, dict]:
        game_id = await new_game(self.client, name=name, allowedOrigins=[ORIGIN])
        return game_id, bearer((await new_key(self.client, game_id))["key"])

    async def sign_up(self, email: str) -> None:
        body = {"email": email, "password": PASSWORD}
        assert (await self.client.post(f"{AUTH}/signup", json=body)).status_code == 201

    async def link_token(
        self, key: dict, game_user_id: str = "user-123", redirect: str = ""
    ) -> str:
        body = {"gameUserId": game_user_id, "redirectUrl": redirect or f"{ORIGIN}/auth/callback"}
        response = await self.client.post(f"{AUTH}/account-link-token", json=body, headers=key)
        assert response.status_code == 200, response.text
        return response.json()["linkToken"]

    async def verify_link(self, key: dict, token: str) -> dict:
        response = await self.client.post(
            f"{AUTH}/verify-link-token", json={"token": token}, headers=key
        )
        assert response.status_code == 200, response.text
        return response.json()


class LinkPage:
    """The link page driven like a browser: GET the page, post its forms, keep cookies."""

    def __init__(self, client, token: str) -> None:
        self.client = client
        self.token = token
        self.csrf = ""

    async def open(self, token: str | None = None):
        response = await self.client.get(PAGE, params={"token": token or self.token})
        if found := _CSRF.search(response.text):
            self.csrf = found.group(1)
        return response

    async def post(self, action: str, *, csrf: str | None = None, **fields: str):
        form = {"token": self.token, "csrf_token": self.csrf if csrf is None else csrf, **fields}
        return await self.client.post(f"{PAGE}/{action}", data=form)

    async def sign_up(self, email: str = "ada@example.com", password: str = PASSWORD):
        await self.open()
        response = await self.post("sign-up", email=email, password=password)
        assert response.status_code == 303, response.text
        return response


@pytest.fixture
async def browser(make_client):
    async with make_client() as client:
        client.base_url = "http://127.0.0.1"
        client.follow_redirects = False
        yield client


@pytest.fixture
async def game(browser):
    """A game allowing ORIGIN, its key headers and a pending link token for user-123."""
    ogs = Ogs(browser)
    game_id, key = await ogs.game(name="Trivia <Jam>")
    return ogs, game_id, key, await ogs.link_token(key)


async def test_the_page_names_the_game_and_offers_sign_in_and_sign_up(browser, game) -> None:
    _, _, _, token = game
    response = await LinkPage(browser, token).open()

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    html = response.text
    assert '<html lang="en">' in html
    assert heading(html) == "Trivia <Jam> wants to link to your Gamekeeper account"
    assert "Trivia &lt;Jam&gt;" in html and "Trivia <Jam>" not in html  # escaped
    assert "<main" in html and "<header" in html
    for field in ("sign-in-email", "sign-in-password", "sign-up-email", "sign-up-password"):
        assert f'<label for="{field}">' in html and f'id="{field}"' in html
    assert 'action="/link-account/sign-in"' in html and 'action="/link-account/sign-up"' in html
    assert "user-123" in html and "play.example.com" in html
    assert 'href="/static/ogs/link.css"' in html
    csp = response.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp and "form-action 'self'" in csp
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["referrer-policy"] == "no-referrer"
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("gk_link_csrf=")
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/link-account" in cookie
    assert "Secure" not in cookie  # plain HTTP on loopback

    css = await browser.get("/static/ogs/link.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")


async def test_sign_up_then_confirm_links_and_returns_to_the_game(browser, game) -> None:
    ogs, game_id, key, token = game
    page = LinkPage(browser, token)

    signed_up = await page.sign_up()
    assert signed_up.headers["location"] == f"{PAGE}?token={token}"
    session = signed_up.headers["set-cookie"]
    assert session.startswith("gk_link_session=") and "HttpOnly" in session
    assert "SameSite=lax" in session and "Path=/link-account" in session

    confirm_step = await page.open()
    assert heading(confirm_step.text) == "Link Trivia <Jam> to your account?"
    assert "ada@example.com" in confirm_step.text
    assert (
        "form-action 'self' https://play.example.com"
        in (confirm_step.headers["content-security-policy"])
    )

    answered = await page.post("confirm")
    assert answered.status_code == 303
    target = urlsplit(answered.headers["location"])
    assert f"{target.scheme}://{target.netloc}{target.path}" == f"{ORIGIN}/auth/callback"
    assert parse_qs(target.query) == {"token": [token], "status": ["linked"]}

    verified = await ogs.verify_link(key, token)
    assert verified["valid"] is True and verified["status"] == "linked"
    player = ogs.bearer(session.split("=", 1)[1].split(";")[0])  # the page's session token
    assert verified["userId"] == (await browser.get("/api/v1/auth/me", headers=player)).json()["id"]
    links = (await browser.get("/api/v1/auth/links", headers=player)).json()["links"]
    assert [(link["gameId"], link["gameUserId"]) for link in links] == [(game_id, "user-123")]

    again = await page.open()
    assert again.status_code == 410
    assert heading(again.text) == "This link was already used"


async def test_the_return_address_keeps_its_own_query(browser) -> None:
    ogs = Ogs(browser)
    _, key = await ogs.game()
    token = await ogs.link_token(key, "u-9", f"{ORIGIN}/cb?from=menu&status=old#top")
    page = LinkPage(browser, token)
    await page.sign_up()
    await page.open()

    answered = await page.post("decline")

    assert answered.status_code == 303
    target = urlsplit(answered.headers["location"])
    assert target.path == "/cb" and target.fragment == "top"
    assert parse_qs(target.query) == {
        "from": ["menu"],
        "token": [page.token],
        "status": ["declined"],
    }


async def test_decline_returns_declined_and_links_nothing(browser, game) -> None:
    ogs, _, key, token = game
    page = LinkPage(browser, token)
    await page.sign_up()
    await page.open()

    answered = await page.post("decline")

    assert answered.status_code == 303
    assert parse_qs(urlsplit(answered.headers["location"]).query)["status"] == ["declined"]
    verified = await ogs.verify_link(key, token)
    assert verified["valid"] is True and verified["status"] == "declined"
    assert "userId" not in verified or verified["userId"] is None
    assert (await page.open()).status_code == 410


async def test_an_expired_link_is_gone(browser, game, clock) -> None:
    ogs, _, key, token = game
    page = LinkPage(browser, token)
    await page.sign_up()
    await page.open()
    clock.advance(1801)  # link tokens live 30 minutes by default

    shown = await page.open()
    assert shown.status_code == 410
    assert heading(shown.text) == "This link has expired"
    assert "start linking again" in shown.text
    answered = await page.post("confirm")
    assert answered.status_code == 410 and "location" not in answered.headers
    assert (await ogs.verify_link(key, token))["valid"] is False


async def test_unknown_and_missing_tokens_get_clear_pages(browser) -> None:
    unknown = await browser.get(PAGE, params={"token": "no-such-token"})
    assert unknown.status_code == 404
    assert heading(unknown.text) == "We could not find this link"
    assert unknown.headers["content-type"].startswith("text/html")

    missing = await browser.get(PAGE)
    assert missing.status_code == 400
    assert heading(missing.text) == "This page needs a link"


async def test_forms_without_the_page_s_csrf_token_are_refused(browser, game) -> None:
    ogs, _, key, token = game
    page = LinkPage(browser, token)
    await page.sign_up()
    await page.open()
    other = LinkPage(browser, await ogs.link_token(key, "user-456"))
    await other.open()

    for csrf in ("", "0" * 64, other.csrf):  # none, forged, another link's
        refused = await page.post("confirm", csrf=csrf)
        assert refused.status_code == 403
        assert "location" not in refused.headers
        assert "could not be verified" in alert(refused.text)
    browser.cookies.delete("gk_link_csrf")
    assert (await page.post("confirm")).status_code == 403  # the cookie half missing

    assert (await ogs.verify_link(key, token))["status"] == "pending"


async def test_wrong_password_and_taken_email_are_shown_on_the_page(browser, game) -> None:
    _, _, _, token = game
    page = LinkPage(browser, token)
    await page.sign_up("ada@example.com")
    browser.cookies.delete("gk_link_session", path=PAGE)
    await page.open()

    wrong = await page.post("sign-in", email="ada@example.com", password="not the password")
    assert wrong.status_code == 401
    assert alert(wrong.text) == "Sign-in failed The email or password is wrong"
    assert 'value="ada@example.com"' in wrong.text  # the email is kept, the password is not
    assert "gk_link_session" not in wrong.headers.get("set-cookie", "")
    assert "auth.failed" in [entry["action"] for entry in await audit_actions(browser)]

    taken = await page.post("sign-up", email="ada@example.com", password=PASSWORD)
    assert taken.status_code == 409
    assert "already uses that email" in alert(taken.text)

    short = await page.post("sign-up", email="bob@example.com", password="short")
    assert short.status_code == 400
    assert "8 to 1024 characters" in alert(short.text)

    signed_in = await page.post("sign-in", email="ada@example.com", password=PASSWORD)
    assert signed_in.status_code == 303
    assert signed_in.headers["set-cookie"].startswith("gk_link_session=")


async def test_repeated_wrong_passwords_lock_the_account_out(make_client, clock) -> None:
    async with make_client(rate_limits={"account_failure": "3/15 minutes"}) as client:
        client.base_url = "http://127.0.0.1"
        client.follow_redirects = False
        ogs = Ogs(client)
        _, key = await ogs.game()
        await ogs.sign_up("ada@example.com")
        page = LinkPage(client, await ogs.link_token(key))
        await page.open()
        for _ in range(3):
            failed = await page.post("sign-in", email="ada@example.com", password="guess-guess")
            assert failed.status_code == 401

        locked = await page.post("sign-in", email="ada@example.com", password=PASSWORD)

        assert locked.status_code == 429
        assert int(locked.headers["retry-after"]) > 0
        assert heading(locked.text) == "Trivia Jam wants to link to your Gamekeeper account"
        assert alert(locked.text).startswith("Too many attempts")


async def test_posts_are_rate_limited_per_address(make_client) -> None:
    # Per hour: with a sliding window, a minute boundary between the hits could let one through.
    async with make_client(rate_limits={"public": "2/hour"}) as client:
        client.base_url = "http://127.0.0.1"
        client.follow_redirects = False
        _, key = await Ogs(client).game()
        page = LinkPage(client, await Ogs(client).link_token(key))
        await page.open()
        for _ in range(2):
            assert (await page.post("sign-in", email="x@example.com", password="p")).status_code
        limited = await page.post("sign-in", email="x@example.com", password="p")

        assert limited.status_code == 429
        assert heading(limited.text) == "Too many attempts"
        assert limited.headers["content-type"].startswith("text/html")


async def test_answering_needs_a_signed_in_player(browser, game) -> None:
    ogs, _, key, token = game
    page = LinkPage(browser, token)
    await page.open()

    refused = await page.post("confirm")

    assert refused.status_code == 401
    assert "sign in again" in alert(refused.text)
    assert 'action="/link-account/sign-in"' in refused.text
    assert (await ogs.verify_link(key, token))["status"] == "pending"


async def test_sign_out_ends_the_page_session(browser, game) -> None:
    _, _, _, token = game
    page = LinkPage(browser, token)
    await page.sign_up()
    await page.open()

    signed_out = await page.post("sign-out")

    assert signed_out.status_code == 303
    assert signed_out.headers["location"] == f"{PAGE}?token={token}"
    assert 'action="/link-account/sign-in"' in (await page.open()).text
    assert (await page.post("confirm")).status_code == 401


async def test_a_return_address_no_longer_allowed_is_not_followed(browser, game) -> None:
    ogs, game_id, key, token = game
    page = LinkPage(browser, token)
    await page.sign_up()
    await page.open()
    moved = await browser.patch(
        f"/admin/v1/games/{game_id}",
        json={"allowedOrigins": ["https://elsewhere.example.com"]},
        headers=ADMIN,
    )
    assert moved.status_code == 200, moved.text

    refused = await page.post("confirm")

    assert refused.status_code == 400
    assert "location" not in refused.headers
    assert heading(refused.text) == "The game's return address is not allowed"
    assert (await ogs.verify_link(key, token))["status"] == "pending"


async def test_a_game_account_linked_to_another_player_is_refused(browser, game) -> None:
    ogs, _, key, token = game
    first = LinkPage(browser, token)
    await first.sign_up("ada@example.com")
    await first.open()
    assert (await first.post("confirm")).status_code == 303
    browser.cookies.delete("gk_link_session", path=PAGE)
    second = LinkPage(browser, await ogs.link_token(key, "user-123"))
    await second.sign_up("bob@example.com")
    await second.open()

    refused = await second.post("confirm")

    assert refused.status_code == 409
    assert "already linked to another player" in alert(refused.text)
    assert (await ogs.verify_link(key, second.token))["status"] == "pending"


async def test_cookies_are_secure_beyond_plain_local_http(make_client, clock) -> None:
    async with make_client() as client:
        client.base_url = "https://games.example.com"
        client.follow_redirects = False
        _, key = await Ogs(client).game()
        token = await Ogs(client).link_token(key)
        page = LinkPage(client, token)

        shown = await page.open()
        assert "Secure" in shown.headers["set-cookie"]
        signed_up = await page.sign_up()
        assert "Secure" in signed_up.headers["set-cookie"]
