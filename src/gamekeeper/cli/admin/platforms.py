"""``gamekeeper admin platforms …``: game platforms hosting tournament rooms for some games."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from gamekeeper.cli.admin.client import Api, AsJson, Token, Url
from gamekeeper.cli.admin.render import fields, paged

app = typer.Typer(help="Game platforms.", no_args_is_help=True)

COLUMNS = {"id": "id", "name": "name", "games": "games", "createdAt": "created"}


@app.command("create")
def platform_create(
    name: Annotated[str, typer.Option(help="Platform name.")],
    game: Annotated[
        list[str] | None,
        typer.Option(help="A game it hosts, by id or slug (repeatable).", show_default=False),
    ] = None,
    url: Url = None,
    token: Token = None,
    as_json: AsJson = False,
) -> None:
    """Create a platform; then issue its keys with ``keys create ID --owner platform``."""
    body: dict[str, Any] = {"name": name}
    if game:
        body["games"] = game
    Api(url, token, as_json).run("POST", "/platforms", fields, body)


@app.command("list")
def platform_list(
    limit: Annotated[int | None, typer.Option(min=1, max=200, help="Platforms per page.")] = None,
    cursor: Annotated[str | None, typer.Option(help="nextCursor of the previous page.")] = None,
    url: Url = None,
    token: Token = None,
    as_json: AsJson = False,
) -> None:
    """List platforms, oldest first, a page at a time."""
    Api(url, token, as_json).run("GET", "/platforms", paged(COLUMNS), limit=limit, cursor=cursor)


@app.command("get")
def platform_get(
    platform_id: str, url: Url = None, token: Token = None, as_json: AsJson = False
) -> None:
    """Show a platform."""
    Api(url, token, as_json).run("GET", f"/platforms/{platform_id}", fields)
