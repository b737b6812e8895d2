"""Errors no route caught (unknown paths, wrong methods) in the envelope of the path's dialect.

An unmatched request never reaches a dialect's router, so the router's exception handlers do
not apply: the app-level handler picks the envelope from the path instead. Each dialect
declares the paths it speaks for as a ``PathEnvelope`` beside its renderer; the longest
matching prefix wins (OGS's ``/api/v1`` and the tournament platform's ``/api/tournaments``
beat Kongregate's ``/api/*.json``), and a path no dialect claims gets the default envelope.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from litestar import Request, Response
from litestar.exceptions import MethodNotAllowedException, NotFoundException
from litestar.types import ExceptionHandlersMap

from gamekeeper.api.errors import Problem, Renderer, problem_from


@dataclass(frozen=True, slots=True)
class PathEnvelope:
    """The paths one dialect speaks for, and how its errors look.

    A prefix matches whole segments (``/games`` matches ``/games/x``, not ``/gamesx``);
    ``suffix``, if set, must end the path too (Kongregate's ``/api/*.json``).
    """

    prefixes: tuple[str, ...]
    render: Renderer
    overrides: dict[int, int] | None = None
    suffix: str = ""

    def match(self, path: str) -> int:
        """The length of the longest prefix that matches ``path``, or -1."""
        if self.suffix and not path.endswith(self.suffix):
            return -1
        found = [p for p in self.prefixes if path == p or path.startswith(p.rstrip("/") + "/")]
        return max((len(p) for p in found), default=-1)


def envelope_for(path: str, table: Sequence[PathEnvelope], default: PathEnvelope) -> PathEnvelope:
    """The envelope of the dialect whose prefix matches ``path`` longest."""
    best, length = default, -1
    for entry in table:
        matched = entry.match(path)
        if matched > length:
            best, length = entry, matched
    return best


def unmatched_problem(exc: Exception, request: Request[Any, Any, Any]) -> Problem:
    """A routing error as a Problem whose message names the path and method."""
    problem = problem_from(exc, request)
    path = request.url.path
    if isinstance(exc, NotFoundException) and "path_template" not in request.scope:
        return replace(problem, message=f"Nothing is served at {path}")
    if isinstance(exc, MethodNotAllowedException):
        allowed = problem.headers.get("allow", problem.headers.get("Allow", ""))
        methods = ", ".join(m.strip() for m in allowed.split(",") if m.strip() != "OPTIONS")
        message = f"{request.method} is not allowed on {path}"
        return replace(problem, message=f"{message}; allowed: {methods}" if methods else message)
    return problem


def path_exception_handlers(
    table: Sequence[PathEnvelope], default: PathEnvelope
) -> ExceptionHandlersMap:
    """The app-level handler: every error no router caught, in its path's dialect envelope."""
    ordered = tuple(table)

    def handle(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
        entry = envelope_for(request.url.path, ordered, default)
        problem = unmatched_problem(exc, request)
        if entry.overrides and problem.status in entry.overrides:
            problem = replace(problem, status=entry.overrides[problem.status])
        return Response(entry.render(problem), status_code=problem.status, headers=problem.headers)

    return {Exception: handle}
