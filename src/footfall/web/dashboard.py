"""The dashboard for browsers: `GET /` (when HTML is asked for), `GET /dashboard`, its
realtime counter and its static files. Numbers come from footfall.dashboard.report,
which asks the typed Query like every other reader."""

from __future__ import annotations

import datetime as dt
import gzip
from enum import Enum
from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import HTMLResponse, JSONResponse, Response

from footfall.dashboard import assets, render, report
from footfall.dashboard.state import TABS, DashboardState, StateError, parse_state
from footfall.query.errors import QueryError
from footfall.storage.base import StoreUnavailable
from footfall.storage.lookups import app_names
from footfall.web.deps import services

router = APIRouter()
_TAGS: list[str | Enum] = ["dashboard"]

_HTML_TYPES = ("text/html", "application/xhtml+xml")
_PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "Vary": "Accept, Accept-Encoding",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": render.CONTENT_SECURITY_POLICY,
}


def _html(request: Request, html: str, status: int = 200) -> Response:
    """A page, gzipped when the client takes it (~45 KB of HTML → ~6 KB)."""
    body = html.encode()
    headers = dict(_PAGE_HEADERS)
    if assets.accepts_gzip(request.headers.get("accept-encoding", "")):
        body = gzip.compress(body, compresslevel=6)
        headers["Content-Encoding"] = "gzip"
    return Response(body, status, headers, media_type="text/html; charset=utf-8")


def _qualities(accept: str) -> dict[str, float]:
    out: dict[str, float] = {}
    for part in accept.split(","):
        media, *params = (piece.strip() for piece in part.split(";"))
        if not media:
            continue
        quality = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        out[media.lower()] = max(quality, out.get(media.lower(), 0.0))
    return out


def wants_html(accept: str) -> bool:
    """True when the client names HTML and prefers it to JSON (a browser's Accept).
    `*/*`, `application/json` or no header keep contract 002's JSON answer; so does a
    tie, since the JSON root is the contract."""
    q = _qualities(accept)
    html = max((q.get(t, 0.0) for t in _HTML_TYPES), default=0.0)
    json = q.get("application/json", q.get("application/*", q.get("*/*", 0.0)))
    return html > 0 and html > json


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


async def _stored_apps(request: Request) -> list[str]:
    return await run_in_threadpool(app_names, services(request).store)


def _default_app(request: Request, stored: list[str]) -> str:
    """The first of FOOTFALL_APPS, else the first app with events, else `default`."""
    allowed = services(request).settings.allowed_apps()
    if allowed:
        return min(allowed)
    return stored[0] if stored else "default"


def _known_apps(request: Request, stored: list[str], current: str) -> list[str]:
    # The picker offers FOOTFALL_APPS, the apps that have events and the current
    # one; the "other app" box takes any other name.
    return sorted(services(request).settings.allowed_apps() | set(stored) | {current})


def _error_page(request: Request, status: int, title: str, message: str) -> Response:
    html = render.page("error.html", title=title, message=message, status=status)
    return _html(request, html, status)


async def dashboard_page(request: Request) -> Response:
    try:
        stored = await _stored_apps(request)
    except StoreUnavailable as exc:
        return _error_page(request, 503, "The event store is unavailable", str(exc))
    try:
        state = parse_state(request.query_params.multi_items(), _default_app(request, stored))
    except StateError as exc:
        return _error_page(request, 400, "Bad dashboard link", str(exc))
    svc = services(request)
    try:
        data = await report.load(svc.store, state, _now())
    except QueryError as exc:
        return _error_page(request, 400, "Bad dashboard link", str(exc))
    except StoreUnavailable as exc:
        return _error_page(request, 503, "The event store is unavailable", str(exc))
    allowed = svc.settings.allowed_apps()
    unknown = (
        not data.app_has_events
        and "app" in request.query_params
        and state.app not in allowed
        and state.app != "default"
    )
    html = render.page(
        "dashboard.html",
        report=data,
        state=state,
        apps=_known_apps(request, stored, state.app),
        origin=str(request.base_url).rstrip("/"),
        unknown_app=unknown,
        clear_filters=DashboardState(state.app, state.period, state.start, state.end).href(),
    )
    return _html(request, html, 404 if unknown else 200)


