"""Contracts 000 (Traffic Tracker) and 001 (visit-tracker-api): `POST /visit`, `GET /stats`.

One endpoint serves both clients (contracts/README.md): no body is a 001
visit; a body is validated as 000's model. `visit_count`/`visits` is the
app's pageview total including this one, distinct under any concurrency.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import msgspec
import orjson
from fastapi import APIRouter, Body, Request
from fastapi import Query as Param
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from footfall.model import DEFAULT_APP, PAGEVIEW, Event
from footfall.query.model import Query
from footfall.storage.base import StoreUnavailable
from footfall.web.adapters import ask, iso_z, record, since, utc_now
from footfall.web.deps import services
from footfall.web.hot_paths import Deferred, read_body

router = APIRouter(tags=["000/001 visit counter"])


class VisitIn(BaseModel):
    """Contract 000's visit. 001 clients send no body at all."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "user_id": "unique_user_id",
                    "page_url": "https://example.com/page",
                    "user_agent": "Mozilla/5.0...",
                    "ip_address": "192.168.1.1",
                    "referrer": "https://google.com",
                }
            ]
        }
    )

    user_id: str
    page_url: str
    user_agent: str | None = None
    ip_address: str | None = None
    referrer: str | None = None
    app: str = Field(DEFAULT_APP, description="footfall extension: the app to count in.")


class VisitOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "success": True,
                    "visit_count": 42,
                    "visits": 42,
                    "message": "Visit logged successfully. Total visits: 42",
                }
            ]
        }
    )

    success: bool
    visit_count: int
    visits: int
    message: str


class StatsOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "uptime_seconds": 3600.5,
                    "uptime_formatted": "1h 0m 0s",
                    "total_visits": 42,
                    "current_time": "2023-12-07T10:30:00.123456Z",
                    "server_status": "running",
                    "recent_visits": 10,
                    "timeframe_hours": 1.0,
                }
            ]
        }
    )

    uptime_seconds: float
    uptime_formatted: str
    total_visits: int
    current_time: str
    server_status: str
    recent_visits: int
    timeframe_hours: float


@router.post("/visit", response_model=VisitOut, summary="Log a visit (000 and 001)")
async def log_visit(
    request: Request,
    visit: Annotated[VisitIn | None, Body()] = None,
    app: Annotated[str | None, Param(description="App when there is no body.")] = None,
) -> VisitOut:
    if visit is None:
        event = Event(app=app or DEFAULT_APP, name=PAGEVIEW)
        seq = await record(request, event)
    else:
        event = Event(
            app=visit.app if "app" in visit.model_fields_set else app or DEFAULT_APP,
            name=PAGEVIEW,
            url=visit.page_url,
            referrer=visit.referrer,
            user_id=visit.user_id,
        )
        seq = await record(request, event, ip=visit.ip_address, user_agent=visit.user_agent)
    total = services(request).pageviews.total_at(seq)
    if total is None:  # pragma: no cover - only if 100k commits overtook this request
        raise StoreUnavailable("the visit was stored but its count is no longer known")
    return VisitOut(
        success=True,
        visit_count=total,
        visits=total,
        message=f"Visit logged successfully. Total visits: {total}",
    )


class _VisitBody(msgspec.Struct):
    """`VisitIn` for the lean door: the same fields and types (strict JSON types either way)."""

    user_id: str
    page_url: str
    user_agent: str | None = None
    ip_address: str | None = None
    referrer: str | None = None
    app: str | msgspec.UnsetType = msgspec.UNSET


_VISIT_DECODER = msgspec.json.Decoder(_VisitBody)


async def log_visit_lean(request: Request) -> Response | Deferred:
    """`POST /visit` through footfall's front door (web/hot_paths.py), without FastAPI.

    It serves the two common requests, no body and a valid JSON body, the same
    way `log_visit` does; anything else (a query string, another content type,
    an invalid body and its 422) is deferred to `log_visit`, so every answer
    stays exactly FastAPI's.
    """
    body = await read_body(request.scope, request.receive)
    if request.scope.get("query_string"):
        return Deferred(body)
    if not body:
        seq = await record(request, Event(app=DEFAULT_APP, name=PAGEVIEW))
    else:
        if "json" not in request.headers.get("content-type", ""):
            return Deferred(body)
        try:
            visit = _VISIT_DECODER.decode(body)
        except msgspec.DecodeError:  # validation errors included: FastAPI words the 422
            return Deferred(body)
        event = Event(
            app=DEFAULT_APP if isinstance(visit.app, msgspec.UnsetType) else visit.app,
            name=PAGEVIEW,
            url=visit.page_url,
            referrer=visit.referrer,
            user_id=visit.user_id,
        )
        seq = await record(request, event, ip=visit.ip_address, user_agent=visit.user_agent)
    total = services(request).pageviews.total_at(seq)
    if total is None:  # pragma: no cover - only if 100k commits overtook this request
        raise StoreUnavailable("the visit was stored but its count is no longer known")
    answer = {
        "success": True,
        "visit_count": total,
        "visits": total,
        "message": f"Visit logged successfully. Total visits: {total}",
    }
    return Response(orjson.dumps(answer), media_type="application/json")


def format_uptime(seconds: float) -> str:
    """`{h}h {m}m {s}s` of whole seconds; hours may exceed 24."""
    whole = int(seconds)
    return f"{whole // 3600}h {whole % 3600 // 60}m {whole % 60}s"


@router.get("/stats", response_model=StatsOut, summary="Uptime and visit counts (000 and 001)")
async def stats(
    request: Request,
    timeframe_hours: Annotated[
        float, Param(ge=0.1, le=168.0, description="Window of `recent_visits`, in hours.")
    ] = 1.0,
    app: str = DEFAULT_APP,
) -> StatsOut:
    now = utc_now()
    uptime = now.timestamp() - services(request).started_at
    total = await ask(request, Query(app=app, date_range="all", metrics=["pageviews"]), now)
    window = since(dt.timedelta(hours=timeframe_hours), now)
    recent = await ask(request, Query(app=app, date_range=window, metrics=["pageviews"]), now)
    return StatsOut(
        uptime_seconds=round(uptime, 6),
        uptime_formatted=format_uptime(uptime),
        total_visits=total[0]["metrics"][0],
        current_time=iso_z(now),
        server_status="running",
        recent_visits=recent[0]["metrics"][0],
        timeframe_hours=timeframe_hours,
    )
