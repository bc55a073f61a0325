"""`/api/v1/query`: the typed Query over HTTP, as JSON (POST) or query parameters (GET)."""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Request
from fastapi import Query as Param
from pydantic import BeforeValidator, ValidationError
from starlette.concurrency import run_in_threadpool

from footfall.query.errors import QueryError
from footfall.query.model import Query
from footfall.query.runner import run_query
from footfall.web.deps import services

router = APIRouter(tags=["footfall query"])


def _json_whatever_the_content_type(value: Any) -> Any:
    """`curl -d '{…}'` labels JSON as a form; FastAPI then hands over raw bytes. A query
    body is JSON whatever its label (as the ingest endpoints read theirs)."""
    if isinstance(value, bytes | str):
        try:
            return orjson.loads(value)
        except orjson.JSONDecodeError as exc:
            raise ValueError(f"the body must be a JSON query object: {exc}") from None
    return value


JsonBodyQuery = Annotated[Query, BeforeValidator(_json_whatever_the_content_type)]

_RESPONSE_EXAMPLE = {
    "results": [{"dimensions": ["2025-01-06", "/a"], "metrics": [12, 30]}],
    "meta": {
        "app": "site",
        "date_range": ["2024-12-31T00:00:00Z", None],
        "metrics": ["visitors", "pageviews"],
        "dimensions": ["time:day", "event:page"],
        "limit": 100,
        "offset": 0,
        "rows": 1,
    },
}


@router.post(
    "/api/v1/query",
    summary="Run a statistics query",
    responses={
        200: {"content": {"application/json": {"example": _RESPONSE_EXAMPLE}}},
        400: {
            "description": "Unknown metric, dimension, filter op or bad "
            "date range; the message names it."
        },
    },
)
async def post_query(request: Request, query: JsonBodyQuery) -> dict[str, Any]:
    return await run_in_threadpool(run_query, services(request).store, query)


def _split(values: list[str] | None) -> list[str] | None:
    if values is None:
        return None
    return [part for value in values for part in value.split(",") if part]


@router.get(
    "/api/v1/query",
    summary="Run a statistics query given as query parameters",
    description="`metrics` and `dimensions` are comma-separated or repeated; "
    "`filters` and `order_by` are JSON; `date_range` is a preset or `from,to`.",
)
async def get_query(
    request: Request,
    app: str = "default",
    date_range: str = "7d",
    metrics: Annotated[list[str] | None, Param()] = None,
    dimensions: Annotated[list[str] | None, Param()] = None,
    filters: str | None = None,
    order_by: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> dict[str, Any]:
    raw: dict[str, Any] = {
        "app": app,
        "limit": limit,
        "offset": offset,
        "date_range": date_range.split(",") if "," in date_range else date_range,
    }
    if (metric_list := _split(metrics)) is not None:
        raw["metrics"] = metric_list
    if (dimension_list := _split(dimensions)) is not None:
        raw["dimensions"] = dimension_list
    for name, text in (("filters", filters), ("order_by", order_by)):
        if text is not None:
            try:
                raw[name] = orjson.loads(text)
            except orjson.JSONDecodeError as exc:
                raise QueryError(f"{name} must be JSON: {exc}") from None
    try:
        query = Query.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise QueryError(f"invalid {where}: {first['msg']}") from None
    return await run_in_threadpool(run_query, services(request).store, query)
