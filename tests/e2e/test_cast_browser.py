"""A real browser plays the cast receiver (the TV) and a phone controller against ``serve``.

Headless Chromium (Debian's ``chromium`` through Playwright's ``executable_path``; no browser
download), JavaScript on. Three origins on loopback:

- Gamekeeper, published behind a loopback TCP relay (``GAMEKEEPER_PUBLIC_URL`` is the relay's
  address, as behind a reverse proxy), so the test can cut the TV's network and restore it:
  the browser's own WebSocket sees the connection drop, which emulated offline mode does not
  do (measured: Chromium keeps an open WebSocket through ``set_offline``).
- The game's site (the game's allowed origin): a test game page that records each
  ``cast.input`` message with its ``event.origin`` and can post feedback.
- A foreign site, framed inside the game page, whose messages the TV must ignore.

Player 1 is driven from Python (device sign-in, join with the code read off the TV, inputs
over HTTP and over a controller WebSocket); player 2 is the controller page in a second
browser context. A screenshot of the TV showing the code and QR is saved under the test's
temporary directory (its path is printed; copy it to refresh the README's picture).
"""

from __future__ import annotations

import contextlib
import json
import re
import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlencode
from xml.etree import ElementTree

import httpx
import pytest
import segno
from websockets.sync.client import ClientConnection, connect

from support.browser import FLAGS
from support.loopback import QuietHandler, serving
from support.processes import Server
from support.required import unavailable
from support.waiting import wait_on

pytestmark = pytest.mark.slow

STEP_TIMEOUT_MS = 20_000
SESSION_DATA = {"level": 3, "theme": "space"}

GAME_PAGE = """<!doctype html><html lang="en"><meta charset="utf-8"><title>Test game</title>
<h1>Test game</h1><p id="count">0 inputs</p><iframe id="foreign" src="FOREIGN/frame"></iframe>
<script>
window.castSession = null; window.castInputs = []; window.castControllers = [];
window.addEventListener('message', (event) => {
  const m = event.data || {};
  if (m.type === 'cast.session') window.castSession = {...m, origin: event.origin};
  if (m.type === 'cast.controller') window.castControllers.push(m.seat);
  if (m.type !== 'cast.input') return;
  window.castInputs.push({seq: m.seq, seat: m.seat, inputType: m.inputType,
                          inputData: m.inputData, origin: event.origin});
  document.getElementById('count').textContent = `${window.castInputs.length} inputs`;
});
window.sendFeedback = (seat, data) => window.parent.postMessage(
  {type: 'cast.feedback', seat, data}, window.castSession.origin);
</script></html>"""


class Relay:
    """A TCP relay on loopback in front of the server; ``cut()`` drops every connection
    and refuses new ones until ``restore()``."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self.target: tuple[str, int] | None = None
        self.cut_off = False
        self.open: set[socket.socket] = set()
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if self.cut_off or self.target is None:
                client.close()
                continue
            upstream = socket.create_connection(self.target)
            with self.lock:
                self.open |= {client, upstream}
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            self._drop(source, sink)

    def _drop(self, *socks: socket.socket) -> None:
        for sock in socks:
            with self.lock:
                self.open.discard(sock)
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def cut(self) -> None:
        self.cut_off = True
        with self.lock:
            live = list(self.open)
        self._drop(*live)

    def restore(self) -> None:
        self.cut_off = False

    def close(self) -> None:
        self.cut()
        self.listener.close()


class ControllerSocket:
    """Player 1's controller WebSocket: every frame it receives, kept in order."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.frames: list[dict[str, Any]] = []
        self.changed = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        try:
            for raw in self.ws:
                with self.changed:
                    self.frames.append(json.loads(raw))
                    self.changed.notify_all()
        except Exception as exc:  # the test closes it, or the server went away
            with self.changed:
                self.frames.append({"type": "closed", "reason": repr(exc)})
                self.changed.notify_all()

    def send(self, frame: dict[str, Any]) -> None:
        self.ws.send(json.dumps(frame))

    def wait_for(self, match: Callable[[dict[str, Any]], bool], what: str) -> dict[str, Any]:
        found: dict[str, Any] = wait_on(
            self.changed,
            lambda: next((f for f in self.frames if match(f)), None),
            what=lambda: f"{what} (frames so far: {self.frames})",
        )
        return found


