"""The account-link page at ``linkUrl`` (``/link-account?token=…``), server-rendered, no script.

A game sends its player here with a link token. The page names the game, lets the player sign
in or sign up, then confirm or decline; the answer sends the browser back (303) to the game's
``redirectUrl`` with ``token`` and ``status=linked|declined`` in its query string. Each form
POSTs to a route of its own and comes back to the page (post, redirect, get).

- The player's session on this page is an HttpOnly, SameSite=Lax cookie scoped to the page's
  path, holding the session token of a regular Gamekeeper session.
- Every form carries a CSRF token bound to the browser and the link (``pages_support``).
- The redirect URL is checked against the game's allowed origins again before it is used.
- POSTs count against the ``public`` rate limit per client IP; sign-in failures also count
  per account and per IP in the account core, which locks a guesser out.
Errors render as pages: 400 malformed, 401 wrong password, 403 failed CSRF check, 404 unknown
link, 409 email taken or game account linked elsewhere, 410 expired or used link, 429.
"""

from __future__ import annotations

from dataclasses import dataclass

import msgspec
from litestar import Router, get, post
from litestar.params import FromQuery, URLEncodedBody
from litestar.response import Redirect, Template

from gamekeeper.api.deps import ReadUow, RuntimeDep, WriteUow
from gamekeeper.api.dialects.ogs import pages_support as support
from gamekeeper.api.dialects.ogs.context import DEPENDENCIES, AccountsDep
from gamekeeper.api.dialects.ogs.pages_view import (
    PageView,
    page_url,
    problem_page,
    remember,
    render_page,
)
from gamekeeper.api.guards import client_ip, rate_limit
from gamekeeper.core import accounts
from gamekeeper.core.accounts.returns import return_address
from gamekeeper.core.accounts.store import AccountsUow
from gamekeeper.core.accounts.types import AccountSession, LinkRequest
from gamekeeper.core.audit import Actor
from gamekeeper.core.errors import InvalidInput, Unauthorized
from gamekeeper.core.identity import sessions
from gamekeeper.core.identity.errors import InvalidSession
from gamekeeper.core.identity.players import get_player
from gamekeeper.core.identity.types import Player, PlayerPrincipal

AnyRequest = support.AnyRequest
POSTS = [rate_limit("public")]


class LinkForm(msgspec.Struct):
    token: str = ""
    csrf_token: str = ""


class CredentialsForm(LinkForm):
    email: str = ""
    password: str = ""


class MissingLinkToken(InvalidInput):
    code = "missing_token"
    message = "The address has no link token"


class SignInRequired(Unauthorized):
    code = "sign_in_required"
    message = "Your sign-in on this page has ended; sign in again to answer the request."


@dataclass(frozen=True, slots=True)
class SignedIn:
    principal: PlayerPrincipal
    player: Player


@get("/", name="link_account_page")
async def link_page(
    request: AnyRequest, read_uow: ReadUow, runtime: RuntimeDep, token: FromQuery[str] = ""
) -> Template:
    """The page: the game asking, then sign-in and sign-up forms or the confirm step."""
    if not token:
        raise MissingLinkToken()
    link = await accounts.describe_link(read_uow, token=token)
    signed_in = await _signed_in(request, read_uow, runtime)
    player = signed_in.player if signed_in else None
    return render_page(request, runtime, link, token=token, player=player)


@post("/sign-in", guards=POSTS)
async def sign_in(
    request: AnyRequest,
    data: URLEncodedBody[CredentialsForm],
    write_uow: WriteUow,
    runtime: RuntimeDep,
    account_ctx: AccountsDep,
) -> Redirect:
    """Sign in with email and password, then come back to the confirm step."""
    await _open_form(request, write_uow, runtime, data, values={"sign_in_email": data.email})
    account = await accounts.sign_in(
        write_uow, email=data.email, password=data.password, ip=client_ip(request), ctx=account_ctx
    )
    return _enter(request, data.token, account)


@post("/sign-up", guards=POSTS)
async def sign_up(
    request: AnyRequest,
    data: URLEncodedBody[CredentialsForm],
    write_uow: WriteUow,
    runtime: RuntimeDep,
    account_ctx: AccountsDep,
) -> Redirect:
    """Create an account (a verification code is mailed), then come back to the confirm step."""
    await _open_form(request, write_uow, runtime, data, values={"sign_up_email": data.email})
    account = await accounts.sign_up(
        write_uow, email=data.email, password=data.password, ip=client_ip(request), ctx=account_ctx
    )
    return _enter(request, data.token, account)


