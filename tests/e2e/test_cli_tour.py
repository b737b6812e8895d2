"""The README's five-minute tour, run as written, and the admin commands a newcomer reaches for.

The tour's commands are read out of README.md, so the README and this test cannot drift: each
line runs as it stands, ``<…>`` replaced with what an earlier command printed, the way a
reader copies an id. Issue 15, item 19.
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from support.processes import Server, clean_env, gamekeeper, run
from support.waiting import wait_until

pytestmark = pytest.mark.slow

README = Path(__file__).resolve().parents[2] / "README.md"
README_URL = "http://127.0.0.1:8000"
# What a command's group makes, for the placeholder its id fills: <game-id>, <key-id>, …
MADE = {
    "developers": "developer", "games": "game", "keys": "key", "players": "player",
    "operators": "operator", "platforms": "platform", "webhooks": "webhook",
}  # fmt: skip
FIELD = re.compile(r"^(\w+)\s{2,}(.*)$")


def tour_commands() -> list[str]:
    """The shell lines of the README's tour, comments removed."""
    section = README.read_text().split("## A five-minute tour", 1)[1]
    block = section.split("```sh\n", 1)[1].split("```", 1)[0]
    lines = [line.split("  #", 1)[0].strip() for line in block.splitlines()]
    return [line for line in lines if line and not line.startswith(". ")]


def printed_fields(stdout: str) -> dict[str, str]:
    """The ``name  value`` lines a create command prints."""
    return {m[1]: m[2].strip() for line in stdout.splitlines() if (m := FIELD.match(line))}


class Tour:
    """Runs tour lines in a folder holding the server's data directory, as a reader would."""

    def __init__(self, server: Server, cwd: Path) -> None:
        self.server, self.cwd = server, cwd
        self.found: dict[str, str] = {}
        # The server's port is not the README's 8000: the admin commands are told where it is.
        self.env = clean_env(GAMEKEEPER_ADMIN_URL=server.url)

    def fill(self, line: str) -> list[str]:
        def value(match: re.Match[str]) -> str:
            assert match[1] in self.found, f"{line}: nothing printed a {match[0]} before"
            return self.found[match[1]]

        return shlex.split(re.sub(r"<([a-z-]+)>", value, line))

    def run(self, line: str) -> str:
        args = self.fill(line)
        if args[0] == "curl":
            return self._curl(line, args[1:])
        assert args[0] == "gamekeeper", line
        result = subprocess.run(
            [*gamekeeper(), *args[1:]], cwd=self.cwd, env=self.env, capture_output=True,
            text=True, timeout=60,
        )  # fmt: skip
        assert result.returncode == 0, f"{line}\n{result.stderr}"
        assert not result.stderr, f"{line}\n{result.stderr}"
        if args[1:2] == ["admin"] and "create" in args:
            made = MADE[args[args.index("create") - 1]]
            fields = printed_fields(result.stdout)
            self.found[f"{made}-id"] = fields["id"]
            if "key" in fields:
                self.found["key"] = fields["key"]
        return result.stdout

    def _curl(self, line: str, args: list[str]) -> str:
        headers: dict[str, str] = {}
        while args[0] == "-H":
            name, _, value = args[1].partition(": ")
            headers[name] = value
            args = args[2:]
        [url] = args  # the test knows -H and a URL only: a new flag in the README must be taught
        answer = httpx.get(url.replace(README_URL, self.server.url), headers=headers)
        assert answer.status_code == 200, f"{line}\n{answer.text}"
        return answer.text


def test_the_readme_tour_runs_as_written(
    start_server: Callable[..., Server], tmp_path: Path
) -> None:
    server = start_server(tmp_path / "gamekeeper-data")
    tour = Tour(server, tmp_path)
    printed = {line: tour.run(line) for line in tour_commands()}
    by_start = {line.split(" <", 1)[0].split(" --", 1)[0]: out for line, out in printed.items()}

    game_id = tour.found["game-id"]
    credential = json.loads(next(out for line, out in printed.items() if line.startswith("curl")))
    assert credential["gameId"] == game_id
    # The game can link accounts: players may be sent back to its own origin.
    game = server.admin("games", "get", game_id)
    assert game["allowedOrigins"] == ["https://space.example"]
    assert "space-game" in by_start["gamekeeper admin games list"]
    # The key was used by the curl line just before: the listing says when, not "-".
    assert "last used" in by_start["gamekeeper admin keys list"]
    [listed] = server.admin("keys", "list", game_id)["items"]
    assert listed["lastUsedAt"] is not None
    assert "Acme Games" in by_start["gamekeeper admin developers list"]
    assert "ann@example.com" in by_start["gamekeeper admin players list"]
    assert tour.found["webhook-id"] in by_start["gamekeeper admin webhooks list"]
    assert server.admin("webhooks", "list", tour.found["operator-id"], "--owner", "operator") == {
        "items": []
    }
    assert "key.revoked" in by_start["gamekeeper admin audit"]
    [games] = [
        json.loads(out) for line, out in printed.items() if line.endswith("--json games list")
    ]
    assert [g["id"] for g in games["items"]] == [game_id]


