"""Every error answers JSON that names the problem; none is a bare 500 or an HTML page."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import JSONResponse

from footfall.ingest.v1 import IngestRejected
from footfall.query.errors import QueryError
from footfall.storage.base import StoreUnavailable


def store_unavailable_body(exc: StoreUnavailable, retry_after: int) -> dict[str, Any]:
    return {
        "detail": f"the event store is unavailable, nothing was stored: {exc}",
        "retry_after": retry_after,
    }


def ingest_rejected_body(exc: IngestRejected) -> dict[str, Any]:
    body: dict[str, Any] = {"detail": exc.message}
    if exc.errors:
        body["errors"] = [
            {
                "index": e.index,
                "field": e.field,
                "message": e.message,
                "loc": ["body", e.index, e.field],
            }
            for e in exc.errors
        ]
    return body


def install_error_handlers(app: FastAPI) -> None:
    async def on_store_unavailable(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StoreUnavailable)
        retry_after = request.app.state.services.settings.retry_after_seconds
        return JSONResponse(
            store_unavailable_body(exc, retry_after),
            status_code=503,
            headers={"Retry-After": str(retry_after)},
        )

    async def on_query_error(request: Request, exc: Exception) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=400)

    async def on_ingest_rejected(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, IngestRejected)
        return JSONResponse(ingest_rejected_body(exc), status_code=exc.status)

    app.add_exception_handler(StoreUnavailable, on_store_unavailable)
    app.add_exception_handler(QueryError, on_query_error)
    app.add_exception_handler(IngestRejected, on_ingest_rejected)
