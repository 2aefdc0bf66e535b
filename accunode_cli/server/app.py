"""The app factory: ``create_app(settings)`` builds the application of ``accunode serve``."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool
from starlette.middleware.cors import CORSMiddleware

import accunode_cli.server.routes.whatif as whatif
from accunode_cli import __version__
from accunode_cli.config import Settings, get_settings
from accunode_cli.logs import configure_logging
from accunode_cli.server.docs import install_docs
from accunode_cli.server.errors import install_error_handlers
from accunode_cli.server.middleware import RequestContextMiddleware
from accunode_cli.server.routes import (
    api_keys,
    auth,
    companies,
    health,
    organizations,
    predictions,
    users,
)
from accunode_cli.server.routes import jobs as job_routes
from accunode_cli.server.state import build_state

__all__ = ["create_app", "app_from_environment", "API_PREFIX"]

API_PREFIX = "/api/v1"

_DESCRIPTION = """
Probability of default (PD) from financial ratios, for many organizations (tenants).

Authenticate with `POST /api/v1/auth/login` (or the **Authorize** button), then send
`Authorization: Bearer <access_token>`. `X-Organization-ID` picks the organization to act in
(default: your personal one). Errors always have the shape
`{"error": {"code", "message", "details"}}`.
"""


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the API; the lifespan opens the database, the store and the models once."""
    settings = settings or get_settings()
    configure_logging(settings.log_level)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        state = await run_in_threadpool(build_state, settings)
        await run_in_threadpool(state.start_jobs)
        app.state.accunode = state
        if settings.metrics:
            from accunode_cli.metrics import instrument_engine

            instrument_engine(state.engine)
        # What startup built (models, metadata, compiled routes) lives as long as the process:
        # moving it out of the collector's view keeps full collections short under load.
        gc.collect()
        gc.freeze()
        try:
            yield
        finally:
            await run_in_threadpool(state.close)

    app = FastAPI(
        title="AccuNode API",
        version=__version__,
        description=_DESCRIPTION,
        lifespan=lifespan,
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=None,  # install_docs: Swagger UI from the package, not a CDN
        redoc_url=None,
    )
    install_docs(app, openapi_url=f"{API_PREFIX}/openapi.json")
    install_error_handlers(app)
    # Authenticated routes count the client and the user in get_claims; the others here.
    for module in (auth, users, organizations, companies, whatif, predictions):
        app.include_router(module.router, prefix=API_PREFIX)
    app.include_router(job_routes.router, prefix=API_PREFIX)
    app.include_router(api_keys.router, prefix=API_PREFIX)
    app.include_router(api_keys.current_router, prefix=API_PREFIX)
    app.include_router(health.router, prefix=API_PREFIX)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_credentials=False,  # bearer tokens, not cookies
            allow_methods=["GET", "POST", "PUT", "DELETE", "OPTIONS"],
            allow_headers=[
                "Authorization",
                "Content-Type",
                "X-Organization-ID",
                "If-None-Match",
                "X-Request-ID",
            ],
            expose_headers=["X-Request-ID", "ETag", "Retry-After"],
            max_age=600,
        )
    app.add_middleware(
        RequestContextMiddleware,
        max_body_bytes=settings.max_body_bytes,
        max_upload_bytes=settings.max_upload_bytes,
        trusted_proxies=settings.trusted_proxies,
    )
    if settings.metrics:  # outermost, so it counts every answer, 413s included
        from accunode_cli.server.metrics import install_metrics

        install_metrics(app)
    return app


def app_from_environment() -> FastAPI:
    """Build the app from ``ACCUNODE_*`` variables (uvicorn's --factory entry for workers)."""
    return create_app(Settings())
