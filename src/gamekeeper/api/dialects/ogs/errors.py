"""OGS error envelope: ``{"error": {"code", "message", "status"}}`` (also used by the admin API)."""

from __future__ import annotations

from typing import Any

from gamekeeper.api.errors import Problem


def render(problem: Problem) -> dict[str, Any]:
    return {"error": {"code": problem.code, "message": problem.message, "status": problem.status}}