@pytest.fixture
def browser(chromium: Path) -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("playwright is not installed (pip install -e '.[test]')")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(chromium), headless=True, args=FLAGS
        )
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def sites() -> Iterator[tuple[str, str]]:
    """The game's origin and a foreign origin, each a loopback server."""

    class Foreign(QuietHandler):
        def do_GET(self) -> None:
            self.reply(200, b"<!doctype html><title>Foreign</title>", Content_Type="text/html")

    with serving(Foreign) as foreign:
        page = GAME_PAGE.replace("FOREIGN", foreign.url).encode()

        class Game(QuietHandler):
            def do_GET(self) -> None:
                self.reply(200, page, Content_Type="text/html; charset=utf-8")

        with serving(Game) as game:
            yield game.url, foreign.url


@pytest.fixture
def controller_sockets() -> Iterator[Callable[[str], ControllerSocket]]:
    """Opens controller WebSockets, all closed after the test."""
    with contextlib.ExitStack() as stack:
        yield lambda url: ControllerSocket(stack.enter_context(connect(url, open_timeout=10)))


@pytest.fixture
def relay() -> Iterator[Relay]:
    relay = Relay()
    try:
        yield relay
    finally:
        relay.close()


def cast_session(server: Server, game_origin: str) -> dict[str, Any]:
    game = server.admin("games", "create", "--name", "Couch Party", "--allowed-origin", game_origin)
    key = server.admin("keys", "create", game["id"], "--kind", "server")["key"]
    body = {"gameId": game["id"], "gameUrl": f"{game_origin}/play?mode=cast",
            "sessionData": SESSION_DATA}  # fmt: skip
    response = api(server, "cast/session", body, key)
    return response | {"key": key}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def api(server: Server, path: str, body: dict[str, Any], token: str = "") -> dict[str, Any]:
    headers = bearer(token) if token else {}
    response = httpx.post(f"{server.url}/api/v1/{path}", json=body, headers=headers, timeout=10)
    assert response.status_code in {200, 201}, response.text
    answer: dict[str, Any] = response.json()
    return answer


def qr_modules(data_uri: str) -> set[tuple[int, int]]:
    """The dark modules (column, row) of segno's SVG: rows of horizontal strokes."""
    head, _, payload = data_uri.partition(",")
    assert head.startswith("data:image/svg+xml"), head
    svg = ElementTree.fromstring(unquote(payload))
    path = next(p for p in svg.iter("{http://www.w3.org/2000/svg}path") if p.get("stroke"))
    x = y = 0.0
    dark: set[tuple[int, int]] = set()
    tokens = re.findall(r"[MmHh]|-?\d+(?:\.\d+)?", path.get("d", ""))
    while tokens:
        command = tokens.pop(0)
        if command in "Mm":
            dx, dy = float(tokens.pop(0)), float(tokens.pop(0))
            x, y = (dx, dy) if command == "M" else (x + dx, y + dy)
        else:
            length = float(tokens.pop(0))
            start = x if command == "h" else 0.0
            x = x + length if command == "h" else length
            dark |= {(int(c), int(y)) for c in range(int(start), int(x))}
    return dark


def expected_modules(url: str) -> set[tuple[int, int]]:
    matrix = segno.make(url, error="m", micro=False).matrix
    return {(c + 4, r + 4) for r, row in enumerate(matrix) for c, v in enumerate(row) if v}


