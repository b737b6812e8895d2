"""The ``gamekeeper`` command as a user runs it: real processes, real HTTP on loopback."""

from __future__ import annotations

import json
import re
import secrets
import stat
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from support.processes import ERROR_LINE, Server, clean_env, execute_sql, free_port, gamekeeper, run

pytestmark = pytest.mark.slow


def test_first_start_shows_the_token_once_and_the_admin_commands_work(
    start_server: Callable[..., Server], tmp_path: Path
) -> None:
    server = start_server(tmp_path / "data")

    token_file = server.data_dir / "admin-token"
    token = token_file.read_text().strip()
    assert str(token_file.resolve()) in server.output
    assert token in server.output
    assert 'gamekeeper admin games create --name "My game"' in server.output
    for name in ("admin-token", "secret-key"):
        assert stat.S_IMODE((server.data_dir / name).stat().st_mode) == 0o600

    developer = server.admin("developers", "create", "--name", "Acme", "--email", "dev@acme.test")
    assert developer["name"] == "Acme"
    assert developer["apiKey"] and developer["secretKey"]
    fetched = server.admin("developers", "get", developer["id"])
    assert fetched["email"] == "dev@acme.test"
    assert "secretKey" not in fetched

    game = server.admin(
        "games", "create", "--name", "My game", "--developer-id", developer["id"],
        "--allowed-origin", "https://play.acme.test",
    )  # fmt: skip
    assert game["developerId"] == developer["id"]
    assert game["allowedOrigins"] == ["https://play.acme.test"]
    updated = server.admin(
        "games", "update", game["id"], "--name", "Renamed", "--clear", "allowed-origins"
    )
    assert (updated["name"], updated["allowedOrigins"]) == ("Renamed", [])

    key = server.admin(
        "keys", "create", game["id"], "--kind", "server", "--scope", "game.read", "--name", "ci"
    )
    assert key["key"].startswith("gk_")
    assert key["scopes"] == ["game.read"]

    listing = run("admin", "keys", "list", game["id"], "--json", env=server.env())
    assert key["key"] not in listing.stdout
    [listed] = json.loads(listing.stdout)["items"]
    assert listed["id"] == key["id"]
    assert "key" not in listed
    assert listed["revokedAt"] is None

    assert server.admin("keys", "revoke", key["id"]) is None
    [revoked] = server.admin("keys", "list", game["id"])["items"]
    assert revoked["revokedAt"] is not None

    audit = server.admin("audit")["items"]
    actions = {(entry["action"], entry["targetId"]) for entry in audit}
    assert {("key.issued", key["id"]), ("key.revoked", key["id"])} <= actions


def test_admin_commands_print_readable_views_and_one_line_errors(
    start_server: Callable[..., Server], tmp_path: Path
) -> None:
    server = start_server(tmp_path / "data")
    game = server.admin("games", "create", "--name", "Table game")

    table = run("admin", "games", "list", env=server.env())
    assert table.returncode == 0, table.stderr
    assert game["id"] in table.stdout  # ids are never shortened, even 80 columns wide
    assert "Table game" in table.stdout

    player = run(
        "admin", "players", "create", "--email", "pat@example.test", "--password-stdin",
        env=server.env(), stdin="correct horse battery staple\n",
    )  # fmt: skip
    assert player.returncode == 0, player.stderr
    assert re.search(r"hasPassword\s+True", player.stdout)

    missing = run("admin", "games", "get", "no-such-game", env=server.env())
    assert missing.returncode == 1
    assert ERROR_LINE.match(missing.stderr.strip()), missing.stderr

    bad_token = run("admin", "games", "list", "--token", "x" * 30, env=server.env())
    assert bad_token.returncode == 1
    assert ERROR_LINE.match(bad_token.stderr.strip()), bad_token.stderr


