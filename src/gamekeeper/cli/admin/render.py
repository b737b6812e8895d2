"""How the admin commands print the API's answers when ``--json`` is not given."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from rich.table import Table
from rich.text import Text

from gamekeeper.cli.common import out


def text(value: Any) -> str:
    """One value as a cell or field: ``-`` for nothing, lists comma-separated."""
    if value is None:
        return "-"
    if isinstance(value, list):
        return ", ".join(map(str, value)) or "-"
    if isinstance(value, dict):
        return json.dumps(value) if value else "-"
    return str(value)


def fields(data: dict[str, Any]) -> None:
    """Print an object as aligned ``name  value`` lines."""
    width = max(map(len, data), default=0)
    for name, value in data.items():
        out.print(Text.assemble((f"{name:<{width}}", "bold"), "  ", text(value)))


def shown_once(what: str) -> Callable[[dict[str, Any]], None]:
    """A renderer of fields that warns the secret ``what`` will not be shown again."""

    def render(data: dict[str, Any]) -> None:
        fields(data)
        out.print(Text(f"\nThe {what} is shown only this once: store it now.", style="yellow"))

    return render


def table(items: list[dict[str, Any]], columns: dict[str, str], title: str | None = None) -> None:
    """Print items as a table of ``columns`` (API field → header), under ``title`` if given."""
    grid = Table(title=Text(title) if title else None)
    for key, header in columns.items():
        # Ids are copied from tables and actions read at a glance: keep values whole and let
        # the table grow past the terminal's width; only free text (names) folds.
        widest = max((len(_cell(key, item.get(key))) for item in items), default=0)
        grid.add_column(header, min_width=None if key == "name" else widest, overflow="fold")
    for item in items:
        grid.add_row(*(_cell(key, item.get(key)) for key in columns))
    out.print(grid)


def paged(columns: dict[str, str]) -> Callable[[dict[str, Any]], None]:
    """A renderer of one page of ``items`` as a table, then how to ask for the next page."""

    def render(page: dict[str, Any]) -> None:
        table(page["items"], columns)
        if page.get("nextCursor"):
            out.print(f"More: --cursor {page['nextCursor']}")

    return render


def _cell(key: str, value: Any) -> str:
    if isinstance(value, str) and (key == "at" or key.endswith("At")):
        return value[:19].replace("T", " ")  # to the second, in UTC
    return text(value)
