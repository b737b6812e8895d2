"""BattlePlace project settings: which client auth backends a game accepts, and their secrets.

A project is a game; its settings live in ``game.settings["battleplace"]`` beside whatever else
the dialect keeps there. The Steam app ticket key and the Web API publisher key are sealed with
the installation's SecretBox, bound to the game and the field, and never read back to anyone:
the admin API shows only whether each is set.

The encrypted app ticket age defaults to 10 minutes. A ticket is a bearer credential, so a short
window limits replay; Steam hands a client a fresh ticket once a minute, so ten minutes still
lets a client that fetched its ticket at launch retry a few times. The floor is that minute.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeGuard

from gamekeeper.core import audit
from gamekeeper.core.audit import Actor
from gamekeeper.core.errors import InvalidInput, Unavailable
from gamekeeper.core.identity import games
from gamekeeper.core.identity.types import Game
from gamekeeper.core.matchmaking.steam_ticket import app_key_from_hex
from gamekeeper.core.matchmaking.store import MatchmakingUow
from gamekeeper.core.secrets import SecretBox

SETTINGS_KEY = "battleplace"
DEFAULT_TICKET_MAX_AGE = 600
MIN_TICKET_MAX_AGE, MAX_TICKET_MAX_AGE = 60, 86_400
MAX_APP_ID = 0xFFFF_FFFF  # a Steam AppID is a u32
_PUBLISHER_KEY = re.compile(r"^[A-Za-z0-9]{16,128}$")
_SEALED = {
    "steam_app_key": "steam_app_key_sealed",
    "steam_publisher_key": "steam_publisher_key_sealed",
}
CHANGEABLE = frozenset({"itch_enabled", "steam_app_id", "steam_ticket_max_age", *_SEALED})


class ProjectSecretUnreadable(Unavailable):
    code = "project_secret_unreadable"
    message = "A secret in the project's settings cannot be read; an admin must set it again"


@dataclass(frozen=True, slots=True)
class ProjectSettings:
    """A project's client auth settings; secrets only as sealed text (None when unset)."""

    game_id: str
    itch_enabled: bool
    steam_app_id: int | None
    steam_ticket_max_age: int
    sealed_app_key: str | None
    sealed_publisher_key: str | None

    @property
    def max_age(self) -> timedelta:
        """How old an encrypted app ticket may be."""
        return timedelta(seconds=self.steam_ticket_max_age)

    def steam_app_key(self, box: SecretBox) -> bytes | None:
        """The 32-byte encrypted app ticket key, unsealed; None when unset."""
        if self.sealed_app_key is None:
            return None
        return bytes.fromhex(self._open(box, self.sealed_app_key, "steam_app_key"))

    def steam_publisher_key(self, box: SecretBox) -> str | None:
        """The Steam Web API publisher key, unsealed; None when unset."""
        if self.sealed_publisher_key is None:
            return None
        return self._open(box, self.sealed_publisher_key, "steam_publisher_key")

    def _open(self, box: SecretBox, sealed: str, field: str) -> str:
        # Fails when the installation's secret key changed or the stored value was altered.
        try:
            return box.open(sealed, context=context(self.game_id, field))
        except ValueError:
            raise ProjectSecretUnreadable() from None


def context(game_id: str, field: str) -> str:
    """What a sealed secret is bound to: a copy under another game or field does not open."""
    return f"battleplace/{game_id}/{field}"


def settings_of(game_id: str, stored: dict[str, Any]) -> ProjectSettings:
    """Read the stored dictionary leniently: a value of the wrong type counts as unset."""
    app_id = stored.get("steam_app_id")
    max_age = stored.get("steam_ticket_max_age")
    sealed = {name: stored.get(key) for name, key in _SEALED.items()}
    return ProjectSettings(
        game_id=game_id,
        itch_enabled=stored.get("itch_enabled") is True,
        steam_app_id=app_id if _is_int(app_id) else None,
        steam_ticket_max_age=max_age if _is_int(max_age) else DEFAULT_TICKET_MAX_AGE,
        sealed_app_key=_text(sealed["steam_app_key"]),
        sealed_publisher_key=_text(sealed["steam_publisher_key"]),
    )


def project_settings(game: Game) -> ProjectSettings:
    """The BattlePlace settings of a game."""
    return settings_of(game.id, _stored(game.settings))


async def get_project_settings(uow: MatchmakingUow, game_id: str) -> ProjectSettings:
    """The project's settings, or GameNotFound."""
    return project_settings(await games.get_game(uow, game_id))


async def update_project_settings(
    uow: MatchmakingUow, *, game_id: str, changes: dict[str, Any], box: SecretBox, actor: Actor
) -> ProjectSettings:
    """Change the given fields; fields left out keep their value, None clears a secret."""
    unknown = set(changes) - CHANGEABLE
    if unknown:
        raise ValueError(f"not project settings: {sorted(unknown)}")
    game = await games.get_game(uow, game_id)
    stored = dict(_stored(game.settings))
    for name, value in changes.items():
        stored.update(_validated(game_id, name, value, box))
    stored = {k: v for k, v in stored.items() if v is not None}
    await games.update_game(
        uow, game_id=game_id, changes={"settings": {SETTINGS_KEY: stored}}, box=box, actor=actor
    )
    await _audit(uow, game_id=game_id, changes=changes, actor=actor)
    return settings_of(game_id, stored)


def _validated(game_id: str, name: str, value: Any, box: SecretBox) -> dict[str, Any]:
    if name in _SEALED:
        if value is None:
            return {_SEALED[name]: None}
        plain = _secret(name, value)
        return {_SEALED[name]: box.seal(plain, context=context(game_id, name))}
    if name == "itch_enabled":
        return {name: bool(value)}
    if name == "steam_app_id":
        if value is not None and not (_is_int(value) and 0 < value <= MAX_APP_ID):
            raise InvalidInput(
                f"steamAppId must be an integer from 1 to {MAX_APP_ID}", code="invalid_app_id"
            )
        return {name: value}
    if not (_is_int(value) and MIN_TICKET_MAX_AGE <= value <= MAX_TICKET_MAX_AGE):
        raise InvalidInput(
            f"steamTicketMaxAge must be {MIN_TICKET_MAX_AGE} to {MAX_TICKET_MAX_AGE} seconds",
            code="invalid_ticket_max_age",
        )
    return {name: value}


def _secret(name: str, value: str) -> str:
    if name == "steam_app_key":
        return app_key_from_hex(value).hex()
    value = value.strip()
    if not _PUBLISHER_KEY.match(value):
        raise InvalidInput(
            "steamPublisherKey must be 16 to 128 letters and digits", code="invalid_publisher_key"
        )
    return value


async def _audit(
    uow: MatchmakingUow, *, game_id: str, changes: dict[str, Any], actor: Actor
) -> None:
    secrets = {
        name: "cleared" if changes[name] is None else "set" for name in _SEALED if name in changes
    }
    await audit.record(
        uow,
        "battleplace.settings_updated",
        actor=actor,
        target_type="game",
        target_id=game_id,
        game_id=game_id,
        fields=sorted(changes),
        secrets=secrets,
    )


def _stored(settings: dict[str, Any]) -> dict[str, Any]:
    value = settings.get(SETTINGS_KEY)
    return value if isinstance(value, dict) else {}


def _is_int(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None