@pytest.fixture
def admin_api() -> Iterator[Callable[[Server], httpx.Client]]:
    """The admin API over HTTP: for what a test sets up in bulk (a command costs a process)."""
    clients: list[httpx.Client] = []

    def connect(server: Server) -> httpx.Client:
        token = (server.data_dir / "admin-token").read_text().strip()
        client = httpx.Client(
            base_url=f"{server.url}/admin/v1", headers={"Authorization": f"Bearer {token}"}
        )
        clients.append(client)
        return client

    yield connect
    for client in clients:
        client.close()


def test_a_keys_last_use_is_listed_right_after_it(
    start_server: Callable[..., Server],
    admin_api: Callable[[Server], httpx.Client],
    tmp_path: Path,
) -> None:
    server = start_server(tmp_path / "data")
    api = admin_api(server)
    game = api.post("/games", json={"name": "Used"}).json()
    key = api.post(f"/games/{game['id']}/keys", json={"kind": "server"}).json()
    [unused] = api.get(f"/games/{game['id']}/keys").json()["items"]
    assert unused["lastUsedAt"] is None

    answer = httpx.get(
        f"{server.url}/gamekeeper/v1/credential", headers={"Authorization": f"Bearer {key['key']}"}
    )
    assert answer.status_code == 200
    # Written at the first use, not at the next 30-second flush.
    wait_until(
        lambda: api.get(f"/games/{game['id']}/keys").json()["items"][0]["lastUsedAt"],
        what="the key's last use in the listing",
        within=10.0,
        every=0.05,
    )
    table = run("admin", "keys", "list", game["id"], env=server.env())
    [row] = [line for line in table.stdout.splitlines() if key["id"] in line]
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", row), table.stdout


def test_lists_are_oldest_first_across_pages(
    start_server: Callable[..., Server],
    admin_api: Callable[[Server], httpx.Client],
    tmp_path: Path,
) -> None:
    server = start_server(tmp_path / "data")
    api = admin_api(server)
    made: dict[str, list[str]] = {}
    for group, body in (
        ("games", {"name": "G"}),
        ("developers", {"name": "D"}),
        ("operators", {"name": "O"}),
        ("platforms", {"name": "P"}),
        ("players", {"displayName": "P"}),
    ):
        # Six each: ids are random, so an order by id matches creation once in 720.
        made[group] = [api.post(f"/{group}", json=body).json()["id"] for _ in range(6)]

    for group, ids in made.items():
        paged: list[str] = []
        cursor: dict[str, str] = {}
        while True:
            page = api.get(f"/{group}", params={"limit": 4, **cursor}).json()
            paged += [item["id"] for item in page["items"]]
            if not page["nextCursor"]:
                break
            cursor = {"cursor": page["nextCursor"]}
        assert paged == ids, group
    listing = server.admin("games", "list")  # what `games list` says it does
    assert [game["id"] for game in listing["items"]] == made["games"]


def test_json_is_taken_before_the_command_and_after_it(
    start_server: Callable[..., Server], tmp_path: Path
) -> None:
    server = start_server(tmp_path / "data")
    game = server.admin("games", "create", "--name", "Either way")
    for args in (["admin", "--json", "games", "list"], ["admin", "games", "list", "--json"]):
        result = run(*args, env=server.env())
        assert result.returncode == 0, result.stderr
        assert json.loads(result.stdout)["items"][0]["id"] == game["id"]
    table = run("admin", "games", "list", env=server.env())
    assert table.returncode == 0 and "Either way" in table.stdout
    with pytest.raises(json.JSONDecodeError):
        json.loads(table.stdout)


def test_the_audit_table_says_why_a_credential_was_refused(
    start_server: Callable[..., Server], tmp_path: Path
) -> None:
    server = start_server(tmp_path / "data")
    refused = httpx.get(
        f"{server.url}/gamekeeper/v1/credential", headers={"Authorization": "Bearer gk_srv_nope"}
    )
    assert refused.status_code == 401
    table = run("admin", "audit", env=server.env())
    assert table.returncode == 0, table.stderr
    [row] = [line for line in table.stdout.splitlines() if "auth.failed" in line]
    assert "reason=invalid_api_key" in row


def test_webhooks_are_shown_tested_and_deleted_from_the_shell(
    start_server: Callable[..., Server], tmp_path: Path
) -> None:
    server = start_server(tmp_path / "data")
    game = server.admin("games", "create", "--name", "Hooked")
    hook = server.admin("webhooks", "create", game["id"], "--url", "https://hooks.example/in")
    shown = server.admin("webhooks", "get", game["id"], hook["id"])
    assert shown["url"] == "https://hooks.example/in" and "secret" not in shown
    assert server.admin("webhooks", "test", game["id"], hook["id"])["eventId"]

    deleted = run("admin", "webhooks", "delete", game["id"], hook["id"], env=server.env())
    assert deleted.returncode == 0, deleted.stderr
    assert deleted.stdout.strip() == f"Webhook {hook['id']} deleted."
    assert server.admin("webhooks", "list", game["id"]) == {"items": []}
    gone = run("admin", "webhooks", "get", game["id"], hook["id"], env=server.env())
    assert gone.returncode == 1 and gone.stderr.startswith("error: ")
