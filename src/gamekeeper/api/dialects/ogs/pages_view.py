"""Rendering of the link page: templates, static files, and how errors read to a player."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from jinja2 import Environment, FileSystemLoader
from litestar import Router
from litestar.datastructures import CacheControlHeader
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.response import Template
from litestar.static_files import create_static_files_router
from litestar.template import TemplateConfig

from gamekeeper.api.dialects.ogs import pages_support as support
from gamekeeper.api.errors import STATUS, problem_from
from gamekeeper.api.guards import runtime_of
from gamekeeper.core.accounts.errors import (
    LinkTokenExpired,
    LinkTokenNotFound,
    LinkTokenUsed,
    RedirectNotAllowed,
)
from gamekeeper.core.accounts.types import LinkRequest
from gamekeeper.core.errors import GamekeeperError, RateLimited
from gamekeeper.core.identity.types import Player
from gamekeeper.runtime import Runtime

HERE = Path(__file__).resolve().parent
TEMPLATE_DIR = HERE / "templates"
STATIC_DIR = HERE / "static"

_VIEW = "link_page_view"
# Errors that end the visit: they get a page of their own, not the forms with a message.
_FINAL = (LinkTokenNotFound, LinkTokenExpired, LinkTokenUsed, RedirectNotAllowed)
# A link that is over (expired, answered) is gone for good: 410 tells crawlers and people so.
_GONE = (LinkTokenExpired, LinkTokenUsed)

# Headline and advice for the errors a player can meet, by error code.
_TITLES = {
    "link_token_not_found": (
        "We could not find this link",
        "Check that you opened the whole link, or go back to the game and start linking again.",
    ),
    "link_token_expired": (
        "This link has expired",
        "Links work for a limited time. Go back to the game and start linking again.",
    ),
    "link_token_used": (
        "This link was already used",
        "It was already accepted or declined. To change your mind, start again from the game.",
    ),
    "missing_token": (
        "This page needs a link",
        "Open the link the game gave you; it ends with ?token=…",
    ),
    "invalid_redirect_url": (
        "The game's return address is not allowed",
        "Nothing was linked. Tell the game's developers that their return address is refused.",
    ),
    "invalid_credentials": ("Sign-in failed", ""),
    "csrf_failed": ("Please try again", ""),
    "rate_limited": ("Too many attempts", "Wait a minute, then try again."),
}
_DEFAULT_TITLE = ("Something went wrong", "Go back to the game and try again.")


@dataclass(frozen=True, slots=True)
class PageView:
    """What a form's page showed, kept on the request to show it again with an error."""

    link: LinkRequest
    token: str
    player: Player | None
    values: dict[str, str]


def remember(request: support.AnyRequest, view: PageView) -> None:
    request.scope.setdefault("state", {})[_VIEW] = view


@dataclass(frozen=True, slots=True)
class Shown:
    """An error as the page shows it."""

    title: str
    message: str
    advice: str
    status: int
    code: str


def template_config() -> TemplateConfig[JinjaTemplateEngine]:
    """Jinja over the package's templates, HTML-escaping every value."""
    environment = Environment(loader=FileSystemLoader(TEMPLATE_DIR), autoescape=True)
    return TemplateConfig(instance=JinjaTemplateEngine.from_environment(environment))


def static_files() -> Router:
    """The page's stylesheet, served from the package (no third-party hosts)."""
    return create_static_files_router(
        path=support.STATIC_PATH,
        directories=[STATIC_DIR],
        name="ogs_static",
        cache_control=CacheControlHeader(max_age=3600, public=True),
        include_in_schema=False,
    )


def status_of(exc: GamekeeperError) -> int:
    if isinstance(exc, _GONE):
        return 410
    return next(status for cls, status in STATUS.items() if isinstance(exc, cls))


def shown(exc: GamekeeperError) -> Shown:
    title, advice = _TITLES.get(exc.code, _DEFAULT_TITLE)
    return Shown(title, exc.message, advice, status_of(exc), exc.code)


def page_url(token: str) -> str:
    return f"{support.PAGE_PATH}?token={quote(token, safe='')}"


def render_page(
    request: support.AnyRequest,
    runtime: Runtime,
    link: LinkRequest,
    *,
    token: str,
    player: Player | None,
    error: GamekeeperError | None = None,
    values: dict[str, str] | None = None,
) -> Template:
    """The link page: the sign-in and sign-up forms, or the confirm step once signed in."""
    cookie, new = support.csrf_cookie_value(request)
    problem = shown(error) if error else None
    context = {
        "link": link,
        "token": token,
        "csrf_token": support.csrf_token(runtime, cookie=cookie, link_token=token),
        "player": player,
        "error": problem,
        "values": {"sign_in_email": "", "sign_up_email": "", **(values or {})},
        "return_host": urlsplit(link.redirect_url).netloc,
        **_paths(),
    }
    origins = (support.origin_of(link.redirect_url),) if player else ()
    headers = support.page_headers(form_origins=origins)
    if isinstance(error, RateLimited):
        headers["Retry-After"] = str(error.retry_after)
    cookies = [support.page_cookie(request, support.CSRF_COOKIE, cookie, max_age=None)]
    return Template(
        "link/page.html",
        context=context,
        status_code=problem.status if problem else 200,
        headers=headers,
        cookies=cookies if new else None,
    )


def problem_page(request: support.AnyRequest, exc: Exception) -> Template:
    """Exception handler of the page routes: every error as a page, never as JSON.

    An error of a posted form the player can fix (a wrong password, a failed CSRF check, a
    game account linked elsewhere) shows the form's page again, with the error above it.
    """
    view: PageView | None = request.scope.get("state", {}).get(_VIEW)
    if view is not None and isinstance(exc, GamekeeperError) and not isinstance(exc, _FINAL):
        runtime = runtime_of(request)
        return render_page(
            request, runtime, view.link, token=view.token, player=view.player, error=exc,
            values=view.values,
        )  # fmt: skip
    if isinstance(exc, GamekeeperError):
        problem = shown(exc)
    else:
        generic = problem_from(exc, request)  # logs unexpected errors with the request id
        title, advice = _DEFAULT_TITLE
        problem = Shown(title, generic.message, advice, generic.status, generic.code)
    headers = support.page_headers()
    if isinstance(exc, RateLimited):
        headers["Retry-After"] = str(exc.retry_after)
    return Template(
        "link/problem.html",
        context={"problem": problem, **_paths()},
        status_code=problem.status,
        headers=headers,
    )


def _paths() -> dict[str, Any]:
    return {"page_url": support.PAGE_PATH, "static_url": support.STATIC_PATH}
