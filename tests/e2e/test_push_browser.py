"""A real browser subscribes to Web Push with the server's VAPID key; a send reaches it.

Headless Chromium (Debian's ``chromium``, driven by Playwright through ``executable_path``)
against a live ``gamekeeper serve`` whose push relay delivers to the Web Push stand-in
(``support.push.webpush``, HTTPS on loopback with its own CA, which verifies the VAPID JWT and
decrypts the body with the subscription's private key).

The game's web app is a page served on loopback (``http://127.0.0.1`` is a secure context, so
service workers and the Push API are available). The player links their account through the
link page in the same browser, lands back on the app, and the app signs in over the JSON API,
fetches ``vapid-public-key``, checks it is an uncompressed P-256 point
(``crypto.subtle.importKey``), registers a service worker and calls
``pushManager.subscribe({userVisibleOnly: true, applicationServerKey})``.

Chromium's push service is Google's (GCM/FCM), which this machine cannot reach: measured here
(Chromium 156, no DNS), ``subscribe`` neither resolves nor rejects (still pending after 60 s),
while a malformed key is refused at once (``InvalidAccessError``). So the page gives it a window
and, if no subscription comes, says what the browser did and registers instead a subscription
whose keys the test generated (the stand-in's ``browser()``) — still from the page, with the
player's session token, across origins (CORS). The test prints which path ran. Where
``subscribe`` does succeed, the endpoint is the browser vendor's, which the stand-in does not
own: the test then checks what was registered and sends nothing there.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
import trustme
from cryptography.hazmat.primitives.asymmetric import ec

from support.browser import FLAGS
from support.loopback import LoopbackServer, QuietHandler, serving
from support.processes import Server
from support.push import webpush
from support.required import unavailable
from support.waiting import wait_until

pytestmark = pytest.mark.slow

STEP_TIMEOUT_MS = 15_000
# How long the page lets pushManager.subscribe() settle. Where the push service is reachable a
# subscription takes well under a second; here the promise never settles.
SUBSCRIBE_WINDOW_MS = 5_000
EMAIL, PASSWORD = "ada@example.com", "correct horse battery"
NOTE = {
    "type": "game_invitation",
    "title": "New Invitation",
    "body": "PlayerOne invited you — ünïcode",
    "data": {"gameId": "trivia-456", "seat": 2},
    "deepLink": "opengame://trivia-jam/join/trivia-456",
}

# --- The game's web app: a page, its script and its service worker --------------------------

INDEX_HTML = """<!doctype html>
<html lang="en"><meta charset="utf-8"><title>Trivia Jam</title>
<h1>Trivia Jam</h1><p id="status">Back in the game</p>
<script src="/app/app.js"></script></html>
"""

SERVICE_WORKER_JS = """
self.addEventListener('push', (event) => {
  const note = event.data ? event.data.json() : {};
  event.waitUntil(self.registration.showNotification(note.title || 'Trivia Jam', {
    body: note.body, data: note,
  }));
});
"""

APP_JS = """
const b64urlDecode = (text) => {
  const b64 = text.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - text.length % 4) % 4);
  return Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
};
const call = async (url, init) => {
  const response = await fetch(url, init);
  return {status: response.status, body: await response.json()};
};

// Sign in over the API, fetch the VAPID key, check it, and try to subscribe with it.
window.subscribeToPush = async ({server, email, password, windowMs}) => {
  const report = {};
  const login = await call(`${server}/api/v1/auth/login`, {
    method: 'POST', headers: {'Content-Type': 'application/json'},
    body: JSON.stringify({email, password}),
  });
  if (login.status !== 200) return {login};
  report.sessionToken = login.body.sessionToken;
  const vapid = await call(`${server}/api/v1/notifications/vapid-public-key`);
  report.publicKey = vapid.body.publicKey;
  const raw = b64urlDecode(report.publicKey);
  report.key = {length: raw.length, prefix: raw[0]};
  try {
    const imported = await crypto.subtle.importKey(
      'raw', raw, {name: 'ECDH', namedCurve: 'P-256'}, true, []);
    const again = new Uint8Array(await crypto.subtle.exportKey('raw', imported));
    report.key.importedAsP256 = again.length === raw.length && again.every((b, i) => b === raw[i]);
  } catch (error) {
    report.key.importError = `${error.name}: ${error.message}`;
  }
  const registration = await navigator.serviceWorker.register('/app/sw.js', {scope: '/app/'});
  await navigator.serviceWorker.ready;
  report.permission = Notification.permission;
  const subscribed = registration.pushManager.subscribe(
    {userVisibleOnly: true, applicationServerKey: raw});
  const pending = new Promise((resolve) => setTimeout(() => resolve(null), windowMs));
  try {
    const subscription = await Promise.race([subscribed, pending]);
    if (subscription === null) {
      report.error = `pushManager.subscribe() still pending after ${windowMs} ms`;
    } else {
      report.subscription = subscription.toJSON();
    }
  } catch (error) {
    report.error = `${error.name}: ${error.message}`;
    report.errorName = error.name;
  }
  return report;
};

