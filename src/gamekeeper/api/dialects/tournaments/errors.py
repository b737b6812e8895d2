"""Tournament-platform errors: ``{"success": false, "error": {"code", "message", "status"}}``.

The platform answers invalid data with 422, not 400.
"""

from __future__ import annotations

from typing import Any, Literal

import msgspec

from gamekeeper.api.errors import Problem
from gamekeeper.api.notfound import PathEnvelope

STATUS_OVERRIDES = {400: 422}


class TournamentsErrorDetail(msgspec.Struct):
    code: str
    message: str
    status: int


class TournamentsError(msgspec.Struct):
    """A tournament-platform error, as the OpenAPI document shows it: what ``render`` builds."""

    success: Literal[False]
    error: TournamentsErrorDetail


def render(problem: Problem) -> dict[str, Any]:
    detail = TournamentsErrorDetail(
        code=problem.code, message=problem.message, status=problem.status
    )
    rendered: dict[str, Any] = msgspec.to_builtins(TournamentsError(success=False, error=detail))
    return rendered


# Operator routes under /api; the platform's internal routes (/internal/tournaments/…,
# /internal/auth/validate-token) with and without /api.
ENVELOPE = PathEnvelope(
    ("/api/tournaments", "/api/players", "/api/internal", "/internal"),
    render,
    overrides=STATUS_OVERRIDES,
)
