"""OGP error envelope: ``{"statusCode", "message", "error": <reason phrase>}``."""

from __future__ import annotations

from typing import Any

from gamekeeper.api.errors import Problem


def render(problem: Problem) -> dict[str, Any]:
    return {"statusCode": problem.status, "message": problem.message, "error": problem.reason}
