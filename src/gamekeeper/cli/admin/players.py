"""``gamekeeper admin players …``: create, list and show player accounts."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from gamekeeper.cli.admin.client import Api, AsJson, Token, Url
from gamekeeper.cli.admin.render import fields, paged
from gamekeeper.cli.common import fail

app = typer.Typer(help="Player accounts.", no_args_is_help=True)


@app.command("create")
def player_create(
    email: Annotated[str | None, typer.Option(help="Login email.")] = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
    display_name: Annotated[str | None, typer.Option(help="Name shown to others.")] = None,
    url: Url = None,
    token: Token = None,
    as_json: AsJson = False,
) -> None:
    """Create a player account."""
    password = sys.stdin.readline().rstrip("\r\n") if password_stdin else None
    if password_stdin and not password:
        fail("--password-stdin: no password on standard input", code=2)
    body = {"email": email, "password": password, "displayName": display_name}
    Api(url, token, as_json).run("POST", "/players", fields, body)


COLUMNS = {
    "id": "id", "email": "email", "displayName": "name", "verified": "verified",
    "hasPassword": "password", "createdAt": "created",
}  # fmt: skip


@app.command("list")
def player_list(
    limit: Annotated[int | None, typer.Option(min=1, max=200, help="Players per page.")] = None,
    cursor: Annotated[str | None, typer.Option(help="nextCursor of the previous page.")] = None,
    url: Url = None,
    token: Token = None,
    as_json: AsJson = False,
) -> None:
    """List player accounts, oldest first, a page at a time."""
    Api(url, token, as_json).run("GET", "/players", paged(COLUMNS), limit=limit, cursor=cursor)


@app.command("get")
def player_get(
    player_id: str, url: Url = None, token: Token = None, as_json: AsJson = False
) -> None:
    """Show a player."""
    Api(url, token, as_json).run("GET", f"/players/{player_id}", fields)