// Register a subscription as the player's web device, and list the player's devices.
window.registerDevice = async ({server, sessionToken, subscription}) => {
  const headers = {'Authorization': `Bearer ${sessionToken}`};
  const registered = await call(`${server}/api/v1/notifications/register`, {
    method: 'POST', headers: {...headers, 'Content-Type': 'application/json'},
    body: JSON.stringify(
      {deviceToken: subscription, platform: 'web', topics: ['game_invitation']}),
  });
  const devices = await call(`${server}/api/v1/notifications/devices`, {headers});
  return {registered, devices};
};
"""

ASSETS = {
    "/app/": ("index.html", INDEX_HTML, "text/html; charset=utf-8"),
    "/app/app.js": ("app.js", APP_JS, "text/javascript; charset=utf-8"),
    "/app/sw.js": ("sw.js", SERVICE_WORKER_JS, "text/javascript; charset=utf-8"),
}


@contextmanager
def game_app(root: Path) -> Iterator[str]:
    """Serve the app's files, written under ``root``, on loopback; yields the origin."""
    root.mkdir()
    for name, text, _ in ASSETS.values():
        (root / name).write_text(text)

    class Handler(QuietHandler):
        def do_GET(self) -> None:
            asset = ASSETS.get(urlsplit(self.path).path)
            if asset is None:
                self.reply(404, b"not found", Content_Type="text/plain")
                return
            name, _, content_type = asset
            self.reply(200, (root / name).read_bytes(), Content_Type=content_type)

    site: LoopbackServer
    with serving(Handler) as site:
        yield site.url


# --- Fixtures --------------------------------------------------------------------------------


@pytest.fixture
def browser_context(chromium: Path, tmp_path: Path) -> Iterator[Any]:
    """A fresh Chromium profile with JavaScript on."""
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
            locale="en-GB",
        )
        context.set_default_timeout(STEP_TIMEOUT_MS)
        try:
            yield context
        finally:
            context.close()


@pytest.fixture
def ca(tmp_path: Path) -> trustme.CA:
    authority = trustme.CA()
    authority.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    return authority


# --- Steps -----------------------------------------------------------------------------------


def _game_key(server: Server, origin: str) -> str:
    game = server.admin("games", "create", "--name", "Trivia Jam", "--allowed-origin", origin)
    return str(server.admin("keys", "create", game["id"], "--kind", "server")["key"])


def _api(server: Server, method: str, path: str, key: str, **kwargs: Any) -> dict[str, Any]:
    response = httpx.request(
        method,
        f"{server.url}/api/v1{path}",
        headers={"Authorization": f"Bearer {key}"},
        timeout=10,
        **kwargs,
    )
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def _link_in_the_browser(page: Any, server: Server, key: str, app: str) -> None:
    """The player signs up on the link page, links, and lands back on the game's app."""
    from playwright.sync_api import expect

    issued = _api(
        server,
        "POST",
        "/auth/account-link-token",
        key,
        json={"gameUserId": "player-42", "redirectUrl": f"{app}/app/"},
    )
    page.goto(str(issued["linkUrl"]))
    sign_up = page.get_by_role("form", name="Create an account")
    sign_up.get_by_label("Email").fill(EMAIL)
    sign_up.get_by_label("Password").fill(PASSWORD)
    sign_up.get_by_role("button", name="Create account").click()
    page.get_by_role("button", name="Link account").click()
    page.wait_for_url(f"{app}/app/?*")
    expect(page.get_by_role("heading", level=1)).to_have_text("Trivia Jam")


