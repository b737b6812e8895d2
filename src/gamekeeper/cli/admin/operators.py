"""``gamekeeper admin operators …``: tournament operators (then their keys and webhooks)."""

from __future__ import annotations

from typing import Annotated

import typer

from gamekeeper.cli.admin.client import Api, AsJson, Token, Url
from gamekeeper.cli.admin.render import fields, paged

app = typer.Typer(help="Tournament operators.", no_args_is_help=True)

COLUMNS = {"id": "id", "name": "name", "createdAt": "created"}


@app.command("create")
def operator_create(
    name: Annotated[str, typer.Option(help="Operator name.")],
    url: Url = None,
    token: Token = None,
    as_json: AsJson = False,
) -> None:
    """Create an operator; then issue its keys with ``keys create ID --owner operator``."""
    Api(url, token, as_json).run("POST", "/operators", fields, {"name": name})


@app.command("list")
def operator_list(
    limit: Annotated[int | None, typer.Option(min=1, max=200, help="Operators per page.")] = None,
    cursor: Annotated[str | None, typer.Option(help="nextCursor of the previous page.")] = None,
    url: Url = None,
    token: Token = None,
    as_json: AsJson = False,
) -> None:
    """List operators, oldest first, a page at a time."""
    Api(url, token, as_json).run("GET", "/operators", paged(COLUMNS), limit=limit, cursor=cursor)


@app.command("get")
def operator_get(
    operator_id: str, url: Url = None, token: Token = None, as_json: AsJson = False
) -> None:
    """Show an operator."""
    Api(url, token, as_json).run("GET", f"/operators/{operator_id}", fields)
