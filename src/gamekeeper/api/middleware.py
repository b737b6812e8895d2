"""Per-request context: a request id on every log line and response, rate-limit headers, metrics."""

from __future__ import annotations

import re
from time import perf_counter
from typing import TYPE_CHECKING, Any
from uuid import uuid4

from litestar.enums import ScopeType
from structlog.contextvars import bind_contextvars, reset_contextvars

if TYPE_CHECKING:
    from litestar.types import ASGIApp, Message, Receive, Scope, Send

    from gamekeeper.infra.metrics import Metrics
    from gamekeeper.infra.ratelimit import RateDecision

__all__ = ["REQUEST_ID_HEADER", "UNMATCHED", "RequestContextMiddleware"]

REQUEST_ID_HEADER = b"x-request-id"
_VALID_REQUEST_ID = re.compile(rb"[A-Za-z0-9._-]{1,64}").fullmatch
# Methods outside this set share one label, so made-up methods cannot add label values.
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED = "unmatched"


class RequestContextMiddleware:
    """Pure ASGI middleware; pass-through for websocket and lifespan scopes."""

    __slots__ = ("_counters", "_histograms", "_metrics", "app")

    def __init__(self, app: ASGIApp, *, metrics: Metrics) -> None:
        self.app = app
        self._metrics = metrics
        # Label children cached by label values: prometheus' labels() takes a lock every call.
        # Bounded: methods and statuses are few and routes are templates, never raw paths.
        self._counters: dict[tuple[str, str, int], Any] = {}
        self._histograms: dict[tuple[str, str], Any] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        started = perf_counter()
        request_id = _request_id(scope["headers"])
        state = scope.get("state")
        if state is None:
            state = scope["state"] = {}
        state["request_id"] = request_id
        id_header = (REQUEST_ID_HEADER, request_id.encode("ascii"))
        status = 500

        async def send_with_headers(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                # A new list and message: a response cache may hold (and replay) the original.
                headers = [*message.get("headers", ()), id_header]
                decision = state.get("rate_limit")
                if decision is not None:
                    _add_rate_limit_headers(headers, decision)
                message = {**message, "headers": headers}
            await send(message)

        tokens = bind_contextvars(request_id=request_id)
        try:
            await self.app(scope, receive, send_with_headers)
        finally:
            reset_contextvars(**tokens)
            self._record(scope, status, perf_counter() - started)

    def _record(self, scope: Scope, status: int, elapsed: float) -> None:
        method = scope["method"]  # type: ignore[typeddict-item]
        if method not in _METHODS:
            method = "OTHER"
        route = scope.get("path_template") or UNMATCHED
        counter = self._counters.get((method, route, status))
        if counter is None:
            counter = self._metrics.http_requests.labels(method, route, str(status))
            self._counters[(method, route, status)] = counter
        counter.inc()
        histogram = self._histograms.get((method, route))
        if histogram is None:
            histogram = self._metrics.http_latency.labels(method, route)
            self._histograms[(method, route)] = histogram
        histogram.observe(elapsed)


def _add_rate_limit_headers(headers: list[tuple[bytes, bytes]], decision: RateDecision) -> None:
    # An error renderer may already have set Retry-After; a second copy would read "42, 42".
    present = {name for name, _ in headers}
    for name, value in decision.headers().items():
        raw_name = name.lower().encode("latin-1")
        if raw_name not in present:
            headers.append((raw_name, value.encode("latin-1")))


def _request_id(headers: Any) -> str:
    for name, value in headers:
        if name == REQUEST_ID_HEADER:
            if _VALID_REQUEST_ID(value):
                return value.decode("ascii")  # type: ignore[no-any-return]
            break
    return uuid4().hex
