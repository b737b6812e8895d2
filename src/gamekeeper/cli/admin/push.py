"""``gamekeeper admin push …``: a game's push provider credentials (APNs, FCM, Expo)."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from gamekeeper.cli.admin.client import Api, AsJson, Token, Url
from gamekeeper.cli.admin.render import fields
from gamekeeper.cli.common import fail

app = typer.Typer(help="Push notification credentials of a game.", no_args_is_help=True)

JsonFile = Annotated[
    Path | None, typer.Option(exists=True, dir_okay=False, readable=True, help="A JSON file.")
]


class Provider(StrEnum):
    apns = "apns"
    fcm = "fcm"
    expo = "expo"


@app.command("get")
def push_get(game_id: str, url: Url = None, token: Token = None, as_json: AsJson = False) -> None:
    """Which providers have the game's own credentials (never the credentials)."""
    Api(url, token, as_json).run("GET", f"/games/{game_id}/push", fields)


def _json(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except ValueError as exc:
        fail(f"{path} is not JSON: {exc}", code=2)


@app.command("set")
def push_set(
    game_id: str,
    apns_key: Annotated[
        Path | None, typer.Option(exists=True, dir_okay=False, help="APNs .p8 key file.")
    ] = None,
    apns_key_id: Annotated[str | None, typer.Option(help="The .p8 key's id.")] = None,
    apns_team_id: Annotated[str | None, typer.Option(help="Apple team id.")] = None,
    apns_topic: Annotated[str | None, typer.Option(help="The app's bundle id.")] = None,
    apns_sandbox: Annotated[bool, typer.Option(help="Use Apple's sandbox.")] = False,
    fcm_service_account: JsonFile = None,
    expo_access_token: Annotated[
        str | None, typer.Option(help="Expo access token (if the project requires one).")
    ] = None,
    expo: Annotated[bool, typer.Option(help="Send through Expo (no access token).")] = False,
    clear: Annotated[
        list[Provider] | None, typer.Option(help="Remove a provider's credentials (repeatable).")
    ] = None,
    url: Url = None,
    token: Token = None,
    as_json: AsJson = False,
) -> None:
    """Set (or --clear) some providers' credentials; the others keep theirs."""
    body: dict[str, Any] = {}
    if apns_key is not None:
        if not (apns_key_id and apns_team_id and apns_topic):
            fail("--apns-key needs --apns-key-id, --apns-team-id and --apns-topic", code=2)
        body["apns"] = {
            "keyP8": apns_key.read_text(), "keyId": apns_key_id, "teamId": apns_team_id,
            "topic": apns_topic, "environment": "sandbox" if apns_sandbox else "production",
        }  # fmt: skip
    if fcm_service_account is not None:
        body["fcm"] = {"serviceAccount": _json(fcm_service_account)}
    if expo or expo_access_token:
        body["expo"] = {"accessToken": expo_access_token}
    for provider in clear or ():
        body[provider.value] = None
    if not body:
        fail("nothing to change: give a provider's options or --clear (see --help)", code=2)
    Api(url, token, as_json).run("PUT", f"/games/{game_id}/push", fields, body)
