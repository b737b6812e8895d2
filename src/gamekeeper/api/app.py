"""``create_app``: the one place where settings become a running Litestar application."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

from litestar import Litestar, Request, get
from litestar.config.cors import CORSConfig
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components
from litestar.types import ControllerRouterHandler

from gamekeeper import __version__
from gamekeeper.api.credential import router as credential_router
from gamekeeper.api.deps import DEPENDENCIES
from gamekeeper.api.dialects.admin.routes import router as admin_router
from gamekeeper.api.dialects.battleplace import errors as battleplace_errors
from gamekeeper.api.dialects.battleplace.routes import router as battleplace_router
from gamekeeper.api.dialects.kongregate import errors as kongregate_errors
from gamekeeper.api.dialects.ogp import errors as ogp_errors
from gamekeeper.api.dialects.ogp.routes import router as ogp_router
from gamekeeper.api.dialects.ogs import errors as ogs_errors
from gamekeeper.api.dialects.ogs.cast import router as cast_router
from gamekeeper.api.dialects.ogs.cast_pages import router as cast_pages_router
from gamekeeper.api.dialects.ogs.notifications import router as notifications_router
from gamekeeper.api.dialects.ogs.pages import router as link_page_router
from gamekeeper.api.dialects.ogs.pages_view import static_files, template_config
from gamekeeper.api.dialects.ogs.routes import router as ogs_router
from gamekeeper.api.dialects.tournaments import errors as tournaments_errors
from gamekeeper.api.edge import check_body, check_connection
from gamekeeper.api.errors import default_envelope
from gamekeeper.api.guards import guards, rate_limit_ip
from gamekeeper.api.health import ROUTES as HEALTH_ROUTES
from gamekeeper.api.media import serve_media
from gamekeeper.api.middleware import RequestContextMiddleware
from gamekeeper.api.notfound import PathEnvelope, path_exception_handlers
from gamekeeper.api.openapi import (
    DocumentJson,
    OfflineSwagger,
    document,
    security_schemes,
    swagger_assets,
)
from gamekeeper.bootstrap import ensure_secrets
from gamekeeper.core.clock import Clock, utcnow
from gamekeeper.db.migrate import upgrade
from gamekeeper.infra.logging import configure_logging
from gamekeeper.runtime import Runtime
from gamekeeper.settings import Settings, load_settings

# Unknown paths and wrong methods answer in the envelope of the dialect whose prefix matches;
# anything else (health, media, pages, a path no dialect claims) in the default one.
UNMATCHED = path_exception_handlers(
    [
        PathEnvelope(("/admin",), default_envelope),
        ogs_errors.ENVELOPE,
        ogp_errors.ENVELOPE,
        battleplace_errors.ENVELOPE,
        kongregate_errors.ENVELOPE,
        tournaments_errors.ENVELOPE,
    ],
    default=PathEnvelope((), default_envelope),
)


@get("/openapi.json", include_in_schema=False, opt={"rate_limit": False})
async def openapi_json(request: Request[Any, Any, Any]) -> dict[str, Any]:
    return document(request.app)


def _openapi() -> OpenAPIConfig:
    return OpenAPIConfig(
        title="Gamekeeper",
        version=__version__,
        path="/docs",
        render_plugins=[OfflineSwagger(), DocumentJson(path="/openapi.json")],
        components=Components(security_schemes=security_schemes()),
    )


def create_app(
    settings: Settings | None = None,
    *,
    clock: Clock = utcnow,
    extra_routes: Sequence[ControllerRouterHandler] = (),
) -> Litestar:
    """Build the application. ``extra_routes`` are mounted with the same middleware and guards."""
    settings = settings or load_settings()
    configure_logging(settings.log_level, settings.log_format)
    secrets = ensure_secrets(settings)
    runtime = Runtime(
        settings, secret_key=secrets.secret_key, admin_token=secrets.admin_token, clock=clock
    )

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        try:
            if settings.auto_migrate:
                await upgrade(runtime.db.engine)
            await runtime.start()
            yield
        finally:
            await runtime.stop()  # also after a failed start: nothing is left open

    cors = None
    if settings.cors_origins:
        cors = CORSConfig(
            allow_origins=settings.cors_origins,
            allow_headers=["Authorization", "Content-Type", "X-Request-ID"],
            expose_headers=[
                "X-Request-ID",
                "RateLimit-Limit",
                "RateLimit-Remaining",
                "RateLimit-Reset",
                "Retry-After",
            ],
            allow_credentials=True,
        )
    app = Litestar(
        route_handlers=[
            *HEALTH_ROUTES,
            openapi_json,
            admin_router,
            credential_router,
            ogp_router,
            ogs_router,
            notifications_router,
            cast_router,
            cast_pages_router,
            link_page_router,
            static_files(),
            swagger_assets(),
            battleplace_router,
            serve_media,  # counts against the per-IP limit, unlike the health routes
            *extra_routes,
        ],
        dependencies=DEPENDENCIES,
        guards=guards(rate_limit_ip, check_connection),  # then each router's own
        before_request=check_body,  # input refused at the edge, in the route's dialect
        exception_handlers=UNMATCHED,
        cors_config=cors,
        template_config=template_config(),
        openapi_config=_openapi(),
        request_max_body_size=settings.max_body_size,
        lifespan=[lifespan],
        debug=False,
        logging_config=None,
    )
    app.state.runtime = runtime
    # Around the whole app, not per route: unmatched paths get a request id and are counted.
    app.asgi_handler = RequestContextMiddleware(app.asgi_handler, metrics=runtime.metrics)
    return app
