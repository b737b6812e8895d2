"""``gamekeeper admin developers …``: developer accounts and their HMAC credentials."""

from __future__ import annotations

from typing import Annotated

import typer

from gamekeeper.cli.admin.client import Api, AsJson, Token, Url
from gamekeeper.cli.admin.render import fields, paged, shown_once

app = typer.Typer(help="Developer accounts (HMAC credentials).", no_args_is_help=True)


@app.command("create")
def developer_create(
    name: Annotated[str, typer.Option(help="Developer name.")],
    email: Annotated[str | None, typer.Option(help="Contact email.")] = None,
    url: Url = None,
    token: Token = None,
    as_json: AsJson = False,
) -> None:
    """Create a developer; shows its API key and secret key once."""
    body = {"name": name, "email": email}
    Api(url, token, as_json).run("POST", "/developers", shown_once("secret key"), body)


COLUMNS = {"id": "id", "name": "name", "email": "email", "createdAt": "created"}


@app.command("list")
def developer_list(
    limit: Annotated[int | None, typer.Option(min=1, max=200, help="Developers per page.")] = None,
    cursor: Annotated[str | None, typer.Option(help="nextCursor of the previous page.")] = None,
    url: Url = None,
    token: Token = None,
    as_json: AsJson = False,
) -> None:
    """List developers, oldest first, a page at a time (never their secrets)."""
    Api(url, token, as_json).run("GET", "/developers", paged(COLUMNS), limit=limit, cursor=cursor)


@app.command("get")
def developer_get(
    developer_id: str, url: Url = None, token: Token = None, as_json: AsJson = False
) -> None:
    """Show a developer."""
    Api(url, token, as_json).run("GET", f"/developers/{developer_id}", fields)
