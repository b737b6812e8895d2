"""What the link page needs around its handlers: CSRF tokens, cookies, headers, the way back.

CSRF: a signed double submit. The browser holds a random value in an HttpOnly cookie; every
form carries an HMAC of that value and the link token under a key derived from the
installation's secret. A page on another site can neither read the cookie nor compute the
HMAC, and a form copied from one link cannot be replayed against another link.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from functools import lru_cache
from typing import Any, Literal
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from litestar import Request
from litestar.datastructures import Cookie

from gamekeeper.api.dialects.ogs.cookies import secure_cookies
from gamekeeper.core.errors import Forbidden
from gamekeeper.core.secrets import constant_time_equal, derive_key
from gamekeeper.runtime import Runtime

PAGE_PATH = "/link-account"
STATIC_PATH = "/static/ogs"
CSRF_COOKIE = "gk_link_csrf"
SESSION_COOKIE = "gk_link_session"
CSRF_FIELD = "csrf_token"

Outcome = Literal["linked", "declined"]
AnyRequest = Request[Any, Any, Any]


class FormExpired(Forbidden):
    code = "csrf_failed"
    message = (
        "This form could not be verified: it was opened in another browser session or sent "
        "from another site."
    )


@lru_cache(maxsize=8)
def _csrf_key(signing_key: bytes) -> bytes:
    return derive_key(signing_key.hex(), "gamekeeper/link-page-csrf/v1")


def csrf_token(runtime: Runtime, *, cookie: str, link_token: str) -> str:
    """The form value that proves a POST came from a page this browser loaded."""
    key = _csrf_key(runtime.session_policy.signing_key)
    message = f"{cookie}\x00{link_token}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def check_csrf(request: AnyRequest, runtime: Runtime, *, link_token: str, presented: str) -> None:
    """FormExpired unless ``presented`` matches this browser's cookie and this link."""
    cookie = request.cookies.get(CSRF_COOKIE, "")
    expected = csrf_token(runtime, cookie=cookie, link_token=link_token) if cookie else ""
    if not cookie or not constant_time_equal(expected, presented):
        raise FormExpired()


def csrf_cookie_value(request: AnyRequest) -> tuple[str, bool]:
    """This browser's CSRF value, and whether it is new (and must be set)."""
    value = request.cookies.get(CSRF_COOKIE, "")
    if len(value) >= 32:
        return value, False
    return secrets.token_urlsafe(32), True


def page_cookie(request: AnyRequest, key: str, value: str, *, max_age: int | None) -> Cookie:
    """A cookie of the link page: HttpOnly, SameSite=Lax, scoped to the page's path."""
    return Cookie(
        key=key,
        value=value,
        path=PAGE_PATH,
        max_age=max_age,
        httponly=True,
        secure=secure_cookies(request),
        samesite="lax",
    )


def expired_cookie(request: AnyRequest, key: str) -> Cookie:
    return page_cookie(request, key, "", max_age=0)


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def return_url(redirect_url: str, *, token: str, status: Outcome) -> str:
    """The game's redirect URL with ``token`` and ``status`` merged into its query string."""
    parts = urlsplit(redirect_url)
    query = [
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if k not in {"token", "status"}
    ]
    query += [("token", token), ("status", status)]
    return urlunsplit(parts._replace(query=urlencode(query)))


def page_headers(*, form_origins: tuple[str, ...] = ()) -> dict[str, str]:
    """Headers for every page: no framing, no caching, no referrer, nothing but our own files.

    ``form_origins`` are where a form's redirect may lead (the game's return address).
    """
    form_action = " ".join(("'self'", *form_origins))
    policy = (
        "default-src 'none'; style-src 'self'; img-src 'self' data:; "
        f"form-action {form_action}; frame-ancestors 'none'; base-uri 'none'"
    )
    return {
        "Content-Security-Policy": policy,
        "X-Frame-Options": "DENY",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "Cache-Control": "no-store",
    }
