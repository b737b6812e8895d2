"""The one mapping from errors to statuses; dialects only render the envelope.

``problem_from`` takes any ASGI connection (HTTP request or WebSocket), so the WebSocket
gateway maps core errors to its error frames with the same table. ``default_envelope`` is what
routes outside a dialect answer (admin API, media, the app's own 404s).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from http import HTTPStatus
from typing import Any

import structlog
from litestar import Request, Response
from litestar.connection import ASGIConnection
from litestar.exceptions import HTTPException, ValidationException
from litestar.types import ExceptionHandlersMap

from gamekeeper.core import errors

STATUS: dict[type[errors.GamekeeperError], int] = {
    errors.InvalidInput: 400,
    errors.Unauthorized: 401,
    errors.Forbidden: 403,
    errors.NotFound: 404,
    errors.Conflict: 409,
    errors.RateLimited: 429,
    errors.Unavailable: 503,
}

# Codes for errors raised by the framework before our code runs.
_FRAMEWORK_CODES = {
    400: "invalid_body",
    401: "missing_auth",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
}

log = structlog.get_logger("gamekeeper.api")


@dataclass(frozen=True, slots=True)
class Problem:
    """An error ready to render: status, stable code, message, extra headers."""

    status: int
    code: str
    message: str
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def reason(self) -> str:
        return HTTPStatus(self.status).phrase


Renderer = Callable[[Problem], Any]


def problem_from(exc: Exception, connection: ASGIConnection[Any, Any, Any, Any]) -> Problem:
    """Translate any exception into a Problem; unknown ones become a logged, generic 500."""
    if isinstance(exc, errors.GamekeeperError):
        status = next(s for cls, s in STATUS.items() if isinstance(exc, cls))
        headers = {}
        if isinstance(exc, errors.RateLimited):
            headers["Retry-After"] = str(exc.retry_after)
        return Problem(status, exc.code, exc.message, headers)
    if isinstance(exc, ValidationException):
        return Problem(400, "invalid_body", _validation_message(exc))
    if isinstance(exc, HTTPException) and exc.status_code < 500:
        code = _FRAMEWORK_CODES.get(exc.status_code, "invalid_request")
        return Problem(exc.status_code, code, str(exc.detail), dict(exc.headers or {}))
    log.error(
        "unhandled error",
        path=connection.scope.get("path_template", "unmatched"),
        request_id=connection.scope.get("state", {}).get("request_id"),
        exc_info=exc,
    )
    return Problem(500, "internal_error", "Internal server error")


def default_envelope(problem: Problem) -> dict[str, Any]:
    """``{"error": {"code", "message", "status"}}``: the admin API's envelope, and OGS's."""
    return {"error": {"code": problem.code, "message": problem.message, "status": problem.status}}


def _validation_message(exc: ValidationException) -> str:
    extra = exc.extra if isinstance(exc.extra, list) else []
    details = [
        f"{item.get('key')}: {item.get('message')}" if item.get("key") else str(item.get("message"))
        for item in extra
        if isinstance(item, dict)
    ]
    return "; ".join(details) if details else "The request body is not valid"


def handler_for(
    render: Renderer, overrides: dict[int, int] | None = None
) -> Callable[[Request[Any, Any, Any], Exception], Response[Any]]:
    """A Litestar exception handler that renders every error in one dialect's envelope.

    ``overrides`` lets a dialect answer a category with the status its clients expect.
    """
    overrides = overrides or {}

    def handle(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
        problem = problem_from(exc, request)
        if problem.status in overrides:
            problem = replace(problem, status=overrides[problem.status])
        return Response(render(problem), status_code=problem.status, headers=problem.headers)

    return handle


def exception_handlers(
    render: Renderer, overrides: dict[int, int] | None = None
) -> ExceptionHandlersMap:
    return {Exception: handler_for(render, overrides)}
