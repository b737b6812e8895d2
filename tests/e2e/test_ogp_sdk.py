"""The published Node client ``@playdotfun/server-sdk`` against a live ``gamekeeper serve``.

``tests/e2e/sdk/`` pins the SDK (package.json + package-lock.json); this module installs it
with ``npm ci`` when ``node_modules`` is missing, starts a server (embedded SQLite), creates two
developers and a signed-in player, and runs ``tests/e2e/sdk/run.mjs``, which calls every method
of the SDK unchanged and prints what each returned; the test checks each answer.

Three methods of SDK 1.0.1 throw inside the SDK, before any request is sent, whatever the
server; the script calls them and the test checks that they still throw (if a later SDK fixes
them, the test says so and the pin should be raised):

- ``games.get()`` (the listing) and ``games.getAuthedGames()`` call ``paginatedFetch`` without
  a ``method``, and ``paginatedFetch`` throws "Only GET requests are supported for paginated
  fetches". The script lists through the SDK's own ``client.paginatedFetch("/games", opts,
  {method: "GET", authed: true})`` instead: the same URL building and HMAC signature helper,
  with the method the SDK forgot.
- ``games.claimOwnership()`` throws "Not implemented" (``POST /games/claim-ownership/{id}`` is
  tested over HTTP in tests/api/ogp).

Without npm/node the test is skipped locally and fails in CI (CI=true).
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from gamekeeper.bootstrap import ADMIN_TOKEN_FILE
from support.processes import Server, clean_env
from support.required import require_tool

pytestmark = pytest.mark.slow

SDK_DIR = Path(__file__).resolve().parent / "sdk"
INSTALL_TIMEOUT = 300
TOKEN_ADDRESS = "SdkQuestMint1111111111111111111111111111111"  # as in run.mjs
SCRIPT_TIMEOUT = 60


def _require(tool: str) -> str:
    return require_tool(tool, hint="install Node.js 20+ to run the SDK test")


@pytest.fixture(scope="session")
def sdk() -> str:
    """The ``node`` executable, with the pinned SDK installed in tests/e2e/sdk/node_modules."""
    node = _require("node")
    if not (SDK_DIR / "node_modules" / "@playdotfun" / "server-sdk" / "package.json").exists():
        npm = _require("npm")
        result = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=SDK_DIR,
            capture_output=True,
            text=True,
            timeout=INSTALL_TIMEOUT,
        )
        assert result.returncode == 0, f"npm ci failed:\n{result.stdout}\n{result.stderr}"
    return node


def _data(step: dict[str, Any]) -> Any:
    assert step["ok"], step
    body = step["body"]
    assert body["error"] is None, body
    return body["data"]


def _player_session(server: Server) -> tuple[str, str]:
    """A player's id and a session token they signed in with (OGS login)."""
    email, password = "player@acme.test", "a long enough password 42"
    player = server.admin("players", "create", "--email", email, "--password-stdin", stdin=password)
    response = httpx.post(
        server.url + "/api/v1/auth/login", json={"email": email, "password": password}
    )
    assert response.status_code == 200, response.text
    return player["id"], response.json()["sessionToken"]


def _refused_by_the_sdk(step: dict[str, Any], message: str, name: str) -> None:
    assert not step["ok"], f"{name} works now: drop the workaround and raise the SDK pin"
    assert message in step["error"], step
    assert step.get("status") is None  # thrown before any request: no HTTP status


def test_every_method_of_the_server_sdk_works_against_gamekeeper(
    sdk: str, start_server: Callable[..., Server], tmp_path: Path
) -> None:
    # The SDK asks /user/hmac-signature before every signed request: two public calls each.
    server = start_server(tmp_path / "data", GAMEKEEPER_RATE_LIMIT_PUBLIC="100000/minute")
    developer = server.admin("developers", "create", "--name", "SDK", "--email", "sdk@acme.test")
    other = server.admin("developers", "create", "--name", "Other", "--email", "o@acme.test")
    player_id, session_token = _player_session(server)
    admin_token = (server.data_dir / ADMIN_TOKEN_FILE).read_text().strip()

    result = subprocess.run(
        [sdk, str(SDK_DIR / "run.mjs")],
        cwd=SDK_DIR,
        env=clean_env(
            BASE_URL=server.url,
            API_KEY=developer["apiKey"],
            SECRET_KEY=developer["secretKey"],
            ADMIN_TOKEN=admin_token,
            SESSION_TOKEN=session_token,
            OTHER_USER_ID=other["apiKey"],
        ),
        capture_output=True,
        text=True,
        timeout=SCRIPT_TIMEOUT,
    )
    assert result.returncode == 0, result.stderr
    steps = json.loads(result.stdout)
    game_id = _check_games(steps, developer)
    _check_tokens(steps, game_id)
    _check_points(steps, game_id)
    _check_players_and_users(steps, developer, other, player_id)


