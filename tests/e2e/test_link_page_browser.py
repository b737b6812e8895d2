"""A real browser walks the account-link page against a live ``gamekeeper serve``.

Headless Chromium (Debian's ``chromium`` package, driven by Playwright for Python through
``executable_path``; Playwright's own browser download is never used) with JavaScript turned
off, as the page must work without it. A loopback HTTP server stands in for the game's site:
the game is created with that server's origin as its allowed origin, asks for a link token
over the JSON API with its key, and the browser goes to ``linkUrl``, signs up, confirms and
lands on the game's redirect URL. The game then asks ``verify-link-token``.

The test saves a screenshot of the page under the test's temporary directory; to refresh the
README's ``docs/link-page.png``, copy it from there (tests never write over tracked files).

Setup: ``playwright`` comes with the test extra; Debian's ``chromium`` is the machine's, which
``.ci/run`` installs before the suite (a test never installs system packages). Without it the
test is skipped locally and fails in CI (CI=true).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from support.browser import FLAGS
from support.loopback import QuietHandler, serving
from support.processes import Server
from support.required import unavailable
from support.waiting import wait_on

pytestmark = pytest.mark.slow

STEP_TIMEOUT_MS = 15_000


@pytest.fixture
def browser_page(chromium: Path, tmp_path: Path) -> Iterator[object]:
    """A page in a fresh, script-less Chromium profile."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("playwright is not installed (pip install -e '.[test]')")
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path / "profile"),
            executable_path=str(chromium),
            headless=True,
            args=FLAGS,
            java_script_enabled=False,
            viewport={"width": 1200, "height": 860},
            locale="en-GB",
        )
        context.set_default_timeout(STEP_TIMEOUT_MS)
        try:
            yield context.pages[0] if context.pages else context.new_page()
        finally:
            context.close()


# --- The game's site: a loopback server that records where the browser came back -----------


@dataclass
class GameSite:
    origin: str
    visits: list[str] = field(default_factory=list)
    _changed: threading.Condition = field(default_factory=threading.Condition)

    def record(self, path: str) -> None:
        with self._changed:
            self.visits.append(path)
            self._changed.notify_all()

    def wait_for_visit(self, timeout: float = 10.0) -> str:
        wait_on(
            self._changed,
            lambda: self.visits,
            what="the browser came back to the game's site",
            within=timeout,
        )
        return self.visits[0]


@contextmanager
def game_site() -> Iterator[GameSite]:
    site = GameSite(origin="")

    class Handler(QuietHandler):
        def do_GET(self) -> None:
            site.record(self.path)
            body = b"<!doctype html><title>Back in the game</title><h1>Welcome back</h1>"
            self.reply(200, body, Content_Type="text/html; charset=utf-8")

    with serving(Handler) as server:
        site.origin = server.url
        yield site


def _game_with_key(server: Server, origin: str) -> str:
    game = server.admin("games", "create", "--name", "Trivia Jam", "--allowed-origin", origin)
    return str(server.admin("keys", "create", game["id"], "--kind", "server")["key"])


def _post(server: Server, path: str, key: str, body: dict[str, str]) -> dict[str, object]:
    response = httpx.post(
        f"{server.url}/api/v1/auth/{path}",
        json=body,
        headers={"Authorization": f"Bearer {key}"},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    result: dict[str, object] = response.json()
    return result


def test_a_player_links_an_account_in_a_real_browser(
    browser_page, start_server: Callable[..., Server], tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    page = browser_page
    server = start_server(tmp_path / "data")
    with game_site() as site:
        key = _game_with_key(server, site.origin)
        issued = _post(
            server,
            "account-link-token",
            key,
            {"gameUserId": "player-42", "redirectUrl": f"{site.origin}/auth/callback?from=menu"},
        )
        token = str(issued["linkToken"])
        assert issued["linkUrl"] == f"{server.url}/link-account?token={token}"

        page.goto(str(issued["linkUrl"]))
        expect(page.get_by_role("heading", level=1)).to_have_text(
            "Trivia Jam wants to link to your Gamekeeper account"
        )
        expect(page.get_by_role("banner")).to_contain_text("Gamekeeper")
        screenshot = tmp_path / "link-page.png"
        page.screenshot(path=str(screenshot), full_page=True)
        page.keyboard.press("Tab")  # keyboard order: skip link, then the first form's fields
        expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
        page.keyboard.press("Tab")
        expect(page.locator("#sign-in-email")).to_be_focused()

        sign_up = page.get_by_role("form", name="Create an account")
        sign_up.get_by_label("Email").fill("ada@example.com")
        sign_up.get_by_label("Password").fill("correct horse battery")
        sign_up.get_by_role("button", name="Create account").click()

        expect(page.get_by_role("heading", level=1)).to_have_text(
            "Link Trivia Jam to your account?"
        )
        expect(page.get_by_text("You are signed in as")).to_contain_text("ada@example.com")
        page.get_by_role("button", name="Link account").click()

        page.wait_for_url(f"{site.origin}/auth/callback?*")
        expect(page.get_by_role("heading", level=1)).to_have_text("Welcome back")
        landed = urlsplit(site.wait_for_visit())

    assert landed.path == "/auth/callback"
    assert parse_qs(landed.query) == {"from": ["menu"], "token": [token], "status": ["linked"]}
    verified = _post(server, "verify-link-token", key, {"token": token})
    assert verified["valid"] is True
    assert verified["status"] == "linked"
    assert isinstance(verified["userId"], str) and verified["userId"]
    assert (tmp_path / "link-page.png").stat().st_size > 10_000  # a rendered page, not blank
