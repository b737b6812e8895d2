"""``gamekeeper admin webhooks …``: an owner's webhooks (a game's by default): create, list, show,
test and delete."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

import typer

from gamekeeper.cli.admin.client import Api, AsJson, Token, Url
from gamekeeper.cli.admin.owned import OwnerKind, OwnerOption, owner_path
from gamekeeper.cli.admin.render import fields, shown_once, table
from gamekeeper.cli.common import out

app = typer.Typer(help="Webhooks of a game, an operator or a platform.", no_args_is_help=True)


class Format(StrEnum):
    standard = "standard"
    form = "form"


# --url is the webhook's address here, as in the API; the server's URL moves to --server-url.
ServerUrl = Annotated[
    str | None,
    typer.Option(
        "--server-url", envvar="GAMEKEEPER_ADMIN_URL", help="Server URL.", show_default=False
    ),
]

COLUMNS = {
    "id": "id", "url": "url", "eventTypes": "events", "format": "format", "enabled": "enabled",
    "failingSince": "failing", "disabledReason": "disabled",
}  # fmt: skip


@app.command("create")
def webhook_create(
    owner_id: str,
    hook_url: Annotated[str, typer.Option("--url", help="Where the events are POSTed.")],
    event_type: Annotated[
        list[str] | None,
        typer.Option(
            help="Send only this event type (repeatable; default: all).", show_default=False
        ),
    ] = None,
    fmt: Annotated[Format, typer.Option("--format", help="How deliveries are signed.")] = (
        Format.standard
    ),
    owner: OwnerOption = OwnerKind.game,
    url: ServerUrl = None,
    token: Token = None,
    as_json: AsJson = False,
) -> None:
    """Subscribe a URL to an owner's events; shows the signing secret once."""
    body: dict[str, Any] = {"url": hook_url, "format": fmt.value}
    if event_type:
        body["eventTypes"] = event_type
    path = f"{owner_path(owner, owner_id)}/webhooks"
    Api(url, token, as_json).run("POST", path, shown_once("secret"), body)


@app.command("list")
def webhook_list(
    owner_id: str,
    owner: OwnerOption = OwnerKind.game,
    url: Url = None,
    token: Token = None,
    as_json: AsJson = False,
) -> None:
    """List an owner's webhooks (never their secrets)."""
    path = f"{owner_path(owner, owner_id)}/webhooks"
    Api(url, token, as_json).run("GET", path, lambda page: table(page["items"], COLUMNS))


WebhookId = Annotated[str, typer.Argument(help="The webhook's id (see `webhooks list`).")]


@app.command("get")
def webhook_get(
    owner_id: str,
    webhook_id: WebhookId,
    owner: OwnerOption = OwnerKind.game,
    url: Url = None,
    token: Token = None,
    as_json: AsJson = False,
) -> None:
    """Show a webhook (never its secret)."""
    path = f"{owner_path(owner, owner_id)}/webhooks/{webhook_id}"
    Api(url, token, as_json).run("GET", path, fields)


@app.command("test")
def webhook_test(
    owner_id: str,
    webhook_id: WebhookId,
    owner: OwnerOption = OwnerKind.game,
    url: Url = None,
    token: Token = None,
    as_json: AsJson = False,
) -> None:
    """Send a ``webhook.test`` event to the webhook's URL."""
    path = f"{owner_path(owner, owner_id)}/webhooks/{webhook_id}/test"

    def render(sent: dict[str, Any]) -> None:
        out.print(f"Test event {sent['eventId']} queued for webhook {webhook_id}.")

    Api(url, token, as_json).run("POST", path, render)


@app.command("delete")
def webhook_delete(
    owner_id: str,
    webhook_id: WebhookId,
    owner: OwnerOption = OwnerKind.game,
    url: Url = None,
    token: Token = None,
    as_json: AsJson = False,
) -> None:
    """Delete a webhook: no more events go to its URL."""
    path = f"{owner_path(owner, owner_id)}/webhooks/{webhook_id}"
    Api(url, token, as_json).run(
        "DELETE", path, lambda _: out.print(f"Webhook {webhook_id} deleted.")
    )
