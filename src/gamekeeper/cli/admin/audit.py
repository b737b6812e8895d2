"""``gamekeeper admin audit``: the audit log, newest first (one command, not a group)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from gamekeeper.cli.admin.client import Api, AsJson, Token, Url
from gamekeeper.cli.admin.render import table, text
from gamekeeper.cli.common import out

COLUMNS = {
    "id": "id", "at": "at", "action": "action", "actor": "actor",
    "targetType": "target", "targetId": "target id", "gameId": "game", "ip": "from",
    "details": "details",  # why a failure happened: {"reason": …}
}  # fmt: skip


def audit(
    limit: Annotated[int | None, typer.Option(min=1, max=200, help="Entries per page.")] = None,
    before: Annotated[int | None, typer.Option(help="nextBefore of the previous page.")] = None,
    url: Url = None,
    token: Token = None,
    as_json: AsJson = False,
) -> None:
    """Read the audit log, newest first."""

    def render(page: dict[str, Any]) -> None:
        table(
            [{**item, "details": _details(item.get("details"))} for item in page["items"]], COLUMNS
        )
        if page.get("nextBefore") is not None:
            out.print(f"More: --before {page['nextBefore']}")

    Api(url, token, as_json).run("GET", "/audit", render, limit=limit, before=before)


def _details(details: dict[str, Any] | None) -> str | None:
    """``reason=bad_signature, path=/x``: what an entry adds, most often why something failed."""
    if not details:
        return None
    return ", ".join(f"{name}={text(value)}" for name, value in details.items())