def test_operators_and_platforms_get_their_own_keys_and_webhooks(
    start_server: Callable[..., Server], tmp_path: Path
) -> None:
    server = start_server(tmp_path / "data")
    game = server.admin("games", "create", "--name", "Hosted game", "--slug", "hosted")

    operator = server.admin("operators", "create", "--name", "Cup Co")
    assert server.admin("operators", "get", operator["id"])["name"] == "Cup Co"
    [listed_operator] = server.admin("operators", "list")["items"]
    assert listed_operator["id"] == operator["id"]

    platform = server.admin("platforms", "create", "--name", "Portal", "--game", "hosted")
    assert platform["games"] == [game["id"]]  # the slug named the game
    assert server.admin("platforms", "get", platform["id"])["games"] == [game["id"]]
    platforms = run("admin", "platforms", "list", env=server.env())
    assert platforms.returncode == 0, platforms.stderr
    assert platform["id"] in platforms.stdout and game["id"] in platforms.stdout

    test_key = server.admin(
        "keys", "create", operator["id"], "--owner", "operator", "--kind", "operator",
        "--test-mode", "--name", "staging",
    )  # fmt: skip
    assert test_key["key"].startswith("sk_test_")
    assert test_key["testMode"] is True
    internal = run(
        "admin", "keys", "create", platform["id"], "--owner", "platform", "--kind", "internal",
        env=server.env(),
    )  # fmt: skip
    assert internal.returncode == 0, internal.stderr
    assert re.search(r"^key\s+internal_\S+$", internal.stdout, re.MULTILINE)
    assert "The key is shown only this once" in internal.stdout

    refused = run(
        "admin", "keys", "create", operator["id"], "--owner", "operator", "--kind", "server",
        env=server.env(),
    )  # fmt: skip
    assert refused.returncode == 1
    [line] = refused.stderr.splitlines()
    assert ERROR_LINE.match(line), line
    assert "may be of kind operator only" in line

    [listed_key] = server.admin("keys", "list", operator["id"], "--owner", "operator")["items"]
    assert (listed_key["id"], listed_key["ownerKind"]) == (test_key["id"], "operator")
    assert listed_key["testMode"] is True
    platform_keys = run(
        "admin", "keys", "list", platform["id"], "--owner", "platform", env=server.env()
    )
    assert platform_keys.returncode == 0, platform_keys.stderr
    assert f"Keys of platform {platform['id']}" in platform_keys.stdout
    assert "internal_" in platform_keys.stdout
    assert server.admin("keys", "list", game["id"])["items"] == []  # the game holds none of them
    # The id of an operator is not a game's: without --owner it is not found.
    not_a_game = run("admin", "keys", "list", operator["id"], env=server.env())
    assert not_a_game.returncode == 1
    assert ERROR_LINE.match(not_a_game.stderr.strip()), not_a_game.stderr

    hook = server.admin(
        "webhooks", "create", operator["id"], "--owner", "operator",
        "--url", "https://hooks.cup.test/gamekeeper", "--event-type", "key.revoked",
    )  # fmt: skip
    assert (hook["ownerKind"], hook["ownerId"]) == ("operator", operator["id"])
    assert hook["eventTypes"] == ["key.revoked"]
    assert hook["secret"]
    shown = run(
        "admin", "webhooks", "create", operator["id"], "--owner", "operator",
        "--url", "https://hooks.cup.test/form", "--format", "form", env=server.env(),
    )  # fmt: skip
    assert shown.returncode == 0, shown.stderr
    assert re.search(r"^secret\s+\S+$", shown.stdout, re.MULTILINE)
    assert "The secret is shown only this once" in shown.stdout

    hooks = run(
        "admin", "webhooks", "list", operator["id"], "--owner", "operator", env=server.env()
    )
    assert hooks.returncode == 0, hooks.stderr
    assert "https://hooks.cup.test/gamekeeper" in hooks.stdout
    assert "https://hooks.cup.test/form" in hooks.stdout
    assert hook["secret"] not in hooks.stdout
    assert server.admin("webhooks", "list", game["id"])["items"] == []


def test_a_second_start_keeps_the_token_and_does_not_show_it(
    start_server: Callable[..., Server], tmp_path: Path
) -> None:
    data_dir = tmp_path / "data"
    first = start_server(data_dir)
    token = (data_dir / "admin-token").read_text().strip()
    first.stop()

    second = start_server(data_dir)
    assert (data_dir / "admin-token").read_text().strip() == token
    assert token not in second.output
    assert str((data_dir / "admin-token").resolve()) in second.output
    answer = httpx.get(f"{second.url}/admin/v1/games", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200


def test_several_workers_serve_and_export_metrics(
    start_server: Callable[..., Server], tmp_path: Path
) -> None:
    server = start_server(tmp_path / "data", "--workers", "2")
    for _ in range(5):
        assert httpx.get(f"{server.url}/healthz").status_code == 200

    metrics = httpx.get(f"{server.url}/metrics")
    assert metrics.status_code == 200
    assert "gamekeeper_http_requests" in metrics.text
    # prometheus-client keeps each worker's values in files in PROMETHEUS_MULTIPROC_DIR.
    [metrics_dir] = server.data_dir.glob("metrics-*")
    assert list(metrics_dir.glob("counter_*.db"))

    server.stop()
    assert not list(server.data_dir.glob("metrics-*"))  # removed on shutdown


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("GAMEKEEPER_PORT", "notanumber"),
        ("GAMEKEEPER_DATABASE_URL", "mysql://x"),
        ("GAMEKEEPER_PORTT", "9000"),  # a typo is refused, not ignored
        ("GAMEKEEPER_LOG_LEVEL", "LOUD"),  # one line, not a traceback
        ("GAMEKEEPER_PUBLIC_URL", "not-a-url"),
    ],
)
def test_an_invalid_setting_exits_2_with_one_line_naming_it(
    tmp_path: Path, variable: str, value: str
) -> None:
    env = clean_env(GAMEKEEPER_DATA_DIR=str(tmp_path / "data"), **{variable: value})
    result = run("serve", env=env)
    assert result.returncode == 2
    [line] = result.stderr.splitlines()
    assert line.startswith(f"error: {variable}: ")
    assert not (tmp_path / "data").exists()


