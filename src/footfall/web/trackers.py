"""Tracker ingestion: Plausible's `POST /api/event` and Umami's `POST /api/send`.

A site keeps the tracker it has and changes only the endpoint. Each request
is parsed by `ingest.plausible` / `ingest.umami`, dropped if it comes from a
bot or names an app that `FOOTFALL_APPS` does not list (counted in
`GET /api/trackers/dropped`), enriched, and acknowledged once durable. CORS
is open (`*`) on both, preflight included: trackers post from other origins.
docs/trackers.md says what is supported, field by field.
"""

from __future__ import annotations

import base64
import re
import time
import uuid
from typing import Any

import orjson
from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import JSONResponse, PlainTextResponse, Response

from footfall.ingest import plausible, umami
from footfall.ingest.enrich.bots import is_bot
from footfall.ingest.enrich.spam import is_spam_referrer
from footfall.ingest.v1 import APP_PATTERN
from footfall.model import Event, now_us
from footfall.web.adapters import request_ip
from footfall.web.client import header
from footfall.web.deps import services
from footfall.web.hot_paths import BodyTooLarge, read_body

router = APIRouter(tags=["trackers"])

MAX_BODY_BYTES = 64 * 1024
CORS = {"Access-Control-Allow-Origin": "*"}
_APP = re.compile(APP_PATTERN)
# Umami's sessionId is a UUID per visitor; footfall derives it from the visitor id.
_SESSION_NAMESPACE = uuid.UUID("6f0f7c1e-94d7-4c55-8a5e-3b1f0c2d9a41")


def _drop_reason(app: str, allowed: frozenset[str], bot: bool, spam: bool = False) -> str | None:
    """Why an event is dropped on purpose (a reason of footfall.drops.REASONS), or None."""
    if not _APP.match(app):
        return "invalid_app"
    if allowed and app not in allowed:
        return "unknown_app"
    if bot:
        return "bot"
    if spam:
        return "spam_referrer"
    return None


# --- CORS preflight ----------------------------------------------------------------


@router.options("/api/event", include_in_schema=False)
@router.options("/api/send", include_in_schema=False)
async def preflight(request: Request) -> Response:
    requested = request.headers.get("access-control-request-headers")
    return Response(
        status_code=204,
        headers={
            **CORS,
            "Access-Control-Allow-Methods": "POST, OPTIONS",
            "Access-Control-Allow-Headers": requested or "Content-Type",
            "Access-Control-Max-Age": "86400",
            "Vary": "Access-Control-Request-Headers",
        },
    )


# --- Plausible ---------------------------------------------------------------------

_PLAUSIBLE_EXAMPLE = {
    "n": "pageview",
    "u": "https://example.com/pricing?utm_source=newsletter",
    "d": "example.com",
    "r": "https://www.google.com/",
}

_PLAUSIBLE_OPENAPI: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "text/plain": {"schema": {"type": "string"}, "example": _PLAUSIBLE_EXAMPLE},
            "application/json": {
                "schema": {"type": "object"},
                "examples": {
                    "pageview": {"value": _PLAUSIBLE_EXAMPLE},
                    "custom event": {
                        "value": {
                            "name": "Signup",
                            "url": "https://example.com/join",
                            "domain": "example.com",
                            "props": {"plan": "pro"},
                            "revenue": {"amount": "12.50", "currency": "EUR"},
                        }
                    },
                },
            },
        },
    },
    "responses": {
        "202": {
            "description": "Stored (body `ok`). `x-plausible-dropped: N` when N events were "
            "dropped on purpose: a bot, or an app that FOOTFALL_APPS does not list.",
            "content": {"text/plain": {"example": "ok"}},
        },
        "400": {
            "description": "Invalid, as Plausible words it.",
            "content": {
                "application/json": {"example": {"errors": {"event_name": ["can't be blank"]}}}
            },
        },
        "413": {"description": "Body over 64 KiB."},
        "503": {"description": "The store cannot write; retry after `Retry-After` seconds."},
    },
}


