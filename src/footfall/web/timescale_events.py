"""Contract 002 (events with time buckets): `/api/events/` by page × operating system.

Every path answers with and without its trailing slash, as the original did.
Unlike other APIs, 002 echoes the client IP and user agent it was sent, so
those two are stored raw for its events (documented in docs/privacy.md).
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated

import orjson
from fastapi import APIRouter, HTTPException, Request
from fastapi import Query as Param
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from footfall.intervals import IntervalError, parse_interval
from footfall.model import DEFAULT_APP, PAGEVIEW, Event
from footfall.query.daterange import parse_instant
from footfall.query.model import Query
from footfall.storage.lookups import RawEvent, event_by_id
from footfall.web.adapters import ask, iso_z, record, utc_now
from footfall.web.deps import services

router = APIRouter(tags=["002 events with time buckets"])

DEFAULT_WINDOW = dt.timedelta(days=30)


class EventCreate(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "page": "/homepage",
                    "ip_address": "192.168.1.1",
                    "user_agent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) ...",
                    "referrer": "https://google.com",
                    "session_id": "xyz789",
                    "duration": 15,
                    "description": "User viewed homepage",
                }
            ]
        }
    )

    page: str
    ip_address: str
    user_agent: str
    referrer: str
    session_id: str
    duration: Annotated[int, Field(ge=0)] | None = None
    description: str | None = None
    app: str = Field(DEFAULT_APP, description="footfall extension: the app to record in.")


class EventModel(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "0193f2a4-7c1e-7a31-9c55-4e1f7f0f2b6d",
                    "time": "2023-10-27T10:15:00.123456Z",
                    "page": "/homepage",
                    "ip_address": "192.168.1.1",
                    "user_agent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) ...",
                    "referrer": "https://google.com",
                    "session_id": "xyz789",
                    "duration": 15,
                    "description": "User viewed homepage",
                }
            ]
        }
    )

    id: uuid.UUID
    time: str
    page: str | None
    ip_address: str | None
    user_agent: str | None
    referrer: str | None
    session_id: str | None
    duration: int | None
    description: str | None


class EventBucket(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "bucket": "2023-10-27T00:00:00Z",
                    "page": "/",
                    "operating_system": "Windows",
                    "avg_duration": 12.5,
                    "count": 50,
                }
            ]
        }
    )

    bucket: str
    page: str
    operating_system: str
    avg_duration: float | None
    count: int


def _model(raw: RawEvent) -> EventModel:
    return EventModel(
        id=raw.id,
        time=iso_z(raw.ts),
        page=raw.path,
        ip_address=raw.ip,
        user_agent=raw.user_agent,
        referrer=raw.referrer,
        session_id=raw.session_id,
        duration=None if raw.duration is None else int(raw.duration),
        description=raw.description,
    )


async def create_event(request: Request, body: EventCreate) -> EventModel:
    event = Event(
        app=body.app,
        name=PAGEVIEW,
        url=body.page,
        path=body.page,
        referrer=body.referrer,
        session_id=body.session_id,
        duration=None if body.duration is None else float(body.duration),
        description=body.description,
        ip=body.ip_address,
        user_agent=body.user_agent,
    )
    await record(request, event, ip=body.ip_address, user_agent=body.user_agent)
    return EventModel(
        id=event.id,
        time=iso_z(dt.datetime.fromtimestamp(event.ts / 1e6, dt.UTC)),
        page=body.page,
        ip_address=body.ip_address,
        user_agent=body.user_agent,
        referrer=body.referrer,
        session_id=body.session_id,
        duration=body.duration,
        description=body.description,
    )


async def get_event(request: Request, event_id: uuid.UUID, app: str = DEFAULT_APP) -> EventModel:
    raw = await run_in_threadpool(event_by_id, services(request).store, app, event_id)
    if raw is None:
        raise HTTPException(404, "Event not found")
    return _model(raw)


def _query_error(name: str, value: str, message: str) -> HTTPException:
    return HTTPException(
        422, [{"type": "value_error", "loc": ["query", name], "msg": message, "input": value}]
    )


def _instant(name: str, value: str | None, default: dt.datetime) -> dt.datetime:
    if value is None:
        return default
    try:
        return parse_instant(value, end_of_day=False)
    except ValueError as exc:
        raise _query_error(name, value, str(exc)) from None


def _default_pages(request: Request) -> list[str]:
    configured = services(request).settings.default_pages
    return [page.strip() for page in configured.split(",") if page.strip()]


async def aggregate_events(
    request: Request,
    duration: Annotated[
        str, Param(description="Bucket width: PostgreSQL interval such as '1 hour' or 'HH:MM:SS'.")
    ] = "1 day",
    pages: Annotated[list[str] | None, Param(description="Pages to include.")] = None,
    start: Annotated[str | None, Param(description="ISO start; default 30 days ago.")] = None,
    end: Annotated[str | None, Param(description="ISO end; default now.")] = None,
    app: str = DEFAULT_APP,
) -> Response:
    try:
        parse_interval(duration)
    except IntervalError as exc:
        raise _query_error("duration", duration, str(exc)) from None
    now = utc_now().replace(tzinfo=None)
    start_at = _instant("start", start, now - DEFAULT_WINDOW)
    end_at = _instant("end", end, now)
    if end_at < start_at:
        raise _query_error("end", end or "", "end is before start")
    bucket = f"time:bucket:{duration}"
    chosen = pages if pages else _default_pages(request)
    rows = await ask(
        request,
        Query(
            app=app,
            date_range=[start_at.isoformat(), end_at.isoformat()],
            metrics=["events", "avg_duration"],
            dimensions=[bucket, "event:page", "event:os_family"],
            filters=[["is", "event:page", chosen]] if chosen else [],
            order_by=[(bucket, "desc"), ("event:page", "asc"), ("event:os_family", "asc")],
            limit=10_000,
        ),
    )
    # The rows are EventBucket's fields (the route's response_model, for the docs), encoded
    # straight to JSON: up to 10,000 pydantic objects, validated again by FastAPI, took
    # ~50 ms more than this (10,000 rows, one core).
    buckets = [
        {
            "bucket": dimensions[0],
            "page": dimensions[1],
            "operating_system": dimensions[2],
            "avg_duration": r["metrics"][1],
            "count": r["metrics"][0],
        }
        for r in rows
        # Events without a page (a bare `/visit`, a 003 event) are on no page: 002's
        # clients read `page` as a string.
        if (dimensions := r["dimensions"])[1] is not None
    ]
    return Response(orjson.dumps(buckets), media_type="application/json")


# Both spellings of every path, without a redirect: POST clients do not all follow one.
for suffix in ("/", ""):
    router.add_api_route(
        f"/api/events{suffix}",
        create_event,
        methods=["POST"],
        response_model=EventModel,
        summary="Record a page event (002)",
        include_in_schema=bool(suffix),
    )
    router.add_api_route(
        f"/api/events{suffix}",
        aggregate_events,
        methods=["GET"],
        response_model=list[EventBucket],
        include_in_schema=bool(suffix),
        summary="Events per time bucket × page × operating system, newest first (002)",
    )
    router.add_api_route(
        f"/api/events/{{event_id}}{suffix}",
        get_event,
        methods=["GET"],
        response_model=EventModel,
        include_in_schema=bool(suffix),
        summary="One event by id (002)",
        responses={404: {"description": "Event not found"}},
    )
