"""The ``refresh`` cookie of the spec: ``HttpOnly; Secure; SameSite=Strict; Path=/``.

Only the refresh token is set as a cookie, and only ``/auth/refresh`` reads it (from a JSON
request). No route reads a session token from a cookie: player routes take it as a bearer
header, so a cookie holding it would only be a credential the browser sends unasked. Logging
out still clears a ``session`` cookie an older version set.

``Secure`` is left out only for plain HTTP on the local machine, where a browser would not
send a secure cookie back and there is no network to protect.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from litestar import Request
from litestar.datastructures import Cookie

from gamekeeper.core.identity.types import SessionTokens

SESSION, REFRESH = "session", "refresh"


class _TokenCookie(Cookie):
    """A cookie holding a token (URL-safe characters: nothing to quote), its header written
    directly: the same bytes as ``http.cookies`` gives, at a tenth of its cost per sign-in."""

    def to_encoded_header(self) -> tuple[bytes, bytes]:
        secure = "; Secure" if self.secure else ""
        header = (
            f"{self.key}={self.value}; HttpOnly; Max-Age={self.max_age}; Path={self.path}; "
            f"SameSite={self.samesite}{secure}"
        )
        return b"set-cookie", header.encode("latin-1")


def secure_cookies(request: Request[Any, Any, Any]) -> bool:
    """Secure unless served over plain HTTP on the local machine (a loopback name or address)."""
    if request.url.scheme == "https":
        return True
    host = (request.url.hostname or "").lower().strip("[]")
    if host == "localhost" or host.endswith(".localhost"):
        return False
    try:
        return not ipaddress.ip_address(host).is_loopback
    except ValueError:
        return True


def _cookie(request: Request[Any, Any, Any], key: str, value: str, max_age: int) -> Cookie:
    return Cookie(
        key=key,
        value=value,
        max_age=max_age,
        path="/",
        httponly=True,
        secure=secure_cookies(request),
        samesite="strict",
    )


def session_cookies(
    request: Request[Any, Any, Any], tokens: SessionTokens, refresh_ttl: int
) -> list[Cookie]:
    """The cookies a sign-in or a refresh sets: the refresh token's alone."""
    return [
        _TokenCookie(
            key=REFRESH,
            value=tokens.refresh_token,
            max_age=refresh_ttl,
            path="/",
            httponly=True,
            secure=secure_cookies(request),
            samesite="strict",
        )
    ]


def cleared_cookies(request: Request[Any, Any, Any]) -> list[Cookie]:
    return [_cookie(request, SESSION, "", 0), _cookie(request, REFRESH, "", 0)]
