"""What Litestar 2.25 does first: the body, the dependencies, then the validation of ``data``.

``api.deps`` is built on this order (see ``litestar/routes/http.py``,
``HTTPRoute._call_handler_function``): ``data`` is read and decoded while the handler's
arguments are extracted, dependencies are resolved next, and ``data`` is validated against its
type last, right before the handler. A dependency that begins a transaction therefore begins it
before an invalid body is refused, unless it checks the body itself (``WriteUow`` does).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import msgspec
import pytest
from litestar import Litestar, post
from litestar.di import NamedDependency, Provide
from litestar.params import JSONBody
from litestar.testing import AsyncTestClient

pytestmark = pytest.mark.anyio


_seen: list[str] = []  # what happened, in order, during the one request of a test


class Body(msgspec.Struct):
    count: int

    def __post_init__(self) -> None:
        _seen.append("validated")


def _app(seen: list[str]) -> Litestar:
    async def provide_resource() -> AsyncIterator[str]:
        seen.append("dependency")
        try:
            yield "resource"
        finally:
            seen.append("dependency closed")

    @post("/echo", status_code=200)
    async def echo(data: JSONBody[Body], resource: NamedDependency[str]) -> dict[str, Any]:
        seen.append("handler")
        return {"count": data.count}

    def record_body(app: Any) -> Any:
        async def middleware(scope: Any, receive: Any, send: Any) -> None:
            async def receiving() -> Any:
                message = await receive()
                if message["type"] == "http.request" and not message.get("more_body"):
                    seen.append("body read")
                return message

            await app(scope, receiving, send)

        return middleware

    return Litestar(
        route_handlers=[echo],
        dependencies={"resource": Provide(provide_resource)},
        middleware=[record_body],
    )


async def test_the_body_is_read_before_dependencies_and_validated_after_them():
    seen = _seen
    seen.clear()
    async with AsyncTestClient(_app(seen)) as client:
        response = await client.post("/echo", json={"count": 3})

    assert response.status_code == 200, response.text
    assert seen == ["body read", "dependency", "validated", "handler", "dependency closed"]


async def test_an_invalid_body_is_refused_after_the_dependencies_are_resolved():
    seen = _seen
    seen.clear()
    async with AsyncTestClient(_app(seen)) as client:
        response = await client.post("/echo", json={"count": "three"})

    assert response.status_code == 400, response.text
    assert seen == ["body read", "dependency", "dependency closed"]