def _check_games(steps: dict[str, Any], developer: dict[str, Any]) -> str:
    registered = _data(steps["register"])
    game_id: str = registered["id"]
    assert steps["gameId"] == game_id
    assert registered["name"] == "SDK Quest"
    assert registered["description"] == "Registered by @playdotfun/server-sdk"
    assert registered["gameUrl"] == "https://sdk-quest.example.com/play"
    assert registered["platform"].lower() == "web"
    assert registered["twitter"] == "sdkquest"
    assert registered["maxScorePerSession"] == 500
    assert registered["imageUrl"]
    assert developer["apiKey"] in (registered["creatorId"], registered["ownerId"])

    fetched = _data(steps["getById"])
    for field in ("id", "name", "description", "gameUrl", "platform", "imageUrl", "twitter"):
        assert fetched[field] == registered[field], field

    updated = _data(steps["update"])
    assert updated["id"] == game_id
    assert updated["name"] == "SDK Quest II"
    assert updated["description"] == "Updated by the SDK"
    assert updated["discord"] == "https://discord.gg/sdkquest"
    assert updated["maxScorePerSession"] == 750
    assert updated["gameUrl"] == registered["gameUrl"]  # untouched fields stay
    assert updated["twitter"] == "sdkquest"

    reread = _data(steps["getByIdAfterUpdate"])
    for field in ("name", "description", "discord", "maxScorePerSession", "gameUrl"):
        assert reread[field] == updated[field], field

    batch = _data(steps["batch"])
    assert [game["id"] for game in batch] == [game_id]
    assert batch[0]["name"] == "SDK Quest II"

    only_get = "Only GET requests are supported"
    _refused_by_the_sdk(steps["listViaGames"], only_get, "games.get()")
    _refused_by_the_sdk(steps["getAuthedGames"], only_get, "games.getAuthedGames()")
    _refused_by_the_sdk(steps["claimOwnership"], "Not implemented", "games.claimOwnership()")

    page = _data(steps["list"])
    assert [game["id"] for game in page["items"]] == [game_id]
    assert page["items"][0]["name"] == "SDK Quest II"
    assert page["total"] == 1
    assert page["hasMore"] is False

    by_fetch = _data(steps["fetch"])
    assert (by_fetch["id"], by_fetch["name"]) == (game_id, "SDK Quest II")
    return game_id


def _check_tokens(steps: dict[str, Any], game_id: str) -> None:
    assert steps["associateToken"]["ok"], steps["associateToken"]
    by_token = _data(steps["getByTokenId"])
    assert by_token["id"] == game_id
    assert [t["tokenAddress"] for t in by_token["tokens"]] == [TOKEN_ADDRESS]
    by_batch = _data(steps["getByBatchTokenIds"])
    assert [game["id"] for game in by_batch[TOKEN_ADDRESS]] == [game_id]
    assert by_batch["UnknownMint"] == []


def _check_points(steps: dict[str, Any], game_id: str) -> None:
    saved = _data(steps["savePoints"])
    assert (saved["savedCount"], saved["playerIdToOgpId"]) == (1, {"player-1": "player-1"})
    assert saved["results"][0]["awarded"] == 120

    batch = _data(steps["batchSavePoints"])
    assert batch["savedCount"] == 2
    assert batch["playerIdToOgpId"] == {"player-1": "player-1", "player-2": "player-2"}
    awarded = {r["playerId"]: (r["awarded"], r["reason"]) for r in batch["results"]}
    assert awarded == {"player-1": (30, None), "player-2": (750, "maxScorePerSession")}
    as_list = _data(steps["batchSavePointsList"])
    assert (as_list["savedCount"], as_list["results"][0]["awarded"]) == (1, 5)

    points = _data(steps["getPoints"])
    assert points["points"] == [{"playerId": "player-1", "points": "150"}]  # the SDK's shape
    assert (points["gameId"], points["totalPoints"], points["totalSessions"]) == (game_id, 150, 2)
    assert (points["todayPoints"], points["todaySessions"]) == (150, 2)
    nobody = _data(steps["getPointsUnknownPlayer"])
    assert nobody["points"] == [{"playerId": "nobody", "points": "0"}]
    assert nobody["totalSessions"] == 0

    board = _data(steps["getLeaderboard"])
    ranked = [(r["rank"], r["playerId"], r["points"]) for r in board["items"]]
    assert ranked == [(1, "player-2", 750), (2, "player-1", 150), (3, "player-3", 5)]
    assert (board["total"], board["hasMore"]) == (3, False)


def _check_players_and_users(
    steps: dict[str, Any], developer: dict[str, Any], other: dict[str, Any], player_id: str
) -> None:
    checked = _data(steps["validateSessionToken"])
    assert checked == {"valid": True, "playerId": player_id, "ogpId": player_id}
    assert _data(steps["validateForgedSessionToken"]) == {"valid": False}

    me = _data(steps["me"])
    assert (me["id"], me["name"], me["email"]) == (developer["apiKey"], "SDK", "sdk@acme.test")
    assert _data(steps["getUserSelf"]) == me
    someone = _data(steps["getUserOther"])
    assert (someone["id"], someone["name"]) == (other["apiKey"], "Other")
    assert someone["email"] is None  # another user's email is not shown
    unknown = steps["getUserUnknown"]
    assert not unknown["ok"] and unknown["status"] == 404
    assert json.loads(unknown["error"])["statusCode"] == 404  # the OGP envelope
