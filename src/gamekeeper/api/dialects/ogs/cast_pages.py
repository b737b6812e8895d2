"""The cast pages: the receiver (the TV, at ``receiverUrl``) and a minimal phone controller.

- ``GET /cast?session=<id>&key=<receiver key>``: checks the key, shows the join code and a QR
  code of the controller page's address (SVG, made here with ``segno``), and runs
  ``static/cast/receiver.js``, which attaches over ``/api/v1/cast/ws`` and, once a player has
  joined, plays ``gameUrl`` in a sandboxed iframe and relays inputs to it with ``postMessage``
  aimed at the game's origin alone.
- ``GET /cast/controller?session=<id>&code=<code>``: a d-pad and two buttons for a phone's
  browser (``static/cast/controller.js``): a guest sign-in with a device id, the join, then
  inputs as WebSocket frames.

The receiver key stays in the address the game gave the TV: the page sends no referrer, so the
game inside the iframe never sees it. The Content-Security-Policy lets the pages load scripts
and styles from here only, connect to here only, and the receiver frame the game's origin only.
Errors are plain pages (4xx), never JSON or a trace.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

import segno
from litestar import Request, Router, get
from litestar.params import FromQuery
from litestar.response import Template

from gamekeeper.api.deps import ReadUow, RuntimeDep
from gamekeeper.api.dialects.ogs.cast import CAST_PAGE
from gamekeeper.api.dialects.ogs.pages_support import STATIC_PATH
from gamekeeper.api.errors import problem_from
from gamekeeper.core import validate
from gamekeeper.core.cast import sessions
from gamekeeper.core.cast.errors import CastSessionNotFound
from gamekeeper.core.cast.types import CastSession
from gamekeeper.core.errors import InvalidInput

AnyRequest = Request[Any, Any, Any]
CONTROLLER_PAGE = f"{CAST_PAGE}/controller"
WS_PATH = "/api/v1/cast/ws"
# An origin as it may appear in a policy: scheme, host, optional port, nothing else.
_ORIGIN = re.compile(r"https?://[A-Za-z0-9.\-\[\]:]+")
# Headline and advice by error code; the message comes from the error itself.
_TITLES = {
    "invalid_receiver_key": (
        "This TV link is not valid",
        "Open the address the game gave this screen, or start casting again from the game.",
    ),
    "cast_session_terminated": (
        "This cast session has ended",
        "Start casting again from the game to get a new session.",
    ),
    "cast_session_not_found": (
        "We could not find this cast session",
        "Check that the whole address was opened, or start casting again from the game.",
    ),
    "missing_parameters": (
        "This page needs a cast session",
        "Open the address the game gave you; it names the session.",
    ),
}
_DEFAULT_TITLE = ("Something went wrong", "Start casting again from the game.")


class MissingCastParameters(InvalidInput):
    code = "missing_parameters"
    message = "The address lacks the cast session or its key"


@dataclass(frozen=True, slots=True)
class Shown:
    title: str
    message: str
    advice: str
    status: int
    code: str


def controller_url(base_url: str, *, session_id: str, code: str) -> str:
    """The controller page's address for a phone: what the QR code encodes."""
    return f"{base_url}{CONTROLLER_PAGE}?{urlencode({'session': session_id, 'code': code})}"


def qr_data_uri(url: str) -> str:
    """A QR code of ``url`` as an SVG data URI (one module per unit; CSS sizes it)."""
    qr = segno.make(url, error="m", micro=False)
    return str(qr.svg_data_uri(scale=1, border=4, dark="#000", light="#fff"))


@get("/", name="cast_receiver_page")
async def receiver_page(
    read_uow: ReadUow, runtime: RuntimeDep, session: FromQuery[str] = "", key: FromQuery[str] = ""
) -> Template:
    """The TV page: the join code and its QR code, then the game in a sandboxed iframe."""
    if not session or not key:
        raise MissingCastParameters()
    code = await sessions.join_code(read_uow, session_id=session, key=key, box=runtime.box)
    # The key is checked: read the game's address and data to hand the page.
    found = await read_uow.cast.get_session(session)
    if found is None:
        raise CastSessionNotFound()
    base = runtime.settings.base_url
    game_origin = _origin(found.game_url)
    context = {
        "code": code,
        "qr": qr_data_uri(controller_url(base, session_id=found.id, code=code)),
        "config": _receiver_config(found, game_origin),
        **_paths(),
    }
    headers = page_headers(base, frame_origin=game_origin)
    return Template("cast_receiver.html", context=context, headers=headers)


@get("/controller", name="cast_controller_page")
async def controller_page(
    runtime: RuntimeDep, session: FromQuery[str] = "", code: FromQuery[str] = ""
) -> Template:
    """The phone's controller: a guest sign-in, the join with ``code``, a d-pad and buttons."""
    if not validate.is_uuid(session):
        raise MissingCastParameters("The address does not name a cast session")
    config = {"sessionId": session, "code": code[:32], "wsPath": WS_PATH}
    headers = page_headers(runtime.settings.base_url)
    return Template("cast_controller.html", context={"config": config, **_paths()}, headers=headers)


def page_headers(base_url: str, *, frame_origin: str | None = None) -> dict[str, str]:
    """Our scripts and styles only, connections to us only, frames of the game only."""
    connect = ["'self'"]
    parts = urlsplit(base_url)
    if parts.netloc:  # 'self' covers ws: in current browsers; older ones need it spelt out
        connect.append(f"{'wss' if parts.scheme == 'https' else 'ws'}://{parts.netloc}")
    frames = f"frame-src {frame_origin}; " if frame_origin else "frame-src 'none'; "
    policy = (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        f"connect-src {' '.join(connect)}; {frames}object-src 'none'; "
        "frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
    )
    return {
        "Content-Security-Policy": policy,
        "X-Frame-Options": "DENY",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "Cache-Control": "no-store",
    }


def cast_problem(request: AnyRequest, exc: Exception) -> Template:
    """Exception handler of the cast pages: every error as a plain page."""
    problem = problem_from(exc, request)  # logs unexpected errors with the request id
    title, advice = _TITLES.get(problem.code, _DEFAULT_TITLE)
    status = 410 if problem.code == "cast_session_terminated" else problem.status
    shown = Shown(title, problem.message, advice, status, problem.code)
    headers = {**page_headers(""), **problem.headers}
    return Template(
        "cast_receiver.html",
        context={"problem": shown, **_paths()},
        status_code=status,
        headers=headers,
    )


def _receiver_config(session: CastSession, game_origin: str) -> dict[str, Any]:
    """What the receiver's script reads (the key it takes from the page's own address)."""
    return {
        "sessionId": session.id,
        "gameUrl": session.game_url,
        "gameOrigin": game_origin,
        "sessionData": session.session_data,
        "wsPath": WS_PATH,
    }


def _origin(url: str) -> str:
    parts = urlsplit(url)
    origin = f"{parts.scheme}://{parts.netloc}".lower()
    if not _ORIGIN.fullmatch(origin):  # gameUrl was checked on creation; never trust it blindly
        raise InvalidInput("The game's address cannot be framed", code="invalid_url")
    return origin


def _paths() -> dict[str, str]:
    return {"static_url": STATIC_PATH}


router = Router(
    CAST_PAGE,
    route_handlers=[receiver_page, controller_page],
    exception_handlers={Exception: cast_problem},
    include_in_schema=False,
)
