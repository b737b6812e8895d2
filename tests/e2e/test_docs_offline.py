"""``/docs`` works without internet access: Chromium, every non-loopback request refused.

The Swagger UI's scripts and stylesheet come from the package (``swagger-ui-bundle``), served
by ``gamekeeper serve`` itself. The browser aborts any request to another host, and the test
checks that the page renders the operations of the document and expands one.

Setup as the other browser tests: Debian's ``chromium``, driven by Playwright for Python.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from support.browser import FLAGS
from support.required import unavailable

pytestmark = pytest.mark.slow

STEP_TIMEOUT_MS = 15_000
LOOPBACK = {"127.0.0.1", "localhost", "[::1]", "::1"}


def test_the_docs_page_renders_every_dialect_offline(start_server, tmp_path: Path, chromium):
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("playwright is not installed (pip install -e '.[test]')")
    server = start_server(tmp_path / "data")
    asset = httpx.get(f"{server.url}/static/swagger-ui/swagger-ui-bundle.js")
    assert asset.status_code == 200
    assert "max-age" in asset.headers["cache-control"]
    refused: list[str] = []
    failed: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(chromium), args=FLAGS)
        try:
            page = browser.new_page()
            page.set_default_timeout(STEP_TIMEOUT_MS)

            def only_loopback(route):
                if urlsplit(route.request.url).hostname in LOOPBACK:
                    route.continue_()
                else:
                    refused.append(route.request.url)
                    route.abort()

            page.route("**/*", only_loopback)
            page.on("requestfailed", lambda request: failed.append(request.url))
            page.goto(f"{server.url}/docs")
            # One operation of each dialect is listed.
            for path in ("/admin/v1/games", "/api/v1/auth/login", "/games/me", "/v1a/client/auth"):
                page.locator(".opblock-summary-path", has_text=path).first.wait_for()
            operation = page.locator(".opblock-post").filter(has_text="/v1a/client/auth").first
            operation.locator(".opblock-summary").click()
            body = operation.locator(".opblock-body")
            body.wait_for()
            assert "projectId" in body.inner_text()  # its request body
            statuses = body.locator(".responses-table .response-col_status").all_inner_texts()
            assert {"200", "400", "401", "429"} <= {s.split()[0] for s in statuses if s.strip()}
        finally:
            browser.close()
    assert not refused, refused  # nothing was asked of another host
    assert not failed, failed
