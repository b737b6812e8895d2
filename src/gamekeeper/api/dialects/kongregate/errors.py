"""Kongregate error envelope: ``{"success": false, "error": <status>, "error_description"}``."""

from __future__ import annotations

from typing import Any

from gamekeeper.api.errors import Problem


def render(problem: Problem) -> dict[str, Any]:
    return {"success": False, "error": problem.status, "error_description": problem.message}