def test_an_unreachable_server_is_one_clear_line(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    result = run("admin", "games", "list", "--url", url, "--token", "x" * 30, env=clean_env())
    assert result.returncode == 1
    [line] = result.stderr.splitlines()
    assert line.startswith(f"error: the server at {url} is not reachable")


@pytest.mark.parametrize("how", ["script", "module"])
def test_version(how: str) -> None:
    args = gamekeeper() if how == "script" else [sys.executable, "-m", "gamekeeper"]
    result = subprocess.run([*args, "--version"], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0
    assert re.fullmatch(r"gamekeeper \d+\.\d+\.\d+\S*\n", result.stdout)


# --- migrate on PostgreSQL -------------------------------------------------------------------


@pytest.mark.postgres
def test_migrate_creates_the_schema_on_postgresql(fresh_database: str, tmp_path: Path) -> None:
    env = clean_env(
        GAMEKEEPER_DATABASE_URL=fresh_database,
        GAMEKEEPER_SECRET_KEY=secrets.token_urlsafe(32),
        GAMEKEEPER_ADMIN_TOKEN=secrets.token_urlsafe(24),
        GAMEKEEPER_DATA_DIR=str(tmp_path / "data"),
    )
    result = run("migrate", env=env)
    assert result.returncode == 0, result.stderr

    [(revision,)] = execute_sql(fresh_database, "SELECT version_num FROM alembic_version")
    assert f"revision {revision}" in result.stdout
    tables = {
        row[0]
        for row in execute_sql(
            fresh_database,
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'",
        )
    }
    assert {"developer", "game", "credential", "player", "audit_entry"} <= tables

    again = run("migrate", env=env)  # idempotent
    assert again.returncode == 0, again.stderr
    assert f"revision {revision}" in again.stdout


def test_admin_push_sets_credentials_from_files_and_shows_only_which_are_set(
    start_server: Callable[..., Server], tmp_path: Path
) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    server = start_server(tmp_path / "data")
    game = server.admin("games", "create", "--name", "Push game")
    key_file = tmp_path / "AuthKey_ABC123DEFG.p8"
    key_file.write_bytes(
        ec.generate_private_key(ec.SECP256R1()).private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    assert server.admin("push", "get", game["id"]) == {
        "apnsSet": False, "fcmSet": False, "expoSet": False
    }  # fmt: skip
    set_ = server.admin(
        "push", "set", game["id"], "--apns-key", str(key_file), "--apns-key-id", "ABC123DEFG",
        "--apns-team-id", "TEAM123456", "--apns-topic", "com.example.push", "--expo",
    )  # fmt: skip
    assert set_ == {"apnsSet": True, "fcmSet": False, "expoSet": True}
    assert server.admin("push", "set", game["id"], "--clear", "expo")["expoSet"] is False
    refused = run("admin", "push", "set", game["id"], "--apns-key", str(key_file), env=server.env())
    assert refused.returncode == 2
    [line] = refused.stderr.strip().splitlines()
    assert line.startswith("error: ") and "--apns-key-id" in line
    # A bad key is refused by the server with its reason, and nothing is stored.
    key_file.write_text("not a key")
    bad = run(
        "admin", "push", "set", game["id"], "--apns-key", str(key_file), "--apns-key-id",
        "ABC123DEFG", "--apns-team-id", "TEAM123456", "--apns-topic", "com.example.push",
        env=server.env(),
    )  # fmt: skip
    assert bad.returncode == 1 and ERROR_LINE.match(bad.stderr.strip()), bad.stderr
    assert server.admin("push", "get", game["id"])["apnsSet"] is True  # the earlier key stands
