"""``gamekeeper admin keys …``: issue, list and revoke an owner's API keys (a game's by default)."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

import typer

from gamekeeper.cli.admin.client import Api, AsJson, Token, Url
from gamekeeper.cli.admin.owned import OwnerKind, OwnerOption, owner_path
from gamekeeper.cli.admin.render import shown_once, table
from gamekeeper.cli.common import out

app = typer.Typer(help="API keys of a game, an operator or a platform.", no_args_is_help=True)


class KeyKind(StrEnum):
    server = "server"
    test = "test"
    internal = "internal"
    operator = "operator"


COLUMNS = {
    "id": "id", "kind": "kind", "prefix": "prefix", "name": "name", "scopes": "scopes",
    "lastUsedAt": "last used", "revokedAt": "revoked",
}  # fmt: skip


@app.command("create")
def key_create(
    owner_id: str,
    kind: Annotated[KeyKind, typer.Option(help="What the key is for.")],
    scope: Annotated[list[str] | None, typer.Option(help="Scope granted (repeatable).")] = None,
    name: Annotated[str | None, typer.Option(help="A label for the key.")] = None,
    test_mode: Annotated[
        bool, typer.Option("--test-mode", help="Operator keys: sk_test_… instead of sk_live_…")
    ] = False,
    owner: OwnerOption = OwnerKind.game,
    url: Url = None,
    token: Token = None,
    as_json: AsJson = False,
) -> None:
    """Issue an API key for an owner (a game unless --owner says otherwise); shows it once."""
    body: dict[str, Any] = {"kind": kind.value, "scopes": scope or None, "name": name}
    if test_mode:  # only when asked: a game's request stays as it always was
        body["testMode"] = True
    path = f"{owner_path(owner, owner_id)}/keys"
    Api(url, token, as_json).run("POST", path, shown_once("key"), body)


@app.command("list")
def key_list(
    owner_id: str,
    owner: OwnerOption = OwnerKind.game,
    url: Url = None,
    token: Token = None,
    as_json: AsJson = False,
) -> None:
    """List an owner's keys (prefixes only, never the keys)."""
    # A game's table is left as it always was; another owner's is titled with whose keys they are.
    title = None if owner is OwnerKind.game else f"Keys of {owner.value} {owner_id}"
    api = Api(url, token, as_json)
    path = f"{owner_path(owner, owner_id)}/keys"
    api.run("GET", path, lambda page: table(page["items"], COLUMNS, title=title))


@app.command("revoke")
def key_revoke(key_id: str, url: Url = None, token: Token = None, as_json: AsJson = False) -> None:
    """Revoke a key: it stops working at once."""
    Api(url, token, as_json).run(
        "DELETE", f"/keys/{key_id}", lambda _: out.print(f"Key {key_id} revoked.")
    )