def _b64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def test_a_browser_subscribes_with_the_vapid_key_and_the_push_service_decrypts_the_send(
    browser_context: Any,
    start_server: Callable[..., Server],
    ca: trustme.CA,
    tmp_path: Path,
    record_property: Callable[[str, object], None],
) -> None:
    with webpush.serving(ca) as push_service, game_app(tmp_path / "app") as app:
        server = start_server(
            tmp_path / "data",
            GAMEKEEPER_OUTBOUND_ALLOWED_NETWORKS="127.0.0.0/8",
            GAMEKEEPER_PUSH_CA_FILE=str(tmp_path / "ca.pem"),
            GAMEKEEPER_CORS_ORIGINS=app,
        )
        key = _game_key(server, app)
        browser_context.grant_permissions(["notifications"], origin=app)  # the player allowed
        page = browser_context.pages[0] if browser_context.pages else browser_context.new_page()
        _link_in_the_browser(page, server, key, app)

        report = page.evaluate(
            "(args) => window.subscribeToPush(args)",
            {"server": server.url, "email": EMAIL, "password": PASSWORD,
             "windowMs": SUBSCRIBE_WINDOW_MS},
        )  # fmt: skip
        assert "sessionToken" in report, f"the page could not sign in: {report}"
        served_key = _b64url(report["publicKey"])
        # The application server key the page got is an uncompressed P-256 point, for the
        # browser's WebCrypto and for ours; subscribe() did not refuse it as malformed.
        assert report["key"] == {"length": 65, "prefix": 4, "importedAsP256": True}, report
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), served_key)
        assert report["permission"] == "granted"
        assert report.get("errorName") != "InvalidAccessError", report["error"]

        browser_subscribed = "subscription" in report
        if browser_subscribed:
            path = "the browser's own subscription"
            subscription = report["subscription"]
        else:
            path = "a subscription the test generated (Chromium could not subscribe)"
            generated = push_service.browser()
            subscription = generated.subscription()
        said = report.get("error", "subscribed")
        print(f"\nWeb Push path: {path}; the browser said: {said}")
        record_property("web_push_path", f"{path}; the browser said: {said}")

        registered = page.evaluate(
            "(args) => window.registerDevice(args)",
            {"server": server.url, "sessionToken": report["sessionToken"],
             "subscription": subscription},
        )  # fmt: skip
        assert registered["registered"]["status"] == 200, registered
        assert registered["registered"]["body"]["success"] is True
        [device] = registered["devices"]["body"]["devices"]
        assert (device["platform"], device["provider"], device["active"]) == (
            "web", "webpush", True,
        )  # fmt: skip
        assert device["deviceId"] == registered["registered"]["body"]["deviceId"]

        if browser_subscribed:
            # The vendor's push service, not the stand-in: check the subscription, send nothing.
            assert urlsplit(subscription["endpoint"]).scheme == "https"
            assert len(_b64url(subscription["keys"]["p256dh"])) == 65
            assert len(_b64url(subscription["keys"]["auth"])) == 16
            return

        sent = _api(
            server,
            "POST",
            "/notifications/send",
            key,
            json={"recipient": {"gameUserId": "player-42"}, "notification": NOTE},
        )
        assert sent["status"] in {"delivered", "queued"}, sent  # queued: a slow first verdict

        def progress() -> str:
            status = _api(server, "GET", f"/notifications/status/{sent['id']}", key)
            seen = [(p.status, p.problem) for p in push_service.pushes]
            return f"the push service accepted the push (seen: {seen}; status: {status})"

        [push] = wait_until(push_service.accepted, what=progress, within=20)
        assert push.path == urlsplit(generated.endpoint).path
        assert push.payload == {"id": sent["id"], **NOTE}  # decrypted: exactly what was sent
        assert push.public_key == report["publicKey"]  # signed with the key the page subscribed
        assert push.claims is not None and push.claims["aud"] == push_service.url

        def delivered() -> dict[str, Any]:
            status = _api(server, "GET", f"/notifications/status/{sent['id']}", key)
            return status if status["status"] == "delivered" else {}

        status = wait_until(delivered, what="the notification is delivered", within=20)
        assert status["deliveredAt"] is not None and status["readAt"] is None
        assert not [p for p in push_service.pushes if p.status != 201], "a refused push"
        logs = server.output + server.stderr_path.read_text()
        keys = generated.subscription()["keys"]
        assert not [s for s in (generated.id, keys["p256dh"], keys["auth"]) if s in logs]
