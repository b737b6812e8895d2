"""Wire shapes of the admin API (camelCase JSON)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, Any, Literal, Protocol, TypeVar

import msgspec

from gamekeeper.core.audit import AuditEntry
from gamekeeper.core.errors import InvalidInput
from gamekeeper.core.identity.types import Credential, Developer, Game, IssuedKey, Player
from gamekeeper.core.matchmaking.projects import SETTINGS_KEY

Name = Annotated[str, msgspec.Meta(min_length=1, max_length=120)]
Email = Annotated[str, msgspec.Meta(max_length=254)]
Url = Annotated[str, msgspec.Meta(max_length=2048)]
Slug = Annotated[str, msgspec.Meta(max_length=64)]
Origins = Annotated[list[Annotated[str, msgspec.Meta(max_length=255)]], msgspec.Meta(max_length=50)]
Scopes = Annotated[list[Annotated[str, msgspec.Meta(max_length=64)]], msgspec.Meta(max_length=32)]
UNSET = msgspec.UNSET
Unset = msgspec.UnsetType


class Wire(msgspec.Struct, rename="camel", forbid_unknown_fields=True, kw_only=True):
    pass


class _HasId(Protocol):
    @property
    def id(self) -> str: ...


Row = TypeVar("Row", bound=_HasId)


def next_page(found: Sequence[Row], limit: int) -> tuple[Sequence[Row], str | None]:
    """The page out of ``limit + 1`` rows read by id, and the next page's cursor (its last id)."""
    page = found[:limit]
    return page, page[-1].id if len(found) > limit else None


class DeveloperCreate(Wire):
    name: Name
    email: Email | None = None


class DeveloperOut(Wire):
    id: str
    name: str
    email: str | None
    created_at: datetime

    @classmethod
    def of(cls, value: Developer) -> DeveloperOut:
        return cls(id=value.id, name=value.name, email=value.email, created_at=value.created_at)


class DeveloperPage(Wire):
    items: list[DeveloperOut]
    next_cursor: str | None


class DeveloperCreated(DeveloperOut):
    api_key: str
    secret_key: str


class GameCreate(Wire):
    name: Name
    slug: Slug | None = None
    developer_id: str | None = None
    game_url: Url | None = None
    allowed_origins: Origins | None = None
    callback_url: Url | None = None
    settings: dict[str, Any] | None = None


class GameUpdate(Wire):
    name: Name | Unset = UNSET
    slug: Slug | Unset = UNSET
    developer_id: str | Unset | None = UNSET
    game_url: Url | Unset | None = UNSET
    allowed_origins: Origins | Unset | None = UNSET
    callback_url: Url | Unset | None = UNSET
    settings: dict[str, Any] | Unset | None = UNSET


def _shown_settings(settings: dict[str, Any]) -> dict[str, Any]:
    """Settings as shown: sealed secrets (``*_sealed``) are left out, even encrypted."""
    return {
        dialect: {k: v for k, v in value.items() if not k.endswith("_sealed")}
        if isinstance(value, dict)
        else value
        for dialect, value in settings.items()
    }


def check_settings(settings: dict[str, Any] | None) -> None:
    """Dialect settings with secrets have endpoints of their own: they are refused here."""
    if settings and SETTINGS_KEY in settings:
        raise InvalidInput(
            f"settings.{SETTINGS_KEY} is set through /admin/v1/games/{{id}}/battleplace",
            code="reserved_settings",
        )


class GameOut(Wire):
    id: str
    slug: str
    name: str
    developer_id: str | None
    game_url: str | None
    callback_url: str | None
    allowed_origins: list[str]
    settings: dict[str, Any]
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, value: Game) -> GameOut:
        return cls(
            id=value.id,
            slug=value.slug,
            name=value.name,
            developer_id=value.developer_id,
            game_url=value.game_url,
            callback_url=value.callback_url,
            allowed_origins=list(value.allowed_origins),
            settings=_shown_settings(value.settings),
            created_at=value.created_at,
            updated_at=value.updated_at,
        )


class GamePage(Wire):
    items: list[GameOut]
    next_cursor: str | None


class KeyCreate(Wire):
    kind: Literal["server", "test", "internal", "operator"]
    scopes: Scopes | None = None
    name: Name | None = None
    test_mode: bool = False  # operator keys: sk_test_… instead of sk_live_…


class KeyOut(Wire):
    id: str
    owner_kind: str
    owner_id: str
    game_id: str | None  # the owner, when it is a game
    kind: str
    test_mode: bool
    prefix: str
    scopes: list[str]
    name: str | None
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None

    @classmethod
    def of(cls, value: Credential) -> KeyOut:
        return cls(
            id=value.id,
            owner_kind=value.owner.kind.value,
            owner_id=value.owner.id,
            game_id=value.game_id,
            kind=value.kind.value,
            test_mode=value.test_mode,
            prefix=value.prefix,
            scopes=list(value.scopes),
            name=value.name,
            created_at=value.created_at,
            last_used_at=value.last_used_at,
            revoked_at=value.revoked_at,
        )


class KeyCreated(Wire):
    id: str
    kind: str
    key: str
    prefix: str
    scopes: list[str]
    name: str | None
    test_mode: bool
    created_at: datetime

    @classmethod
    def of(cls, value: IssuedKey) -> KeyCreated:
        c = value.credential
        return cls(
            id=c.id,
            kind=c.kind.value,
            key=value.key,
            prefix=c.prefix,
            scopes=list(c.scopes),
            name=c.name,
            test_mode=c.test_mode,
            created_at=c.created_at,
        )


class KeyList(Wire):
    items: list[KeyOut]


class PlayerCreate(Wire):
    email: Email | None = None
    password: Annotated[str, msgspec.Meta(max_length=1024)] | None = None
    display_name: Name | None = None


class PlayerOut(Wire):
    id: str
    email: str | None
    display_name: str | None
    verified: bool
    has_password: bool
    created_at: datetime

    @classmethod
    def of(cls, value: Player) -> PlayerOut:
        return cls(
            id=value.id,
            email=value.email,
            display_name=value.display_name,
            verified=value.verified,
            has_password=value.has_password,
            created_at=value.created_at,
        )


class PlayerPage(Wire):
    items: list[PlayerOut]
    next_cursor: str | None


class AuditOut(Wire):
    id: int
    at: datetime
    action: str
    actor: str
    ip: str | None
    target_type: str | None
    target_id: str | None
    game_id: str | None
    details: dict[str, Any]

    @classmethod
    def of(cls, value: AuditEntry) -> AuditOut:
        return cls(
            id=value.id or 0,
            at=value.at,
            action=value.action,
            actor=value.actor,
            ip=value.ip,
            target_type=value.target_type,
            target_id=value.target_id,
            game_id=value.game_id,
            details=value.details,
        )


class AuditPage(Wire):
    items: list[AuditOut]
    next_before: int | None
