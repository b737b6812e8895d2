"""``gamekeeper admin …``: the admin API (``/admin/v1``) from the shell, over HTTP.

Every command takes ``--url`` and ``--token`` (defaults: GAMEKEEPER_ADMIN_URL /
GAMEKEEPER_ADMIN_TOKEN, else the configured base URL and the admin-token file in the data
directory) and ``--json`` to print the API's answer as it came. Also home to the two helpers
``cli.py`` shares: ``fail`` and ``read_settings``.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from gamekeeper.bootstrap import ADMIN_TOKEN_FILE
from gamekeeper.settings import Settings, SettingsError, load_settings

if TYPE_CHECKING:
    import httpx

admin = typer.Typer(help="Call the admin API of a running server.", no_args_is_help=True)
developers = typer.Typer(help="Developer accounts (HMAC credentials).", no_args_is_help=True)
games = typer.Typer(help="Games.", no_args_is_help=True)
keys = typer.Typer(help="API keys of a game.", no_args_is_help=True)
players = typer.Typer(help="Player accounts.", no_args_is_help=True)
admin.add_typer(developers, name="developers")
admin.add_typer(games, name="games")
admin.add_typer(keys, name="keys")
admin.add_typer(players, name="players")

# markup=False: values from the API are printed as they are, "[" included.
out = Console(highlight=False, soft_wrap=True, markup=False)


def fail(message: str, code: int = 1) -> NoReturn:
    """Print one ``error:`` line on stderr and exit."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def read_settings(config: Path | None, **overrides: Any) -> Settings:
    """Settings, or exit 2 with the one-line reason when a setting is invalid."""
    try:
        return load_settings(config_file=config, **overrides)
    except SettingsError as exc:
        fail(str(exc), code=2)


Url = Annotated[
    str | None, typer.Option(envvar="GAMEKEEPER_ADMIN_URL", help="Server URL.", show_default=False)
]
Token = Annotated[
    str | None,
    typer.Option(envvar="GAMEKEEPER_ADMIN_TOKEN", help="Admin token.", show_default=False),
]
AsJson = Annotated[bool, typer.Option("--json", help="Print the API's JSON answer.")]
Render = Callable[[Any], None]


class Api:
    """One admin command's connection and output format."""

    def __init__(self, url: str | None, token: str | None, as_json: bool) -> None:
        self.url, self.token, self.as_json = url, token, as_json

    def _call(
        self, method: str, path: str, body: dict[str, Any] | None = None, **params: Any
    ) -> httpx.Response:
        import httpx

        url, token = self._connection()
        query = {k: v for k, v in params.items() if v is not None}
        try:
            response = httpx.request(
                method,
                f"{url}/admin/v1{path}",
                json=body,
                params=query,
                headers={"Authorization": f"Bearer {token}"},
                timeout=30,
            )
        except httpx.ConnectError:
            fail(f"the server at {url} is not reachable (is `gamekeeper serve` running?)")
        except httpx.TimeoutException:
            fail(f"the server at {url} did not answer in time")
        except httpx.HTTPError as exc:
            fail(f"cannot reach {url}: {exc}")
        if response.is_error:
            fail(_describe_error(response))
        return response

    def run(
        self,
        method: str,
        path: str,
        render: Render,
        body: dict[str, Any] | None = None,
        **params: Any,
    ) -> None:
        """Call the API, then print its answer: as it came with --json, else with ``render``."""
        response = self._call(method, path, body, **params)
        if self.as_json:
            if response.content:
                sys.stdout.write(response.text.rstrip("\n") + "\n")
            return
        render(response.json() if response.content else None)

    def _connection(self) -> tuple[str, str]:
        url, token = self.url, self.token
        if url is None or token is None:
            settings = read_settings(None)
            url = url or settings.base_url
            token = token or settings.admin_token or _token_from_file(settings)
        return url.rstrip("/"), token


def _token_from_file(settings: Settings) -> str:
    path = settings.data_path / ADMIN_TOKEN_FILE
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        fail(
            "no admin token: pass --token, set GAMEKEEPER_ADMIN_TOKEN, "
            f"or start the server once to create {path}"
        )
    except OSError as exc:
        fail(f"cannot read the admin token from {path}: {exc.strerror or exc}")


def _describe_error(response: httpx.Response) -> str:
    try:
        error = response.json()["error"]
        return f"{error['message']} ({error['code']})"
    except (ValueError, KeyError, TypeError):
        return f"the server answered HTTP {response.status_code} {response.reason_phrase}"


# --- rendering -------------------------------------------------------------------------------


def _text(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, list):
        return ", ".join(map(str, value)) or "-"
    if isinstance(value, dict):
        return json.dumps(value) if value else "-"
    return str(value)


def _fields(data: dict[str, Any]) -> None:
    width = max(map(len, data), default=0)
    for name, value in data.items():
        out.print(Text.assemble((f"{name:<{width}}", "bold"), "  ", _text(value)))


def _shown_once(what: str) -> Callable[[dict[str, Any]], None]:
    def render(data: dict[str, Any]) -> None:
        _fields(data)
        out.print(Text(f"\nThe {what} is shown only this once: store it now.", style="yellow"))

    return render


