"""RequestContextMiddleware through a small Litestar app, and on raw ASGI scopes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import structlog
from litestar import Litestar, Request, get
from litestar.connection import ASGIConnection
from litestar.exceptions import TooManyRequestsException
from litestar.handlers import BaseRouteHandler
from litestar.middleware import DefineMiddleware
from litestar.params import FromPath
from litestar.testing import TestClient

from gamekeeper.api.middleware import RequestContextMiddleware
from gamekeeper.infra.metrics import Metrics
from gamekeeper.infra.ratelimit import RateDecision

ALLOWED = RateDecision(allowed=True, limit=60, remaining=59, reset_after=60)
REFUSED = RateDecision(allowed=False, limit=60, remaining=0, reset_after=42)


def allow_guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    connection.scope["state"]["rate_limit"] = ALLOWED


def refuse_guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    connection.scope["state"]["rate_limit"] = REFUSED
    # Error renderers may set Retry-After themselves; the client must still see one value.
    raise TooManyRequestsException(headers={"Retry-After": "42"})


@get("/games/{game_id:int}")
async def show_game(game_id: FromPath[int], request: Request[Any, Any, Any]) -> dict[str, Any]:
    return {
        "id": game_id,
        "request_id": request.state.request_id,
        "logged_with": structlog.contextvars.get_contextvars().get("request_id"),
    }


@get("/limited", guards=[allow_guard])
async def limited() -> str:
    return "ok"


@get("/refused", guards=[refuse_guard])
async def refused() -> str:
    return "never"


@get("/boom")
async def boom() -> None:
    raise RuntimeError("handler bug")


HANDLERS = [show_game, limited, refused, boom]


@pytest.fixture
def metrics() -> Metrics:
    return Metrics()


@pytest.fixture
def client(metrics: Metrics) -> Iterator[TestClient[Litestar]]:
    """The app-factory usage: route middleware."""
    app = Litestar(
        route_handlers=HANDLERS,
        middleware=[DefineMiddleware(RequestContextMiddleware, metrics=metrics)],
        debug=False,
    )
    with TestClient(app=app) as test_client:
        yield test_client


@pytest.fixture
def wrapped_client(metrics: Metrics) -> Iterator[TestClient[Litestar]]:
    """Wrapping the app's whole handler, so requests that match no route are seen too."""
    app = Litestar(route_handlers=HANDLERS, debug=False)
    app.asgi_handler = RequestContextMiddleware(app.asgi_handler, metrics=metrics)
    with TestClient(app=app) as test_client:
        yield test_client


def requests_total(metrics: Metrics, route: str, status: str, method: str = "GET") -> float:
    labels = {"method": method, "route": route, "status": status}
    return metrics.registry.get_sample_value("gamekeeper_http_requests_total", labels) or 0.0


def test_a_valid_request_id_is_echoed_and_bound_for_logs(client: TestClient[Litestar]) -> None:
    response = client.get("/games/7", headers={"X-Request-ID": "edge-proxy.42_A"})

    assert response.status_code == 200
    assert response.headers["x-request-id"] == "edge-proxy.42_A"
    assert response.json() == {
        "id": 7,
        "request_id": "edge-proxy.42_A",
        "logged_with": "edge-proxy.42_A",
    }


@pytest.mark.parametrize(
    "bad", [None, b"", b"has space", b"semi;colon", b"x" * 65, "ünïcode".encode()]
)
def test_a_bad_or_missing_request_id_is_replaced(
    client: TestClient[Litestar], bad: bytes | None
) -> None:
    headers = {} if bad is None else {"X-Request-ID": bad}
    response = client.get("/games/7", headers=headers)

    generated = response.headers["x-request-id"]
    assert generated.encode() != bad
    assert len(generated) == 32
    assert int(generated, 16) >= 0
    assert response.json()["request_id"] == generated


def test_each_request_gets_its_own_id(client: TestClient[Litestar]) -> None:
    ids = {client.get("/games/1").headers["x-request-id"] for _ in range(3)}

    assert len(ids) == 3