def test_the_tv_relays_inputs_to_the_game_in_order_across_a_network_cut(
    browser: Any, start_server: Callable[..., Server], sites: tuple[str, str], relay: Relay,
    controller_sockets: Callable[[str], ControllerSocket], tmp_path: Path,
) -> None:  # fmt: skip
    from playwright.sync_api import expect

    game_origin, foreign_origin = sites
    server = start_server(tmp_path / "data", GAMEKEEPER_PUBLIC_URL=relay.url)
    relay.target = ("127.0.0.1", int(server.url.rsplit(":", 1)[1]))
    created = cast_session(server, game_origin)
    sid, code = created["sessionId"], created["joinCode"]

    tv = browser.new_context(viewport={"width": 1280, "height": 720}, locale="en-GB")
    tv.set_default_timeout(STEP_TIMEOUT_MS)
    page = tv.new_page()
    answer = page.goto(created["receiverUrl"])
    assert f"frame-src {game_origin}" in answer.headers["content-security-policy"]
    expect(page.locator("#join-code")).to_have_text(code)
    expect(page.get_by_role("status")).to_have_text("Waiting for players…")
    join_url = f"{relay.url}/cast/controller?{urlencode({'session': sid, 'code': code})}"
    qr = page.get_by_role("img", name="QR code that opens the controller on a phone")
    expect(qr).to_be_visible()
    assert qr_modules(qr.get_attribute("src")) == expected_modules(join_url)
    screenshot = tmp_path / "cast-receiver.png"
    page.screenshot(path=str(screenshot))
    print(f"receiver screenshot: {screenshot}")
    assert screenshot.stat().st_size > 10_000

    # Player 1 signs in on their phone's app and types the code the TV shows.
    token = api(server, "auth/device", {"deviceId": "couch-player-one-device"})["sessionToken"]
    shown = page.locator("#join-code").inner_text()
    assert api(server, f"cast/session/{sid}/join", {"code": shown}, token)["seat"] == 1
    expect(page.locator("#cast-lobby")).to_be_hidden()
    expect(page.locator("iframe[title='Game']")).to_have_attribute(
        "sandbox", "allow-scripts allow-same-origin"
    )
    # The frame element is there before the game's page has loaded in it: wait for the page.
    expect(page.frame_locator("iframe[title='Game']").locator("h1")).to_have_text("Test game")
    game = page.frame(url=re.compile(re.escape(f"{game_origin}/play")))
    assert game is not None
    game.wait_for_function("() => window.castSession !== null")
    session = game.evaluate("() => window.castSession")
    assert (session["sessionData"], session["origin"]) == (SESSION_DATA, relay.url)

    def http_input(n: int) -> str:
        body = {"sessionId": sid, "inputType": "action", "inputData": {"n": n, "via": "http"}}
        return str(api(server, "cast/input", body, token)["status"])

    player = controller_sockets(server.url.replace("http", "ws", 1) + "/api/v1/cast/ws")
    player.send({"type": "attach", "role": "controller", "sessionId": sid, "token": token})
    assert player.wait_for(lambda f: f["type"] == "attached", "player 1 attached")["seat"] == 1

    def ws_input(n: int) -> dict[str, Any]:
        player.send({"type": "input", "id": n, "inputType": "action",
                     "inputData": {"n": n, "via": "ws"}})  # fmt: skip
        return player.wait_for(lambda f: f["type"] == "ack" and f.get("id") == n, f"ack {n}")

    assert [http_input(n) for n in (1, 2, 3)] == ["delivered"] * 3
    assert [ws_input(n)["seq"] for n in (4, 5, 6)] == [4, 5, 6]
    sent = [(1, {"n": n, "via": "http" if n <= 3 else "ws"}) for n in range(1, 7)]

    # Player 2 opens the controller page from the QR code and presses A.
    phone_context = browser.new_context(viewport={"width": 420, "height": 800}, has_touch=True)
    phone_context.set_default_timeout(STEP_TIMEOUT_MS)
    phone = phone_context.new_page()
    phone.goto(join_url)
    expect(phone.locator("#pad-seat")).to_have_text("Player 2")
    phone.get_by_role("button", name="A", exact=True).click()
    sent += [(2, {"button": "a", "pressed": True}), (2, {"button": "a", "pressed": False})]
    game.wait_for_function("(n) => window.castInputs.length >= n", arg=len(sent))
    assert game.evaluate("() => window.castControllers") == [1, 2]

    # Feedback: a foreign frame's message is ignored; the game's own reaches the controllers.
    foreign = page.frame(url=re.compile(re.escape(f"{foreign_origin}/frame")))
    assert foreign is not None
    forged = "{type: 'cast.feedback', seat: 1, data: {from: 'foreign'}}"
    foreign.evaluate(f"() => window.top.postMessage({forged}, '*')")
    game.evaluate("() => window.sendFeedback(1, {from: 'game', vibrate: 200})")
    game.evaluate("() => window.sendFeedback(undefined, {from: 'game', text: 'Round two!'})")
    expect(phone.locator("#pad-message")).to_have_text("Round two!")
    player.wait_for(lambda f: f["type"] == "message" and "text" in f["data"], "the broadcast")

    # The TV's network drops: inputs sent meanwhile arrive after it is back, in order.
    relay.cut()
    expect(page.get_by_role("status")).to_have_text("Reconnecting…")
    expect(phone.get_by_role("status")).to_have_text("Reconnecting…")
    during = [http_input(7), ws_input(8)["status"]]
    sent += [(1, {"n": 7, "via": "http"}), (1, {"n": 8, "via": "ws"})]
    print(f"answers while the TV was cut off: {during}")
    relay.restore()
    expect(page.locator("#cast-status")).to_have_text("")
    expect(phone.get_by_role("status")).to_have_text("Connected")
    phone.get_by_role("button", name="Up").click()
    sent += [(2, {"direction": "up", "pressed": True}), (2, {"direction": "up", "pressed": False})]
    game.wait_for_function("(n) => window.castInputs.length >= n", arg=len(sent))

    got = game.evaluate("() => window.castInputs")
    assert [i["seq"] for i in got] == list(range(1, len(sent) + 1))
    assert [(i["seat"], i["inputData"]) for i in got] == sent
    assert {i["origin"] for i in got} == {relay.url}
    feedback = [f["data"] for f in player.frames if f["type"] == "message"]
    assert feedback == [{"from": "game", "vibrate": 200}, {"from": "game", "text": "Round two!"}]

    # The game ends the session: the TV and the phone say so.
    end_url = f"{server.url}/api/v1/cast/session/{sid}"
    ended = httpx.delete(end_url, headers=bearer(created["key"]), timeout=10)
    assert ended.status_code == 200, ended.text
    expect(page.get_by_role("alert")).to_contain_text("This cast session has ended")
    expect(phone.get_by_role("status")).to_have_text("The game has ended this session.")
    phone_context.close()
    tv.close()


def test_a_wrong_key_or_an_ended_session_gets_a_plain_error_page(
    start_server: Callable[..., Server], sites: tuple[str, str], tmp_path: Path
) -> None:
    server = start_server(tmp_path / "data")
    created = cast_session(server, sites[0])
    wrong = httpx.get(created["receiverUrl"].rsplit("=", 1)[0] + "=not-the-key", timeout=10)
    assert wrong.status_code == 401 and "This TV link is not valid" in wrong.text
    assert wrong.headers["content-type"].startswith("text/html")
    url = f"{server.url}/api/v1/cast/session/{created['sessionId']}"
    httpx.delete(url, headers=bearer(created["key"]), timeout=10).raise_for_status()
    ended = httpx.get(created["receiverUrl"], timeout=10)
    assert ended.status_code == 410 and "This cast session has ended" in ended.text
    assert created["joinCode"] not in ended.text
