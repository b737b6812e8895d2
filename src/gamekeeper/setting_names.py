"""What a setting's name and URL may be: one line for a typo, with the closest name.

A misspelt name must not leave the default in force unnoticed (``GAMEKEEPER_PORTT=9000``
serving on 8000), in the environment as in the TOML file. Kept apart from ``settings`` so that
it stays a leaf: it knows names, not the Settings object.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit


class SettingsError(ValueError):
    """A setting is invalid; the message names it and is fit to print as one line."""


def closest(name: str, choices: Iterable[str]) -> str | None:
    """The known name ``name`` was most likely meant to be, if one is close."""
    found = difflib.get_close_matches(name, list(choices), n=1, cutoff=0.6)
    return found[0] if found else None


def unknown_variable(key: str, known: Iterable[str]) -> SettingsError:
    """``GAMEKEEPER_PORTT: unknown setting (did you mean GAMEKEEPER_PORT?)``."""
    # Compared without the prefix every name shares, which would make any two names close.
    prefix, _, _ = key.partition("_")
    bare = {name.removeprefix(f"{prefix}_"): name for name in known}
    match = closest(key.removeprefix(f"{prefix}_"), bare)
    hint = f" (did you mean {bare[match]}?)" if match else ""
    return SettingsError(f"{key}: unknown setting{hint}")


def refuse_unknown_keys(
    values: Mapping[str, Any], *, where: str, fields: list[str], categories: list[str]
) -> None:
    """Refuse a key of the file that is no setting, or a rate-limit category that is none."""
    limits = values.get("rate_limits")
    for what, keys, known in (
        ("setting", values, fields),
        ("rate-limit category", limits if isinstance(limits, dict) else {}, categories),
    ):
        for key in keys:
            if key not in known:
                match = closest(key, known)
                hint = f" (did you mean {match!r}?)" if match else ""
                raise SettingsError(f"unknown {what} {key!r} in {where}{hint}")


def check_http_url(variable: str, value: str | None) -> None:
    """An absolute http(s) URL with a host, or None: it goes as it is into links for browsers."""
    if value is None:
        return
    try:
        parts = urlsplit(value)
        ok = parts.scheme in {"http", "https"} and bool(parts.hostname)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        ok = False
    if not ok:
        raise SettingsError(
            f"{variable}: {value!r} is not an http:// or https:// URL with a host, "
            "such as https://games.example.com"
        )
