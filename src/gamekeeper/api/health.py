"""Liveness, readiness and Prometheus metrics."""

from __future__ import annotations

from typing import Any

from litestar import Response, get

from gamekeeper.api.deps import RuntimeDep
from gamekeeper.core.errors import Unavailable

_OPT = {"rate_limit": False}


@get("/healthz", opt=_OPT, include_in_schema=False)
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@get("/readyz", opt=_OPT, include_in_schema=False)
async def readyz(runtime: RuntimeDep) -> Response[dict[str, Any]]:
    checks: dict[str, str] = {}
    try:
        await runtime.db.ping()
        checks["database"] = "ok"
    except Unavailable:
        checks["database"] = "unavailable"
    if runtime.settings.redis_url:
        checks["redis"] = "ok" if await runtime.pubsub.ping() else "unavailable"
    ready = all(value == "ok" for value in checks.values())
    body = {"status": "ready" if ready else "unavailable", "checks": checks}
    return Response(body, status_code=200 if ready else 503)


@get("/metrics", opt=_OPT, include_in_schema=False)
async def metrics(runtime: RuntimeDep) -> Response[bytes]:
    body, content_type = runtime.metrics.render()
    return Response(body, media_type=content_type)


ROUTES = [healthz, readyz, metrics]
