"""Everything Gamekeeper writes in its data folder is its owner's alone, whatever the umask."""

from __future__ import annotations

import base64
import io
import json
import os
import stat
from pathlib import Path

import pytest
from litestar.testing import AsyncTestClient
from PIL import Image

from gamekeeper.api.app import create_app
from gamekeeper.core.identity import hmac_auth
from gamekeeper.settings import load_settings
from support.provision import ADMIN

pytestmark = pytest.mark.anyio


@pytest.fixture
def loose_umask():
    """The umask of a careless shell: without explicit modes, files would be 0644."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def _app(data_dir: Path):
    token = ADMIN["Authorization"].removeprefix("Bearer ")
    settings = load_settings(env={}, data_dir=str(data_dir), admin_token=token)
    return AsyncTestClient(create_app(settings))


def _png() -> str:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 3), "red").save(buffer, "PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


async def _write_mail_a_blob_and_the_database(client) -> None:
    signup = {"email": "ada@example.com", "password": "correct horse battery"}
    assert (await client.post("/api/v1/auth/signup", json=signup)).status_code == 201
    developer = await client.post("/admin/v1/developers", json={"name": "Dev"}, headers=ADMIN)
    developer = developer.json()
    timestamp = str(int(client.app.state.runtime.clock().timestamp() * 1000))
    value = hmac_auth.header_value(
        developer["apiKey"], developer["secretKey"], "POST", "/games", timestamp
    )
    game = {
        "name": "Moded", "description": "A game", "gameUrl": "https://m.example",
        "platform": "WEB", "base64Image": _png(),
    }  # fmt: skip
    registered = await client.post("/games", json=game, headers={"Authorization": value})
    assert registered.status_code == 201, registered.text


def _modes(root: Path) -> dict[str, str]:
    return {
        str(path.relative_to(root)) + ("/" if path.is_dir() else ""): oct(
            stat.S_IMODE(path.stat().st_mode)
        )
        for path in [root, *root.rglob("*")]
    }


async def test_every_file_is_0600_and_every_folder_0700(tmp_path, loose_umask):
    data_dir = tmp_path / "parent" / "data"
    async with _app(data_dir) as client:
        await _write_mail_a_blob_and_the_database(client)
        modes = _modes(data_dir)  # while running: the WAL and shared-memory files exist
    names = set(modes)
    assert {"./", "gamekeeper.db", "gamekeeper.db-wal", "secret-key", "mail/", "blobs/"} <= names
    assert any(name.endswith(".eml") for name in names)
    assert any(name.endswith(".png") for name in names)
    wrong = {
        name: mode
        for name, mode in modes.items()
        if mode != ("0o700" if name.endswith("/") else "0o600")
    }
    assert wrong == {}
    assert oct(stat.S_IMODE((tmp_path / "parent").stat().st_mode)) == "0o700"


async def test_an_open_data_folder_keeps_its_mode_and_is_warned_about(
    tmp_path, loose_umask, capsys
):
    data_dir = tmp_path / "shared"
    data_dir.mkdir(mode=0o755)
    os.chmod(data_dir, 0o755)
    (data_dir / "gamekeeper.db").touch(mode=0o644)  # left by an older version
    os.chmod(data_dir / "gamekeeper.db", 0o644)
    async with _app(data_dir) as client:
        await _write_mail_a_blob_and_the_database(client)
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line]
    [warning] = [line for line in lines if line["event"] == "data_dir_open_to_others"]
    assert warning["level"] == "warning" and warning["mode"] == "0755"
    assert warning["path"] == str(data_dir.resolve())
    assert "chmod 700" in warning["hint"]
    assert oct(stat.S_IMODE(data_dir.stat().st_mode)) == "0o755"  # the operator's choice
    files = {name: mode for name, mode in _modes(data_dir).items() if not name.endswith("/")}
    assert files and set(files.values()) == {"0o600"}, files
