"""BattlePlace error envelope, shaped like its answers: ``{"status": <camelCase>, "error"}``.

A refused credential answers ``notAuthenticated`` as the v1a auth call does.
"""

from __future__ import annotations

from typing import Any

import msgspec

from gamekeeper.api.errors import Problem
from gamekeeper.api.notfound import PathEnvelope

_STATUS = {
    400: "invalidRequest",
    401: "notAuthenticated",
    403: "forbidden",
    404: "notFound",
    405: "invalidRequest",
    409: "conflict",
    413: "invalidRequest",
    415: "invalidRequest",
    429: "rateLimited",
    503: "unavailable",
}


class BattlePlaceError(msgspec.Struct):
    """A BattlePlace error, as the OpenAPI document shows it: the one shape ``render`` builds."""

    status: str  # invalidRequest, notAuthenticated, forbidden, notFound, conflict, rateLimited…
    error: str  # the message
    code: str  # Gamekeeper's stable code, e.g. invalid_body


def render(problem: Problem) -> dict[str, Any]:
    envelope = BattlePlaceError(
        status=_STATUS.get(problem.status, "error"), error=problem.message, code=problem.code
    )
    rendered: dict[str, Any] = msgspec.to_builtins(envelope)
    return rendered


ENVELOPE = PathEnvelope(("/v1a",), render)
