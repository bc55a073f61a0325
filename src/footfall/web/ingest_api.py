"""`POST /api/v1/events`: footfall's own ingest, for servers, scripts and imports."""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from footfall.ingest import batch
from footfall.ingest.v1 import check_apps, parse_body, to_events
from footfall.model import Event
from footfall.services import Services
from footfall.web.client import client_ip, header
from footfall.web.deps import services
from footfall.web.hot_paths import Answer, read_body

router = APIRouter(tags=["footfall ingest"])

# Bodies larger than this are decoded off the event loop, so one big import
# does not stall every other request.
_OFFLOAD_BYTES = 64 * 1024
# From this many events on, a request is enriched by the batch path (footfall.ingest.batch:
# the same rows, derived once per distinct value); below it, the per-event path that
# single events take. Break-even (enrichment only, one core, us per event, per-event ->
# batch): 4 events 11.2 -> 11.3, 8: 10.8 -> 9.7, 64: 10.3 -> 8.2.
BATCH_MIN_EVENTS = 8

_EXAMPLE_EVENT = {
    "app": "site",
    "name": "pageview",
    "url": "https://example.com/pricing?utm_source=newsletter",
    "referrer": "https://news.ycombinator.com/",
    "user_id": "u-42",
    "props": {"plan": "pro"},
}

_OPENAPI_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "oneOf": [{"type": "object"}, {"type": "array", "items": {"type": "object"}}]
                },
                "examples": {
                    "one": {"summary": "One event", "value": _EXAMPLE_EVENT},
                    "many": {
                        "summary": "A batch",
                        "value": [_EXAMPLE_EVENT, {**_EXAMPLE_EVENT, "name": "Signup"}],
                    },
                },
            },
            "application/x-ndjson": {
                "schema": {"type": "string"},
                "example": '{"name":"pageview","url":"/a"}\n{"name":"Signup"}\n',
            },
        },
    },
    "responses": {
        "202": {
            "description": "Every event is durably stored.",
            "content": {"application/json": {"example": {"accepted": 2, "duplicates": 0}}},
        },
        "400": {"description": "Malformed body."},
        "413": {"description": "More than 10,000 events or 5 MiB."},
        "422": {
            "description": "Invalid events, or events for an app that FOOTFALL_APPS does not "
            "list; `errors` names the index and field of each."
        },
        "503": {"description": "The store cannot write; retry after `Retry-After` seconds."},
    },
}


async def ingest(request: Request, body: bytes, svc: Services) -> Answer:
    """Parse, enrich and durably store one request's events; the 202 answer.

    With `FOOTFALL_APPS` set, an event for an app it does not list makes the
    whole request a 422 naming that event (see `check_apps`).
    """
    content_type = header(request, b"content-type") or ""
    if len(body) > _OFFLOAD_BYTES:
        items = await run_in_threadpool(parse_body, body, content_type)
    else:
        items = parse_body(body, content_type)
    check_apps(items, svc.settings.apps)
    ip = client_ip(request, svc.settings.trusted_proxies)
    user_agent = header(request, b"user-agent")
    if len(items) >= BATCH_MIN_EVENTS:
        events: list[Event] = []
        chunks = batch.enrich_batch_chunks(
            items, svc.enricher, client_ip=ip, client_ua=user_agent, chunk_events=batch.CHUNK_EVENTS
        )
        for chunk in chunks:
            events += chunk
            if len(events) < len(items):
                await asyncio.sleep(0)  # other requests run between chunks
    else:
        enrich = svc.enricher.enrich
        events = [
            enrich(p.event, ip=p.ip, user_agent=p.user_agent)
            for p in to_events(items, client_ip=ip, client_ua=user_agent)
        ]
    seqs = await svc.writer.write(events)
    duplicates = sum(1 for seq in seqs if seq is None)
    return 202, orjson.dumps({"accepted": len(events), "duplicates": duplicates}), []


@router.post(
    "/api/v1/events",
    status_code=202,
    summary="Ingest one event, a JSON array or NDJSON",
    description="Up to 10,000 events and 5 MiB per request. Acknowledged only once "
    "durable. An `id` (UUID) makes retries idempotent: an id seen before is not "
    "stored again. `path`, `hostname` and UTM fields are derived from `url`. "
    "(Served by footfall's lean ingest path; this route documents it.)",
    openapi_extra=_OPENAPI_BODY,
)
async def ingest_events(request: Request) -> Response:
    body = await read_body(request.scope, request.receive)
    status, content, headers = await ingest(request, body, services(request))
    return Response(
        content, status, {k.decode(): v.decode() for k, v in headers}, media_type="application/json"
    )