_PLAUSIBLE_HEADERS = {**CORS, "Access-Control-Expose-Headers": "x-plausible-dropped"}
# The answer to nearly every tracker request, built once: a response holds no state of
# the request it answers, and building one took 3-6 us of the ~67 us this route took.
_PLAUSIBLE_OK = PlainTextResponse("ok", status_code=202, headers=_PLAUSIBLE_HEADERS)


def _plausible_errors(status: int, errors: dict[str, list[str]]) -> Response:
    return JSONResponse({"errors": errors}, status_code=status, headers=CORS)


@router.post(
    "/api/event",
    status_code=202,
    summary="Plausible Events API",
    description="Plausible's tracker (or any client of its Events API) posts here. The body "
    "is JSON whatever the Content-Type; fields n|name, u|url, d|domain (comma-separated: "
    "recorded in each), r|referrer, p|props|m|meta, h|hashMode, i|interactive, $|revenue, "
    "and sd/e for engagement events. See docs/trackers.md.",
    response_class=PlainTextResponse,
    openapi_extra=_PLAUSIBLE_OPENAPI,
)
async def plausible_event(request: Request) -> Response:
    try:
        body = await read_body(request.scope, request.receive, MAX_BODY_BYTES)
    except BodyTooLarge:
        return _plausible_errors(413, {"request": [f"body is over {MAX_BODY_BYTES} bytes"]})
    try:
        parsed = plausible.parse(body)
    except plausible.PlausibleInvalid as exc:
        return _plausible_errors(400, exc.errors)
    svc = services(request)
    counter = svc.drops
    user_agent = header(request, b"user-agent")
    bot = is_bot(user_agent)
    spam = is_spam_referrer(parsed.referrer)
    allowed = svc.settings.allowed_apps()
    ip = request_ip(request)
    keep: list[Event] = []
    for event in plausible.to_events(parsed):
        reason = _drop_reason(event.app, allowed, bot, spam)
        if reason is None and event.name == plausible.ENGAGEMENT:
            # As Plausible: engagement only extends a visit, it never starts one.
            visitor = svc.enricher.visitor_of(event, ip=ip, user_agent=user_agent)
            if svc.enricher.sessions.open_session(event.app, visitor, event.ts) is None:
                reason = "no_visit"
        if reason is None:
            keep.append(event)
        else:
            counter.add(event.app, reason)
    if keep:
        for event in keep:
            svc.enricher.enrich(event, ip=ip, user_agent=user_agent)
        await svc.writer.write(keep)
    dropped = len(parsed.domains) - len(keep)
    if not dropped:
        return _PLAUSIBLE_OK
    return PlainTextResponse(
        "ok", status_code=202, headers={**_PLAUSIBLE_HEADERS, "x-plausible-dropped": str(dropped)}
    )


# --- Umami -------------------------------------------------------------------------

_UMAMI_EXAMPLE = {
    "type": "event",
    "payload": {
        "website": "5a1f2a3c-7d5e-4f60-9a61-7b8c9d0e1f23",
        "hostname": "example.com",
        "screen": "1920x1080",
        "language": "en-US",
        "title": "Pricing",
        "url": "https://example.com/pricing",
        "referrer": "https://www.google.com/",
    },
}

_UMAMI_OPENAPI: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": {"type": "object"}, "example": _UMAMI_EXAMPLE}},
    },
    "responses": {
        "200": {
            "description": 'Stored; or `{"beep": "boop"}` for a bot (nothing stored).',
            "content": {
                "application/json": {
                    "example": {
                        "cache": "eyJ3ZWJzaXRlSWQiOi4uLn0",
                        "sessionId": "0b6c7d0e-1f2a-5b3c-9d4e-5f6a7b8c9d0e",
                        "visitId": "01935c4e-7a1b-7c2d-8e3f-4a5b6c7d8e9f",
                    }
                }
            },
        },
        "400": {
            "description": "Invalid (zod's error tree), or a website that FOOTFALL_APPS "
            "does not list (`Website not found.`).",
            "content": {
                "application/json": {
                    "example": {
                        "error": {"message": "Bad request", "code": "bad-request", "status": 400}
                    }
                }
            },
        },
        "413": {"description": "Body over 64 KiB."},
        "503": {"description": "The store cannot write; retry after `Retry-After` seconds."},
    },
}


