"""Liveness of the store, for load balancers and monitors. (`GET /` is in web/dashboard.py.)"""

from __future__ import annotations

import time

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import JSONResponse

from footfall import __version__
from footfall.storage.base import StoreUnavailable
from footfall.web.deps import services

router = APIRouter(tags=["health"])


async def _store_problem(request: Request) -> str | None:
    svc = services(request)
    try:
        await run_in_threadpool(svc.store.ping)
    except StoreUnavailable as exc:
        return str(exc)
    writer = svc.writer.health
    # A failed write marks the node unhealthy for one Retry-After period. After
    # that the store is trusted again (it answered the ping), so a load balancer
    # sends traffic back: the next write proves it, and a new failure re-marks it.
    recent = time.time() - writer.last_failure_at < svc.settings.retry_after_seconds
    if not writer.ok and recent:
        return f"the last write failed: {writer.last_error}"
    return None


@router.get(
    "/health",
    summary="Health (contract 000)",
    responses={503: {"description": "The store does not answer or cannot write."}},
)
async def health(request: Request) -> JSONResponse:
    problem = await _store_problem(request)
    if problem is not None:
        return JSONResponse({"status": "unhealthy", "reason": problem}, status_code=503)
    svc = services(request)
    return JSONResponse(
        {
            "status": "healthy",
            "version": __version__,
            "store": svc.store.dialect,
            "events_written": svc.writer.health.events,
        }
    )


@router.get(
    "/healthz",
    summary="Health (contract 002)",
    responses={503: {"description": "The store does not answer or cannot write."}},
)
async def healthz(request: Request) -> JSONResponse:
    problem = await _store_problem(request)
    if problem is not None:
        return JSONResponse({"status": "unavailable", "reason": problem}, status_code=503)
    return JSONResponse({"status": "ok"})