def _table(items: list[dict[str, Any]], columns: dict[str, str]) -> None:
    table = Table()
    for key, header in columns.items():
        # Ids are copied from tables and actions read at a glance: keep values whole and let
        # the table grow past the terminal's width; only free text (names) folds.
        widest = max((len(_cell(key, item.get(key))) for item in items), default=0)
        table.add_column(header, min_width=None if key == "name" else widest, overflow="fold")
    for item in items:
        table.add_row(*(_cell(key, item.get(key)) for key in columns))
    out.print(table)


def _cell(key: str, value: Any) -> str:
    if isinstance(value, str) and (key == "at" or key.endswith("At")):
        return value[:19].replace("T", " ")  # to the second, in UTC
    return _text(value)


# --- developers ------------------------------------------------------------------------------


@developers.command("create")
def developer_create(
    name: Annotated[str, typer.Option(help="Developer name.")],
    email: Annotated[str | None, typer.Option(help="Contact email.")] = None,
    url: Url = None,
    token: Token = None,
    as_json: AsJson = False,
) -> None:
    """Create a developer; shows its API key and secret key once."""
    body = {"name": name, "email": email}
    Api(url, token, as_json).run("POST", "/developers", _shown_once("secret key"), body)


@developers.command("get")
def developer_get(
    developer_id: str, url: Url = None, token: Token = None, as_json: AsJson = False
) -> None:
    """Show a developer."""
    Api(url, token, as_json).run("GET", f"/developers/{developer_id}", _fields)


# --- games -----------------------------------------------------------------------------------

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


@games.command("create")
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
    Api(url, token, as_json).run("POST", "/games", _fields, body)


@games.command("list")
def game_list(
    limit: Annotated[int | None, typer.Option(min=1, max=200, help="Games per page.")] = None,
    cursor: Annotated[str | None, typer.Option(help="nextCursor of the previous page.")] = None,
    url: Url = None,
    token: Token = None,
    as_json: AsJson = False,
) -> None:
    """List games, oldest first, a page at a time."""

    def render(page: dict[str, Any]) -> None:
        _table(page["items"], GAME_COLUMNS)
        if page.get("nextCursor"):
            out.print(f"More: --cursor {page['nextCursor']}")

    Api(url, token, as_json).run("GET", "/games", render, limit=limit, cursor=cursor)


@games.command("get")
def game_get(game_id: str, url: Url = None, token: Token = None, as_json: AsJson = False) -> None:
    """Show a game."""
    Api(url, token, as_json).run("GET", f"/games/{game_id}", _fields)


@games.command("update")
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
    Api(url, token, as_json).run("PATCH", f"/games/{game_id}", _fields, body)


# --- keys ------------------------------------------------------------------------------------


class KeyKind(StrEnum):
    server = "server"
    test = "test"
    internal = "internal"
    operator = "operator"


@keys.command("create")
def key_create(
    game_id: str,
    kind: Annotated[KeyKind, typer.Option(help="What the key is for.")],
    scope: Annotated[list[str] | None, typer.Option(help="Scope granted (repeatable).")] = None,
    name: Annotated[str | None, typer.Option(help="A label for the key.")] = None,
    url: Url = None,
    token: Token = None,
    as_json: AsJson = False,
) -> None:
    """Issue an API key for a game; shows the key once."""
    body = {"kind": kind.value, "scopes": scope or None, "name": name}
    Api(url, token, as_json).run("POST", f"/games/{game_id}/keys", _shown_once("key"), body)


@keys.command("list")
def key_list(game_id: str, url: Url = None, token: Token = None, as_json: AsJson = False) -> None:
    """List a game's keys (prefixes only, never the keys)."""
    columns = {
        "id": "id", "kind": "kind", "prefix": "prefix", "name": "name", "scopes": "scopes",
        "lastUsedAt": "last used", "revokedAt": "revoked",
    }  # fmt: skip
    api = Api(url, token, as_json)
    api.run("GET", f"/games/{game_id}/keys", lambda page: _table(page["items"], columns))


@keys.command("revoke")
def key_revoke(key_id: str, url: Url = None, token: Token = None, as_json: AsJson = False) -> None:
    """Revoke a key: it stops working at once."""
    Api(url, token, as_json).run(
        "DELETE", f"/keys/{key_id}", lambda _: out.print(f"Key {key_id} revoked.")
    )


# --- players ---------------------------------------------------------------------------------


@players.command("create")
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
    Api(url, token, as_json).run("POST", "/players", _fields, body)


@players.command("get")
def player_get(
    player_id: str, url: Url = None, token: Token = None, as_json: AsJson = False
) -> None:
    """Show a player."""
    Api(url, token, as_json).run("GET", f"/players/{player_id}", _fields)


# --- audit -----------------------------------------------------------------------------------


@admin.command("audit")
def audit_list(
    limit: Annotated[int | None, typer.Option(min=1, max=200, help="Entries per page.")] = None,
    before: Annotated[int | None, typer.Option(help="nextBefore of the previous page.")] = None,
    url: Url = None,
    token: Token = None,
    as_json: AsJson = False,
) -> None:
    """Read the audit log, newest first."""
    columns = {
        "id": "id", "at": "at", "action": "action", "actor": "actor",
        "targetType": "target", "targetId": "target id", "gameId": "game",
    }  # fmt: skip

    def render(page: dict[str, Any]) -> None:
        _table(page["items"], columns)
        if page.get("nextBefore") is not None:
            out.print(f"More: --before {page['nextBefore']}")

    Api(url, token, as_json).run("GET", "/audit", render, limit=limit, before=before)
