"""Kongregate error envelope: ``{"success": false, "error": <status>, "error_description"}``."""

from __future__ import annotations

from typing import Any, Literal

import msgspec

from gamekeeper.api.errors import Problem
from gamekeeper.api.notfound import PathEnvelope


class KongregateError(msgspec.Struct):
    """A Kongregate error, as the OpenAPI document shows it: the one shape ``render`` builds."""

    success: Literal[False]
    error: int  # the HTTP status
    error_description: str


def render(problem: Problem) -> dict[str, Any]:
    envelope = KongregateError(
        success=False, error=problem.status, error_description=problem.message
    )
    rendered: dict[str, Any] = msgspec.to_builtins(envelope)
    return rendered


ENVELOPE = PathEnvelope(("/api",), render, suffix=".json")
