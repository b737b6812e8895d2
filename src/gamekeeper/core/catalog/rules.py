"""Rules on the fields of a game's listing, shared by registration and update."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from gamekeeper.core import validate
from gamekeeper.core.catalog.errors import InvalidGameField
from gamekeeper.core.catalog.types import Platform
from gamekeeper.core.errors import InvalidInput

MAX_DESCRIPTION = 5000
MAX_SOCIAL = 255
MAX_CAP = 2**53 - 1  # what a JavaScript client can hold exactly
REQUIRED = ("name", "description", "game_url", "platform")
# The field names clients know, for messages.
WIRE_NAMES = {
    "name": "name",
    "description": "description",
    "game_url": "gameUrl",
    "platform": "platform",
    "is_html_game": "isHTMLGame",
    "iframable": "iframable",
    "hidden": "hidden",
    "twitter": "twitter",
    "discord": "discord",
    "telegram": "telegram",
    "jwks_url": "jwksUrl",
    "max_score_per_session": "maxScorePerSession",
    "max_sessions_per_day": "maxSessionsPerDay",
    "max_cumulative_points_per_day": "maxCumulativePointsPerDay",
    "game_coin_symbol": "gameCoinSymbol",
    "org_rewards_split": "orgRewardsSplit",
    "remove_cover_image": "removeCoverImage",
}
_SYMBOL = re.compile(r"^[A-Za-z0-9]{1,10}$")
_PLATFORMS = ", ".join(p.value.upper() for p in Platform)


def clean(fields: Mapping[str, Any], *, required: tuple[str, ...] = ()) -> dict[str, Any]:
    """Validated, normalised values of the given fields; each broken rule has its own message."""
    unknown = set(fields) - set(WIRE_NAMES)
    if unknown:
        raise ValueError(f"not listing fields: {sorted(unknown)}")
    for name in required:
        if fields.get(name) is None:
            raise InvalidGameField(f"{WIRE_NAMES[name]} is required", code="missing_field")
    return {name: _RULES[name](name, value) for name, value in fields.items()}


def _name(field: str, value: Any) -> str:
    try:
        return validate.name(_text(field, value))
    except InvalidInput:
        raise _invalid(field, f"must be 1 to {validate.MAX_NAME} characters") from None


def _description(field: str, value: Any) -> str:
    text = _text(field, value).strip()
    if not text or len(text) > MAX_DESCRIPTION:
        raise _invalid(field, f"must be 1 to {MAX_DESCRIPTION} characters")
    return text


def _url(field: str, value: Any) -> str:
    try:
        return validate.http_url(_text(field, value).strip(), field=WIRE_NAMES[field])
    except InvalidInput as exc:
        raise InvalidGameField(exc.message, code="invalid_url") from None


def _optional_url(field: str, value: Any) -> str | None:
    return None if value is None or value == "" else _url(field, value)


def _platform(field: str, value: Any) -> Platform:
    try:
        return Platform(_text(field, value).strip().lower())
    except ValueError:
        raise _invalid(field, f"must be one of {_PLATFORMS}") from None


def _flag(field: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise _invalid(field, "must be true or false")
    return value


def _social(field: str, value: Any) -> str | None:
    if value is None:
        return None
    text = _text(field, value).strip()
    if len(text) > MAX_SOCIAL:
        raise _invalid(field, f"must be at most {MAX_SOCIAL} characters")
    return text or None


def _cap(field: str, value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_CAP:
        raise _invalid(field, f"must be a whole number from 1 to {MAX_CAP}, or null for no cap")
    return value


def _symbol(field: str, value: Any) -> str | None:
    if value is None or value == "":
        return None
    text = _text(field, value).strip()
    if not _SYMBOL.match(text):
        raise _invalid(field, "must be 1 to 10 letters or digits")
    return text.upper()


def _split(field: str, value: Any) -> Mapping[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise _invalid(field, "must be an object of {identifier: basis points}")
    return value


def _text(field: str, value: Any) -> str:
    if not isinstance(value, str):
        raise _invalid(field, "must be a string")
    return value


def _invalid(field: str, rule: str) -> InvalidGameField:
    return InvalidGameField(f"{WIRE_NAMES[field]} {rule}")


_RULES: dict[str, Callable[[str, Any], Any]] = {
    "name": _name,
    "description": _description,
    "game_url": _url,
    "platform": _platform,
    "is_html_game": _flag,
    "iframable": _flag,
    "hidden": _flag,
    "twitter": _social,
    "discord": _social,
    "telegram": _social,
    "jwks_url": _optional_url,
    "max_score_per_session": _cap,
    "max_sessions_per_day": _cap,
    "max_cumulative_points_per_day": _cap,
    "game_coin_symbol": _symbol,
    "org_rewards_split": _split,
    "remove_cover_image": _flag,
}
