"""``gamekeeper admin …``: the admin API (``/admin/v1``) from the shell, over HTTP.

One module per group; adding a group is one module (with its ``app``) and one line below.
"""

from __future__ import annotations

import typer

from gamekeeper.cli.admin import (
    audit,
    client,
    developers,
    games,
    keys,
    operators,
    platforms,
    players,
    push,
    webhooks,
)

__all__ = ["app"]

app = typer.Typer(help="Call the admin API of a running server.", no_args_is_help=True)


@app.callback()
def admin(as_json: client.AsJson = False) -> None:
    """Call the admin API of a running server."""
    client.ask_json(as_json)


# The registrations: --help lists the commands first, then the groups.
app.add_typer(developers.app, name="developers")
app.add_typer(games.app, name="games")
app.add_typer(keys.app, name="keys")
app.add_typer(operators.app, name="operators")
app.add_typer(platforms.app, name="platforms")
app.add_typer(players.app, name="players")
app.add_typer(push.app, name="push")
app.add_typer(webhooks.app, name="webhooks")
app.command("audit")(audit.audit)
