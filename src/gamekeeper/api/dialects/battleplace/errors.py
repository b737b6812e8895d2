"""BattlePlace error envelope, shaped like its answers: ``{"status": <camelCase>, "error"}``.

A refused credential answers ``notAuthenticated`` as the v1a auth call does.
"""

from __future__ import annotations

from typing import Any

from gamekeeper.api.errors import Problem

_STATUS = {
    400: "invalidRequest",
    401: "notAuthenticated",
    403: "forbidden",
    404: "notFound",
    405: "invalidRequest",
    409: "conflict",
    413: "invalidRequest",
    429: "rateLimited",
    503: "unavailable",
}


def render(problem: Problem) -> dict[str, Any]:
    return {
        "status": _STATUS.get(problem.status, "error"),
        "error": problem.message,
        "code": problem.code,
    }
