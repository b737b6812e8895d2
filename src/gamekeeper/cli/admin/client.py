"""The admin commands' HTTP client: connection options, the call, one-line errors.

Every command takes ``--url`` and ``--token`` (defaults: GAMEKEEPER_ADMIN_URL /
GAMEKEEPER_ADMIN_TOKEN, else the configured base URL and the admin-token file in the data
directory) and ``--json`` to print the API's answer as it came; ``--json`` may also come right
after ``admin`` (``gamekeeper admin --json games list``).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any

import typer

from gamekeeper.bootstrap import ADMIN_TOKEN_FILE
from gamekeeper.cli.common import fail, read_settings
from gamekeeper.settings import Settings

if TYPE_CHECKING:
    import httpx

Url = Annotated[
    str | None, typer.Option(envvar="GAMEKEEPER_ADMIN_URL", help="Server URL.", show_default=False)
]
Token = Annotated[
    str | None,
    typer.Option(envvar="GAMEKEEPER_ADMIN_TOKEN", help="Admin token.", show_default=False),
]
AsJson = Annotated[bool, typer.Option("--json", help="Print the API's JSON answer.")]
Render = Callable[[Any], None]
_json_before_command = [False]  # set by ``admin --json``; every admin command runs it first


def ask_json(as_json: bool) -> None:
    """Remember whether ``--json`` came before the command (``admin --json games list``)."""
    _json_before_command[0] = as_json


class Api:
    """One admin command's connection and output format."""

    def __init__(self, url: str | None, token: str | None, as_json: bool) -> None:
        self.url, self.token, self.as_json = url, token, as_json or _json_before_command[0]

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
