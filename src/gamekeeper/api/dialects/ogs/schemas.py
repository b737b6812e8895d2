"""OGS wire structs for accounts: the spec's camelCase JSON, shapes checked at the edge."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec

from gamekeeper.core.accounts.device import MAX_DEVICE_ID, MIN_DEVICE_ID
from gamekeeper.core.accounts.types import AccountLink, AccountSession, LinkCheck, WebCodeCheck
from gamekeeper.core.identity.types import Player, SessionTokens

Email = Annotated[str, msgspec.Meta(min_length=1, max_length=320)]
Password = Annotated[str, msgspec.Meta(min_length=1, max_length=1024)]
Code = Annotated[str, msgspec.Meta(min_length=1, max_length=32)]
Token = Annotated[str, msgspec.Meta(min_length=1, max_length=512)]
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=120)]


class In(msgspec.Struct, rename="camel", forbid_unknown_fields=False, kw_only=True):
    """Base of request bodies."""


class Out(msgspec.Struct, rename="camel", kw_only=True):
    """Base of responses."""


class SparseOut(msgspec.Struct, rename="camel", omit_defaults=True, kw_only=True):
    """Base of responses whose absent values are left out."""


class SignUpIn(In):
    email: Email
    password: Password
    display_name: Name | None = None


class LoginIn(In):
    email: Email
    password: Password


class CodeRequestIn(In):
    email: Email


class CodeLoginIn(In):
    email: Email
    code: Code


class DeviceIn(In):
    # The core's limits, so that the OpenAPI document says what is enforced.
    device_id: Annotated[str, msgspec.Meta(min_length=MIN_DEVICE_ID, max_length=MAX_DEVICE_ID)]
    display_name: Name | None = None


class CodeIn(In):
    code: Code


class PasswordIn(In):
    new_password: Password
    current_password: Password | None = None


class CredentialsIn(In):
    email: Email
    password: Password


class RefreshIn(In):
    refresh_token: Token | None = None


class LinkTokenIn(In):
    game_user_id: Annotated[str, msgspec.Meta(min_length=1, max_length=255)]
    redirect_url: Annotated[str, msgspec.Meta(min_length=1, max_length=2048)]


class TokenIn(In):
    token: Token


class UserOut(Out):
    id: str
    email: str | None = None
    is_verified: bool = False
    display_name: str | None = None
    has_password: bool = False

    @classmethod
    def of(cls, player: Player) -> UserOut:
        return cls(
            id=player.id,
            email=player.email,
            is_verified=player.verified,
            display_name=player.display_name,
            has_password=player.has_password,
        )


class SessionOut(Out):
    session_token: str
    refresh_token: str
    expires_in: int
    refresh_expires_at: datetime
    user: UserOut
    created: bool = False
    success: bool = True

    @classmethod
    def of(cls, session: AccountSession) -> SessionOut:
        return cls(
            session_token=session.tokens.access_token,
            refresh_token=session.tokens.refresh_token,
            expires_in=session.tokens.access_expires_in,
            refresh_expires_at=session.tokens.refresh_expires_at,
            user=UserOut.of(session.player),
            created=session.created,
        )


class RefreshOut(Out):
    session_token: str
    expires_in: int
    refresh_token: str
    refresh_expires_at: datetime
    success: bool = True

    @classmethod
    def of(cls, tokens: SessionTokens) -> RefreshOut:
        return cls(
            session_token=tokens.access_token,
            expires_in=tokens.access_expires_in,
            refresh_token=tokens.refresh_token,
            refresh_expires_at=tokens.refresh_expires_at,
        )


class SuccessOut(Out):
    success: bool = True
    message: str | None = None


class LinkTokenOut(Out):
    link_token: str
    expires_at: datetime
    link_url: str


class LinkCheckOut(SparseOut):
    valid: bool
    user_id: str | None = None
    email: str | None = None
    status: str | None = None
    linked_at: datetime | None = None

    @classmethod
    def of(cls, check: LinkCheck) -> LinkCheckOut:
        return cls(
            valid=check.valid,
            user_id=check.player_id,
            email=check.email,
            status=check.status,
            linked_at=check.linked_at,
        )


class WebCodeOut(Out):
    code: str
    expires_in: int


class VerifyTokenOut(SparseOut):
    valid: bool
    ogs_user_id: str | None = None
    email: str | None = None
    is_verified: bool | None = None

    @classmethod
    def of(cls, check: WebCodeCheck) -> VerifyTokenOut:
        if not check.valid:
            return cls(valid=False)
        return cls(
            valid=True, ogs_user_id=check.player_id, email=check.email, is_verified=check.verified
        )


class LinkOut(Out):
    id: str
    game_id: str
    game_name: str
    game_user_id: str
    linked_at: datetime

    @classmethod
    def of(cls, link: AccountLink) -> LinkOut:
        return cls(
            id=link.id,
            game_id=link.game_id,
            game_name=link.game_name,
            game_user_id=link.game_user_id,
            linked_at=link.linked_at,
        )


class LinksOut(Out):
    links: list[LinkOut]
