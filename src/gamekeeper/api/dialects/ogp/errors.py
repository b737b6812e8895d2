"""OGP error envelope: ``{"statusCode", "message", "error": <reason phrase>}``."""

from __future__ import annotations

from typing import Any

import msgspec

from gamekeeper.api.errors import Problem
from gamekeeper.api.notfound import PathEnvelope


class OgpError(msgspec.Struct, rename="camel"):
    """An OGP error, as the OpenAPI document shows it: the one shape ``render`` builds."""

    status_code: int
    message: str
    error: str  # the status's reason phrase, "Bad Request"


def render(problem: Problem) -> dict[str, Any]:
    envelope = OgpError(status_code=problem.status, message=problem.message, error=problem.reason)
    rendered: dict[str, Any] = msgspec.to_builtins(envelope)
    return rendered


ENVELOPE = PathEnvelope(("/user", "/games", "/play"), render)