@post("/confirm", guards=POSTS)
async def confirm(
    request: AnyRequest, data: URLEncodedBody[LinkForm], write_uow: WriteUow, runtime: RuntimeDep
) -> Redirect:
    """Link the game account to the signed-in player and go back to the game."""
    return await _answer(request, data, write_uow, runtime, "linked")


@post("/decline", guards=POSTS)
async def decline(
    request: AnyRequest, data: URLEncodedBody[LinkForm], write_uow: WriteUow, runtime: RuntimeDep
) -> Redirect:
    """Refuse the link and go back to the game."""
    return await _answer(request, data, write_uow, runtime, "declined")


@post("/sign-out", guards=POSTS)
async def sign_out(
    request: AnyRequest, data: URLEncodedBody[LinkForm], write_uow: WriteUow, runtime: RuntimeDep
) -> Redirect:
    """End the page's session (another player wants to answer) and show the forms again."""
    _, signed_in = await _open_form(request, write_uow, runtime, data)
    if signed_in is not None:
        await accounts.sign_out(write_uow, principal=signed_in.principal, ip=client_ip(request))
    cookie = support.expired_cookie(request, support.SESSION_COOKIE)
    return Redirect(page_url(data.token), status_code=303, cookies=[cookie])


async def _open_form(
    request: AnyRequest,
    uow: AccountsUow,
    runtime: RuntimeDep,
    data: LinkForm,
    *,
    values: dict[str, str] | None = None,
) -> tuple[LinkRequest, SignedIn | None]:
    """Check a posted form: its link, then its CSRF token; the link and the page's player.

    The link is remembered on the request, so an error raised from here on shows the page
    again with the error above the forms (``pages_view.problem_page``).
    """
    link = await accounts.describe_link(uow, token=data.token)
    signed_in = await _signed_in(request, uow, runtime)
    player = signed_in.player if signed_in else None
    remember(request, PageView(link, data.token, player, values or {}))
    support.check_csrf(request, runtime, link_token=data.token, presented=data.csrf_token)
    return link, signed_in


async def _answer(
    request: AnyRequest,
    data: LinkForm,
    uow: AccountsUow,
    runtime: RuntimeDep,
    outcome: support.Outcome,
) -> Redirect:
    link, signed_in = await _open_form(request, uow, runtime, data)
    if signed_in is None:
        raise SignInRequired()
    target = await return_address(uow, link=link)
    await _decide(uow, data.token, signed_in.player, outcome, ip=client_ip(request))
    url = support.return_url(target, token=data.token, status=outcome)
    return Redirect(url, status_code=303, headers=support.page_headers())


async def _decide(
    uow: AccountsUow, token: str, player: Player, outcome: support.Outcome, *, ip: str
) -> LinkRequest:
    actor = Actor("player", player.id, ip)
    if outcome == "linked":
        return await accounts.confirm_link(uow, token=token, player_id=player.id, actor=actor)
    return await accounts.decline_link(uow, token=token, player_id=player.id, actor=actor)


def _enter(request: AnyRequest, token: str, account: AccountSession) -> Redirect:
    """Signed in or up: keep the session in the page's cookie and show the confirm step."""
    value = account.tokens.access_token
    cookie = support.page_cookie(
        request, support.SESSION_COOKIE, value, max_age=account.tokens.access_expires_in
    )
    return Redirect(page_url(token), status_code=303, cookies=[cookie])


async def _signed_in(request: AnyRequest, uow: AccountsUow, runtime: RuntimeDep) -> SignedIn | None:
    """The player of the page's session cookie, if it holds an open session."""
    token = request.cookies.get(support.SESSION_COOKIE)
    if not token:
        return None
    try:
        principal = sessions.read_access_token(
            token, policy=runtime.session_policy, now=runtime.clock()
        )
        await sessions.check_session(uow, principal)
    except (InvalidSession, Unauthorized):
        return None
    return SignedIn(principal, await get_player(uow, principal.player_id))


router = Router(
    support.PAGE_PATH,
    route_handlers=[link_page, sign_in, sign_up, confirm, decline, sign_out],
    dependencies=DEPENDENCIES,
    exception_handlers={Exception: problem_page},
    include_in_schema=False,
)