@router.get(
    "/",
    tags=["health"],  # where contract 002's root was documented before the dashboard
    summary="Hello (contract 002), or the dashboard for a browser",
    description='`{"hello": "world"}`; a client whose `Accept` prefers `text/html` '
    "(a browser) gets the dashboard page instead, as `GET /dashboard` answers.",
    response_class=JSONResponse,
    responses={200: {"content": {"application/json": {"example": {"hello": "world"}}}}},
)
async def root(request: Request) -> Response:
    if wants_html(request.headers.get("accept", "")):
        return await dashboard_page(request)
    return JSONResponse({"hello": "world"}, headers={"Vary": "Accept"})


@router.get(
    "/dashboard",
    tags=_TAGS,
    summary="The dashboard (HTML)",
    description="Query parameters: `app`, `period` (today, 7d, 30d, 90d, month, 12mo, all, "
    "custom with `from` and `to` as YYYY-MM-DD), filters `page`, `source`, `utm_source`, "
    "`utm_medium`, `utm_campaign`, `browser`, `os`, `device`, `country`, `event`, "
    "`entry_page`, `exit_page`, "
    "`prop.<key>` (value `(none)`: rows without one), `props` (a property key to break "
    "the filtered event down by), `pages_tab`, `utm_tab` and `device_tab` (the table a "
    "card with tabs shows), `details` (the card that shows its top 100). "
    "See docs/dashboard.md.",
    response_class=HTMLResponse,
)
async def dashboard(request: Request) -> Response:
    return await dashboard_page(request)


_TAB_TITLES = {"pages_tab": "Pages", "utm_tab": "Campaigns (UTM)", "device_tab": "Devices"}


@router.get("/dashboard/card/{param}", include_in_schema=False)
async def tab_card(request: Request, param: str) -> Response:
    """One card with tabs, as HTML, for the state in the query string: the page swaps it
    in when a tab is clicked instead of reloading every card."""
    if param not in TABS:
        return _error_page(request, 404, "No such card", f"no card with tabs {param!r}")
    try:
        # The page always links cards with their app; the store is asked only without one.
        stored = [] if request.query_params.get("app") else await _stored_apps(request)
        state = parse_state(request.query_params.multi_items(), _default_app(request, stored))
        table = await report.load_tab(services(request).store, state, param, _now())
    except (StateError, QueryError) as exc:
        return _error_page(request, 400, "Bad dashboard link", str(exc))
    html = render.page("card.html", state=state, param=param, title=_TAB_TITLES[param], table=table)
    return _html(request, html)


@router.get(
    "/dashboard/realtime",
    tags=_TAGS,
    summary="Unique visitors of the last five minutes, for the dashboard's counter",
)
async def realtime(request: Request, app: str = "default") -> dict[str, Any]:
    visitors = await report.realtime_visitors(services(request).store, app, _now())
    return {"app": app, "visitors": visitors, "minutes": report.REALTIME_MINUTES}


@router.get("/dashboard/static/{name:path}", include_in_schema=False)
async def static_file(request: Request, name: str) -> Response:
    asset = assets.ASSETS.get(name)
    if asset is None:
        return Response(f"no dashboard file {name!r}\n", status_code=404, media_type="text/plain")
    gzipped = asset.gzipped is not None and assets.accepts_gzip(
        request.headers.get("accept-encoding", "")
    )
    versioned = request.query_params.get("v") == asset.digest
    headers = {
        "ETag": asset.etag_gzip if gzipped else asset.etag,
        "Cache-Control": assets.IMMUTABLE if versioned else assets.REVALIDATE,
        "Vary": "Accept-Encoding",
        "X-Content-Type-Options": "nosniff",
    }
    tags = assets.entity_tags(request.headers.get("if-none-match", ""))
    if tags & {"*", asset.etag, asset.etag_gzip}:
        return Response(status_code=304, headers=headers)
    if gzipped and asset.gzipped is not None:
        headers["Content-Encoding"] = "gzip"
        return Response(asset.gzipped, media_type=asset.content_type, headers=headers)
    return Response(asset.body, media_type=asset.content_type, headers=headers)
