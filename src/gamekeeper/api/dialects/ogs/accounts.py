"""Signing players in and out: email and password, mailed codes, device ids."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.openapi import ResponseSpec
from litestar.params import JSONBody

from gamekeeper.api.deps import PlayerDep, ReadUow, WriteUow
from gamekeeper.api.dialects.ogs.context import AccountsDep, accounts_of
from gamekeeper.api.dialects.ogs.cookies import cleared_cookies, session_cookies
from gamekeeper.api.dialects.ogs.schemas import (
    CodeLoginIn,
    CodeRequestIn,
    DeviceIn,
    LoginIn,
    SessionOut,
    SignUpIn,
    SuccessOut,
    UserOut,
)
from gamekeeper.api.guards import client_ip, rate_limit_public, require_player, runtime_of
from gamekeeper.core import accounts
from gamekeeper.core.accounts.device import sign_in_with_device
from gamekeeper.core.accounts.types import AccountContext, AccountSession
from gamekeeper.core.identity.players import get_player

AnyRequest = Request[Any, Any, Any]


def signed_in(
    request: AnyRequest, session: AccountSession, ctx: AccountContext, status: int = 200
) -> Response[SessionOut]:
    """The session in the body and in the spec's cookies."""
    cookies = session_cookies(request, session.tokens, ctx.policy.session.refresh_ttl)
    return Response(SessionOut.of(session), status_code=status, cookies=cookies)


@post("/signup", guards=[rate_limit_public], status_code=201, summary="Sign up with email")
async def signup(
    request: AnyRequest, data: JSONBody[SignUpIn], write_uow: WriteUow, account_ctx: AccountsDep
) -> Response[SessionOut]:
    """Create a player with email and password; a verification code is mailed."""
    session = await accounts.sign_up(
        write_uow,
        email=data.email,
        password=data.password,
        display_name=data.display_name,
        ip=client_ip(request),
        ctx=account_ctx,
    )
    return signed_in(request, session, account_ctx, 201)


@post(
    "/login",
    status_code=200,
    summary="Sign in with email and password",
    opt={"errors": (401,)},  # wrong email or password
)
async def login(
    request: AnyRequest, data: JSONBody[LoginIn], write_uow: WriteUow, account_ctx: AccountsDep
) -> Response[SessionOut]:
    session = await accounts.sign_in(
        write_uow, email=data.email, password=data.password, ip=client_ip(request), ctx=account_ctx
    )
    return signed_in(request, session, account_ctx)


@post("/login/code", guards=[rate_limit_public], status_code=202, summary="Mail a sign-in code")
async def login_code(
    request: AnyRequest,
    data: JSONBody[CodeRequestIn],
    write_uow: WriteUow,
    account_ctx: AccountsDep,
) -> SuccessOut:
    """Mails a one-time code if a player has this email; the answer is the same either way."""
    await accounts.request_login_code(
        write_uow, email=data.email, ip=client_ip(request), ctx=account_ctx
    )
    return SuccessOut(
        success=True, message="If the address belongs to an account, a code is on its way"
    )


@post(
    "/login/code/verify",
    status_code=200,
    summary="Sign in with a mailed code",
    opt={"errors": (401,)},  # a wrong or spent code
)
async def login_code_verify(
    request: AnyRequest, data: JSONBody[CodeLoginIn], write_uow: WriteUow, account_ctx: AccountsDep
) -> Response[SessionOut]:
    session = await accounts.sign_in_with_code(
        write_uow, email=data.email, code=data.code, ip=client_ip(request), ctx=account_ctx
    )
    return signed_in(request, session, account_ctx)


@post(
    "/device",
    status_code=200,
    summary="Sign in with a device id (guest account)",
    responses={201: ResponseSpec(SessionOut, description="The first sign-in: a new player")},
)
async def device(request: AnyRequest, data: JSONBody[DeviceIn]) -> Response[SessionOut]:
    """The first sign-in with a device id creates the player (``created: true``)."""
    ctx = accounts_of(request)
    session = await sign_in_with_device(
        runtime_of(request).db,
        device_id=data.device_id,
        display_name=data.display_name,
        ip=client_ip(request),
        ctx=ctx,
    )
    return signed_in(request, session, ctx, 201 if session.created else 200)


@post("/logout", guards=[require_player], status_code=200, security=[{"playerSession": []}])
async def logout(
    request: AnyRequest, write_uow: WriteUow, principal: PlayerDep
) -> Response[SuccessOut]:
    """End this session: its session and refresh tokens stop working."""
    await accounts.sign_out(write_uow, principal=principal, ip=client_ip(request))
    return Response(SuccessOut(success=True), cookies=cleared_cookies(request))


@get("/me", guards=[require_player], security=[{"playerSession": []}])
async def me(read_uow: ReadUow, principal: PlayerDep) -> UserOut:
    """The signed-in player."""
    return UserOut.of(await get_player(read_uow, principal.player_id))


ROUTES = [signup, login, login_code, login_code_verify, device, logout, me]
