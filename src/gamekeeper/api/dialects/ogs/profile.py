"""A signed-in player's own account: email verification, password, adding email to a guest."""

from __future__ import annotations

from typing import Any

from litestar import Request, post
from litestar.openapi.spec import SecurityRequirement
from litestar.params import JSONBody

from gamekeeper.api.deps import PlayerDep, WriteUow
from gamekeeper.api.dialects.ogs.context import AccountsDep
from gamekeeper.api.dialects.ogs.schemas import (
    CodeIn,
    CredentialsIn,
    PasswordIn,
    SuccessOut,
    UserOut,
)
from gamekeeper.api.guards import Guard, client_ip, require_player
from gamekeeper.core import accounts

AnyRequest = Request[Any, Any, Any]
PLAYER: list[Guard] = [require_player]
PLAYER_AUTH: list[SecurityRequirement] = [{"playerSession": []}]


@post("/verify-email", status_code=200, guards=PLAYER, security=PLAYER_AUTH)
async def verify_email(
    request: AnyRequest,
    data: JSONBody[CodeIn],
    write_uow: WriteUow,
    principal: PlayerDep,
    account_ctx: AccountsDep,
) -> UserOut:
    """Confirm the player's email address with the mailed code."""
    player = await accounts.verify_email(
        write_uow,
        player_id=principal.player_id,
        code=data.code,
        ip=client_ip(request),
        ctx=account_ctx,
    )
    return UserOut.of(player)


@post(
    "/verify-email/send",
    status_code=202,
    guards=PLAYER,
    security=PLAYER_AUTH,
    opt={"errors": (400,)},  # the account has no email address
)
async def send_verification(
    write_uow: WriteUow, principal: PlayerDep, account_ctx: AccountsDep
) -> SuccessOut:
    """Mail a new verification code; earlier ones stop working."""
    await accounts.send_verification(write_uow, player_id=principal.player_id, ctx=account_ctx)
    return SuccessOut(success=True, message="A new code is on its way")


@post("/password", status_code=200, guards=PLAYER, security=PLAYER_AUTH)
async def change_password(
    request: AnyRequest,
    data: JSONBody[PasswordIn],
    write_uow: WriteUow,
    principal: PlayerDep,
    account_ctx: AccountsDep,
) -> SuccessOut:
    """Change (or, for a guest with an email but no password, set) the password.

    The player's other sessions end.
    """
    await accounts.change_password(
        write_uow,
        principal=principal,
        current_password=data.current_password,
        new_password=data.new_password,
        ip=client_ip(request),
        ctx=account_ctx,
    )
    return SuccessOut(success=True)


@post("/email", status_code=200, guards=PLAYER, security=PLAYER_AUTH)
async def add_email(
    request: AnyRequest,
    data: JSONBody[CredentialsIn],
    write_uow: WriteUow,
    principal: PlayerDep,
    account_ctx: AccountsDep,
) -> UserOut:
    """Give a guest (device) account an email and a password; a verification code is mailed."""
    player = await accounts.add_credentials(
        write_uow,
        principal=principal,
        email=data.email,
        password=data.password,
        ip=client_ip(request),
        ctx=account_ctx,
    )
    return UserOut.of(player)


ROUTES = [verify_email, send_verification, change_password, add_email]
