"""``gamekeeper admin games …``: create, list, show and change games."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

import typer

from gamekeeper.cli.admin.client import Api, AsJson, Token, Url
from gamekeeper.cli.admin.render import fields, paged
from gamekeeper.cli.common import fail

app = typer.Typer(help="Games.", no_args_is_help=True)

Slug = Annotated[str | None, typer.Option(help="URL-safe short name.")]
DeveloperId = Annotated[str | None, typer.Option(help="Owning developer.")]
GameUrl = Annotated[str | None, typer.Option(help="Where the game is played.")]
CallbackUrl = Annotated[str | None, typer.Option(help="Server callback URL.")]
Origins = Annotated[
    list[str] | None,
    typer.Option("--allowed-origin", help="Browser origin allowed to call (repeatable)."),
]


class Clearable(StrEnum):
    developer_id = "developer-id"
    game_url = "game-url"
    callback_url = "callback-url"
    allowed_origins = "allowed-origins"


_CAMEL = {
    "developer_id": "developerId", "game_url": "gameUrl", "callback_url": "callbackUrl",
    "allowed_origins": "allowedOrigins",
}  # fmt: skip


def _game_fields(**values: Any) -> dict[str, Any]:
    return {_CAMEL.get(k, k): v for k, v in values.items() if v is not None}


GAME_COLUMNS = {
    "id": "id", "slug": "slug", "name": "name", "developerId": "developer", "createdAt": "created",
}  # fmt: skip


@app.command("create")
def game_create(
    name: Annotated[str, typer.Option(help="Game name.")],
    slug: Slug = None,
    developer_id: DeveloperId = None,
    game_url: GameUrl = None,
    callback_url: CallbackUrl = None,
    allowed_origin: Origins = None,
    url: Url = None,
    token: Token = None,
    as_json: AsJson = False,
) -> None:
    """Create a game."""
    body = _game_fields(
        name=name, slug=slug, developer_id=developer_id, game_url=game_url,
        callback_url=callback_url, allowed_origins=allowed_origin or None,
    )  # fmt: skip
    Api(url, token, as_json).run("POST", "/games", fields, body)


@app.command("list")
def game_list(
    limit: Annotated[int | None, typer.Option(min=1, max=200, help="Games per page.")] = None,
    cursor: Annotated[str | None, typer.Option(help="nextCursor of the previous page.")] = None,
    url: Url = None,
    token: Token = None,
    as_json: AsJson = False,
) -> None:
    """List games, oldest first, a page at a time."""
    Api(url, token, as_json).run("GET", "/games", paged(GAME_COLUMNS), limit=limit, cursor=cursor)


@app.command("get")
def game_get(game_id: str, url: Url = None, token: Token = None, as_json: AsJson = False) -> None:
    """Show a game."""
    Api(url, token, as_json).run("GET", f"/games/{game_id}", fields)


@app.command("update")
def game_update(
    game_id: str,
    name: Annotated[str | None, typer.Option(help="New name.")] = None,
    slug: Slug = None,
    developer_id: DeveloperId = None,
    game_url: GameUrl = None,
    callback_url: CallbackUrl = None,
    allowed_origin: Origins = None,
    clear: Annotated[
        list[Clearable] | None, typer.Option(help="Remove this field's value (repeatable).")
    ] = None,
    url: Url = None,
    token: Token = None,
    as_json: AsJson = False,
) -> None:
    """Change some fields of a game; --allowed-origin replaces the whole list."""
    body = _game_fields(
        name=name, slug=slug, developer_id=developer_id, game_url=game_url,
        callback_url=callback_url, allowed_origins=allowed_origin or None,
    )  # fmt: skip
    for field in clear or ():
        body[_CAMEL[field.name]] = None
    if not body:
        fail("nothing to change: give at least one option (see --help)", code=2)
    Api(url, token, as_json).run("PATCH", f"/games/{game_id}", fields, body)