def test_metrics_use_the_route_template_and_status(
    client: TestClient[Litestar], metrics: Metrics
) -> None:
    client.get("/games/1")
    client.get("/games/2")

    assert requests_total(metrics, "/games/{game_id}", "200") == 2
    body = metrics.render()[0].decode()
    assert "/games/1" not in body
    latency = metrics.registry.get_sample_value(
        "gamekeeper_http_request_duration_seconds_count",
        {"method": "GET", "route": "/games/{game_id}"},
    )
    assert latency == 2


def test_rate_limit_headers_appear_when_a_guard_decided(client: TestClient[Litestar]) -> None:
    response = client.get("/limited")

    assert response.headers["ratelimit-limit"] == "60"
    assert response.headers["ratelimit-remaining"] == "59"
    assert response.headers["ratelimit-reset"] == "60"
    assert "retry-after" not in response.headers
    assert "ratelimit-limit" not in client.get("/games/1").headers


def test_a_refused_request_says_when_to_retry(
    client: TestClient[Litestar], metrics: Metrics
) -> None:
    response = client.get("/refused")

    assert response.status_code == 429
    assert response.headers.get_list("retry-after") == ["42"]
    assert response.headers["ratelimit-remaining"] == "0"
    assert requests_total(metrics, "/refused", "429") == 1


def test_a_handler_that_raises_is_counted_as_500(
    client: TestClient[Litestar], metrics: Metrics
) -> None:
    response = client.get("/boom")

    assert response.status_code == 500
    assert "x-request-id" in response.headers
    assert requests_total(metrics, "/boom", "500") == 1


def test_wrapping_the_app_counts_unmatched_paths_under_one_label(
    wrapped_client: TestClient[Litestar], metrics: Metrics
) -> None:
    for path in ("/wp-admin", "/.env", "/games/not-a-number"):
        response = wrapped_client.get(path)
        assert response.status_code == 404
        assert response.headers["x-request-id"]
    wrapped_client.get("/games/5")
    wrapped_client.delete("/games/5")

    assert requests_total(metrics, "unmatched", "404") == 3
    assert requests_total(metrics, "unmatched", "405", method="DELETE") == 1
    assert requests_total(metrics, "/games/{game_id}", "200") == 1
    assert "wp-admin" not in metrics.render()[0].decode()


def test_made_up_methods_share_one_label(
    wrapped_client: TestClient[Litestar], metrics: Metrics
) -> None:
    wrapped_client.request("BREW", "/games/1")
    wrapped_client.request("PROPFIND", "/games/1")

    body = metrics.render()[0].decode()
    assert 'method="OTHER"' in body
    assert "BREW" not in body


# Raw ASGI: behaviour that a Litestar app never exposes.


async def _noop_receive() -> dict[str, Any]:
    return {"type": "http.disconnect"}


@pytest.mark.anyio
async def test_an_app_that_raises_before_responding_is_counted_500_and_reraised(
    metrics: Metrics,
) -> None:
    async def broken(scope: Any, receive: Any, send: Any) -> None:
        raise RuntimeError("no response")

    async def send(message: Any) -> None:
        raise AssertionError("nothing should be sent")

    middleware = RequestContextMiddleware(broken, metrics=metrics)
    scope = {"type": "http", "method": "GET", "path": "/x", "headers": []}

    with pytest.raises(RuntimeError, match="no response"):
        await middleware(scope, _noop_receive, send)  # type: ignore[arg-type]

    assert requests_total(metrics, "unmatched", "500") == 1
    assert len(scope["state"]["request_id"]) == 32  # type: ignore[index]
    assert "request_id" not in structlog.contextvars.get_contextvars()


@pytest.mark.anyio
@pytest.mark.parametrize("scope_type", ["websocket", "lifespan"])
async def test_other_scopes_pass_through_untouched(metrics: Metrics, scope_type: str) -> None:
    seen: list[Any] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        seen.extend([scope, send])

    async def send(message: Any) -> None:
        pass

    scope = {"type": scope_type, "headers": []}
    await RequestContextMiddleware(app, metrics=metrics)(scope, _noop_receive, send)  # type: ignore[arg-type]

    assert seen == [{"type": scope_type, "headers": []}, send]
    assert "gamekeeper_http_requests_total{" not in metrics.render()[0].decode()
