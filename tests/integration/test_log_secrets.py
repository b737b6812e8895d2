"""At any level, even DEBUG, the log holds no mailed code, password hash or sealed secret."""

from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import select

from gamekeeper.db.tables.events import webhook
from gamekeeper.db.tables.identity import developer, player
from support.provision import ADMIN, in_app, new_developer, new_game

pytestmark = pytest.mark.anyio
EMAIL, PASSWORD = "ada@example.com", "correct horse battery"


async def _stored_secrets(runtime) -> list[str]:
    async with runtime.db.transaction(write=False) as uow:
        rows = [
            *(await uow.conn.execute(select(player.c.password_hash))).scalars(),
            *(await uow.conn.execute(select(developer.c.secret_sealed))).scalars(),
            *(await uow.conn.execute(select(webhook.c.secret_sealed))).scalars(),
        ]
    return [row for row in rows if row]


async def test_debug_logs_hold_no_code_password_hash_or_sealed_secret(
    make_client, tmp_path, capsys
):
    async with make_client(log_level="DEBUG") as client:
        auth = "/api/v1/auth"
        signup = await client.post(f"{auth}/signup", json={"email": EMAIL, "password": PASSWORD})
        assert signup.status_code == 201, signup.text
        assert (await client.post(f"{auth}/login/code", json={"email": EMAIL})).status_code == 202
        dev = await new_developer(client)
        game = await new_game(client)
        hook = await client.post(
            f"/admin/v1/games/{game}/webhooks", json={"url": "https://hooks.example/in"},
            headers=ADMIN,
        )  # fmt: skip
        assert hook.status_code == 201, hook.text
        stored = in_app(client, _stored_secrets)
    out = capsys.readouterr().out
    mails = sorted((tmp_path / "data0" / "mail").glob("*.eml"))
    codes = [re.search(r"\n {4}(\S+)\n", m.read_text()).group(1) for m in mails]  # type: ignore[union-attr]
    assert len(codes) == 2 and len(stored) == 3
    lines = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    assert any(line["level"] == "debug" for line in lines)  # DEBUG was in effect
    written = [line for line in lines if line["event"] == "mail_written_to_file"]
    assert len(written) == 2 and all(line["path"].endswith(".eml") for line in written)
    secrets = [*codes, *stored, PASSWORD, dev["secretKey"], hook.json()["secret"]]
    leaked = [secret for secret in secrets if secret in out]
    assert leaked == []