def _umami_json(content: dict[str, Any], status: int = 200) -> Response:
    return JSONResponse(content, status_code=status, headers=CORS)


def _cache_token(website: str, session: str, visit: str | None) -> str:
    """Umami's tracker keeps this and sends it back as `x-umami-cache`; footfall derives
    visits itself and never reads it, so it is an unsigned, opaque string."""
    claims = {"websiteId": website, "sessionId": session, "visitId": visit, "iat": int(time.time())}
    return base64.urlsafe_b64encode(orjson.dumps(claims)).rstrip(b"=").decode()


@router.post(
    "/api/send",
    summary="Umami collect API",
    description="Umami's tracker (v2 and v3) posts here: `{type: event|identify|engagement|"
    "performance, payload: {website, hostname, url, referrer, title, language, screen, name?, "
    "data?, id?, tag?}}`. A payload without `name` is a pageview. See docs/trackers.md.",
    openapi_extra=_UMAMI_OPENAPI,
)
async def umami_send(request: Request) -> Response:
    try:
        body = await read_body(request.scope, request.receive, MAX_BODY_BYTES)
    except BodyTooLarge:
        too_large = {"message": "Payload too large", "code": "payload-too-large", "status": 413}
        return _umami_json({"error": too_large}, 413)
    try:
        parsed = umami.parse(body)
    except umami.UmamiInvalid as exc:
        return _umami_json(exc.body(), 400)
    svc = services(request)
    counter = svc.drops
    allowed = {app.lower() for app in svc.settings.allowed_apps()}
    if allowed and parsed.website not in allowed:
        counter.add(parsed.website, "unknown_app")
        return _umami_json(umami.UmamiInvalid("Website not found.").body(), 400)
    user_agent = parsed.user_agent or header(request, b"user-agent")
    if is_bot(user_agent):
        counter.add(parsed.website, "bot")
        return _umami_json({"beep": "boop"})
    ip = parsed.ip or request_ip(request)
    enricher = svc.enricher
    event = umami.to_event(parsed)
    if event is None:
        probe = Event(app=parsed.website, ts=parsed.ts or now_us())
        visitor = enricher.visitor_of(probe, ip=ip, user_agent=user_agent)
        visit: str | None = enricher.sessions.session_for(probe.app, visitor, probe.ts)
    else:
        # The distinct id labels the visitor; it does not replace the cookieless visitor
        # (that would split the visit in two at the identify call).
        distinct_id, event.user_id = event.user_id, None
        event.visitor_id = enricher.visitor_of(event, ip=ip, user_agent=user_agent)
        event.user_id = distinct_id
        enricher.enrich(event, ip=ip, user_agent=user_agent)
        await svc.writer.write([event])
        visitor, visit = event.visitor_id, event.session_id
    session = str(uuid.uuid5(_SESSION_NAMESPACE, f"{parsed.website}:{visitor}"))
    return _umami_json(
        {
            "cache": _cache_token(parsed.website, session, visit),
            "sessionId": session,
            "visitId": visit,
        }
    )


# --- what was dropped ----------------------------------------------------------------


@router.get(
    "/api/trackers/dropped",
    summary="Events the tracker endpoints dropped on purpose",
    description="All-time counts kept in the store, by app and reason: `bot` (crawlers, "
    "headless browsers, HTTP libraries), `unknown_app` (not in FOOTFALL_APPS), "
    "`invalid_app` (a domain that is not a valid app name), `spam_referrer`, `no_visit`. "
    "`GET /api/v1/dropped` gives them by day for a date range.",
)
async def dropped(request: Request) -> dict[str, Any]:
    return await run_in_threadpool(services(request).drops.snapshot)
