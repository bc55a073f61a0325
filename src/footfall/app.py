"""The ASGI application: one FastAPI app serving every API over one store."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool

from footfall import __version__
from footfall.services import Services
from footfall.settings import Settings
from footfall.web import (
    dashboard,
    dropped,
    events,
    health,
    ingest_api,
    query_api,
    script,
    sessions,
    timescale_events,
    trackers,
    visits,
)
from footfall.web.errors import install_error_handlers
from footfall.web.hot_paths import FootfallApp, freeze_startup_heap


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.services = await run_in_threadpool(Services.start, settings)
        freeze_startup_heap()
        try:
            yield
        finally:
            # Drain: every event already acknowledged or queued is committed first.
            await run_in_threadpool(app.state.services.stop)
            gc.unfreeze()  # an app that ends (tests start many) leaves nothing uncollectable

    app = FootfallApp(
        title="footfall",
        version=__version__,
        description="Self-hosted, privacy-friendly web and product analytics.",
        lifespan=lifespan,
    )
    install_error_handlers(app)
    app.include_router(health.router)
    app.include_router(ingest_api.router)
    app.hot_routes[("POST", "/api/v1/events")] = ingest_api.ingest
    app.hot_endpoints[("POST", "/visit")] = visits.log_visit_lean
    app.hot_endpoints[("POST", "/api/event")] = trackers.plausible_event
    app.hot_endpoints[("POST", "/api/send")] = trackers.umami_send
    app.include_router(query_api.router)
    app.include_router(visits.router)
    app.include_router(events.router)
    app.include_router(timescale_events.router)
    app.include_router(sessions.router)
    app.include_router(script.router)
    app.include_router(trackers.router)
    app.include_router(dashboard.router)
    app.include_router(dropped.router)
    return app
