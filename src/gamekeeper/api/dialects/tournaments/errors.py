"""Tournament-platform errors: ``{"success": false, "error": {"code", "message", "status"}}``.

The platform answers invalid data with 422, not 400.
"""

from __future__ import annotations

from typing import Any

from gamekeeper.api.errors import Problem

STATUS_OVERRIDES = {400: 422}


def render(problem: Problem) -> dict[str, Any]:
    return {
        "success": False,
        "error": {"code": problem.code, "message": problem.message, "status": problem.status},
    }
