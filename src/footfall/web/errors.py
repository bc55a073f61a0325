"""Every error answers JSON that names the problem; none is a bare 500 or an HTML page."""

from __future__ import annotations

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import JSONResponse

from footfall.ingest.v1 import IngestRejected
from footfall.query.errors import QueryError
from footfall.storage.base import StoreUnavailable


def store_unavailable_response(exc: StoreUnavailable, retry_after: int) -> JSONResponse:
    return JSONResponse(
        {
            "detail": f"the event store is unavailable, nothing was stored: {exc}",
            "retry_after": retry_after,
        },
        status_code=503,
        headers={"Retry-After": str(retry_after)},
    )


def install_error_handlers(app: FastAPI) -> None:
    async def on_store_unavailable(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StoreUnavailable)
        return store_unavailable_response(
            exc, request.app.state.services.settings.retry_after_seconds
        )

    async def on_query_error(request: Request, exc: Exception) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=400)

    async def on_ingest_rejected(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, IngestRejected)
        body: dict[str, object] = {"detail": exc.message}
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
        return JSONResponse(body, status_code=exc.status)

    app.add_exception_handler(StoreUnavailable, on_store_unavailable)
    app.add_exception_handler(QueryError, on_query_error)
    app.add_exception_handler(IngestRejected, on_ingest_rejected)
