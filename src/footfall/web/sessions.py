"""Contract 004: JWT-authenticated page tracking and session lifecycle (`/api/v1/...`).

Thin adapters, as every contract router: a page track is a `pageview` event
(path = page, duration = timespent, user = the token's `sub`); a session is
its `session_start/pause/resume/end` events, validated and replayed by the
pure state machine in `footfall.sessions`. Counts come from the typed Query;
only what depends on the order of a session's events is replayed from the
rows `footfall.sessions_store` reads.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import uuid
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Callable, Hashable
from contextlib import asynccontextmanager
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Body, Depends, FastAPI, HTTPException, Request
from fastapi import Query as Param
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool
from starlette.responses import JSONResponse

from footfall import sessions as lifecycle
from footfall.auth import JWTVerifier, TokenRejected, verifier_from_settings
from footfall.model import DEFAULT_APP, PAGEVIEW, Event, now_us
from footfall.query.daterange import DateRange
from footfall.query.model import MAX_LIMIT, Query, resolve
from footfall.query.runner import run_resolved
from footfall.sessions import Action, Session
from footfall.sessions_store import lifecycle_events
from footfall.storage.base import Store
from footfall.timeparse import TimeFormatError, from_us, parse_time, to_us
from footfall.web.adapters import iso_z, record
from footfall.web.deps import services
from footfall.web.session_models import (
    ActiveDay,
    AppRequest,
    HeatmapData,
    HeatmapDateRange,
    HeatmapResponse,
    HourCount,
    MessageResponse,
    MostActiveResponse,
    PageSeconds,
    PageStatsResponse,
    PageTrackRequest,
    PageTrackResponse,
    ReadRequest,
    SessionRequest,
    SessionStartResponse,
    SessionStatsResponse,
    SessionSummaryResponse,
    TimeSpent,
    TokenInfoResponse,
    ValidateTokenResponse,
)


class KeyedLocks:
    """One asyncio.Lock per key, forgotten once nobody holds or waits for it."""

    def __init__(self) -> None:
        self._locks: dict[Hashable, tuple[asyncio.Lock, list[int]]] = {}

    @asynccontextmanager
    async def hold(self, key: Hashable) -> AsyncIterator[None]:
        lock, users = self._locks.setdefault(key, (asyncio.Lock(), [0]))
        users[0] += 1
        try:
            async with lock:
                yield
        finally:
            users[0] -= 1
            if users[0] == 0:
                del self._locks[key]

    def __len__(self) -> int:
        return len(self._locks)


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    # Runs after the app's own lifespan has started the services. Generating the
    # secret here (not on the first request) makes it exist from the first start.
    settings = app.state.services.settings
    app.state.jwt_verifier = await run_in_threadpool(verifier_from_settings, settings)
    app.state.session_locks = KeyedLocks()
    yield


TAG = "004 sessions and page tracking"
router = APIRouter(tags=[TAG], lifespan=_lifespan)

# --- authentication ----------------------------------------------------------

_bearer = HTTPBearer(
    auto_error=False,
    description="A JWT with `sub` (the user) and `exp`: HS256 signed with FOOTFALL_JWT_SECRET "
    "(or the generated secret; `footfall token --user NAME` mints one), or RS256/ES256 "
    "verified with FOOTFALL_JWT_PUBLIC_KEY.",
)


def _unauthorized(reason: str) -> HTTPException:
    return HTTPException(401, detail=reason, headers={"WWW-Authenticate": "Bearer"})


def _verifier(request: Request) -> JWTVerifier:
    verifier: JWTVerifier | None = getattr(request.app.state, "jwt_verifier", None)
    if verifier is None:  # an app whose router lifespan did not run
        verifier = verifier_from_settings(services(request).settings)
        request.app.state.jwt_verifier = verifier
    return verifier


async def token_claims(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> dict[str, Any]:
    """The verified claims of the request's bearer token, or a 401 saying what is wrong."""
    if credentials is None:
        raise _unauthorized("not authenticated: send `Authorization: Bearer <JWT>`")
    try:
        return _verifier(request).verify(credentials.credentials)
    except TokenRejected as exc:
        raise _unauthorized(str(exc)) from None


Claims = Annotated[dict[str, Any], Depends(token_claims)]


def _check_app(claims: dict[str, Any], app: str) -> None:
    """A token minted for one app (`app` claim) never reads or writes another."""
    allowed = claims.get("app")
    if isinstance(allowed, str) and allowed != app:
        raise HTTPException(403, detail=f"this token is for app {allowed!r}, not {app!r}")


_AUTH_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {
        "description": "Missing, malformed, forged or expired token (`WWW-Authenticate: Bearer`).",
        "content": {"application/json": {"example": {"detail": "token has expired"}}},
    },
    403: {"description": "The token is limited to another app."},
}


def _validate_token(claims: dict[str, Any], app: str) -> ValidateTokenResponse:
    _check_app(claims, app)
    return ValidateTokenResponse(valid=True, user=claims["sub"], message="Token is valid")


def _token_info(claims: dict[str, Any], app: str) -> TokenInfoResponse:
    _check_app(claims, app)
    return TokenInfoResponse(
        user=claims["sub"], payload=claims, message="Token information retrieved successfully"
    )


@router.post(
    "/api/v1/auth/validate-token",
    summary="Validate the bearer token",
    responses=_AUTH_RESPONSES,
)
async def validate_token_post(
    claims: Claims, body: Annotated[AppRequest | None, Body()] = None
) -> ValidateTokenResponse:
    return _validate_token(claims, (body or AppRequest()).app)


@router.get(
    "/api/v1/auth/validate-token",
    summary="Validate the bearer token",
    responses=_AUTH_RESPONSES,
)
async def validate_token_get(
    claims: Claims, app: Annotated[str, Param(min_length=1)] = DEFAULT_APP
) -> ValidateTokenResponse:
    return _validate_token(claims, app)


@router.post(
    "/api/v1/auth/token-info",
    summary="The bearer token's user and verified claims",
    responses=_AUTH_RESPONSES,
)
async def token_info_post(
    claims: Claims, body: Annotated[AppRequest | None, Body()] = None
) -> TokenInfoResponse:
    return _token_info(claims, (body or AppRequest()).app)


@router.get(
    "/api/v1/auth/token-info",
    summary="The bearer token's user and verified claims",
    responses=_AUTH_RESPONSES,
)
async def token_info_get(
    claims: Claims, app: Annotated[str, Param(min_length=1)] = DEFAULT_APP
) -> TokenInfoResponse:
    return _token_info(claims, app)


# --- page tracking -------------------------------------------------------------


@router.post(
    "/api/v1/page_track",
    summary="Track a page visit and the time spent on it",
    description="Stored as a `pageview` event (path = page, duration = timespent) of the "
    "token's user, so it counts in every other statistic too.",
    responses=_AUTH_RESPONSES,
)
async def page_track(request: Request, claims: Claims, body: PageTrackRequest) -> PageTrackResponse:
    _check_app(claims, body.app)
    event = Event(
        app=body.app,
        name=PAGEVIEW,
        ts=now_us(),
        user_id=claims["sub"],
        path=body.page,
        duration=float(body.timespent),
    )
    await record(request, event)
    return PageTrackResponse(
        message="Page tracked successfully",
        page=body.page,
        timespent=body.timespent,
        timestamp=iso_z(from_us(event.ts)),
    )


def _user_filter(user: str | None) -> list[list[Any]]:
    if user is None or user == "all":
        return []
    return [["is", "user_id", [user]]]


def _run_since(store: Store, query: Query, start: dt.datetime | None) -> list[dict[str, Any]]:
    """Run `query` over [start, ∞): windows of contract 004 are rolling ("the last 30 days")
    and open-ended, so a client whose clock runs a little fast still sees its own events."""
    resolved = dataclasses.replace(resolve(query), date_range=DateRange(_naive(start), None))
    return run_resolved(store, resolved)


def _naive(value: dt.datetime | None) -> dt.datetime | None:
    return None if value is None else value.astimezone(dt.UTC).replace(tzinfo=None)


def _seconds(value: Any) -> int | float:
    """A sum of seconds as the contract's clients expect it: whole numbers stay integers."""
    number = float(value or 0)
    return int(number) if number.is_integer() else number


def _page_stats(store: Store, app: str, user: str | None, now: dt.datetime) -> PageStatsResponse:
    query = Query(
        app=app,
        date_range="all",
        metrics=["pageviews", "total_duration"],
        dimensions=["event:page"],
        filters=[["is", "event:name", [PAGEVIEW]], *_user_filter(user)],
        limit=MAX_LIMIT,
    )
    windows = {
        "last_24hr": now - dt.timedelta(hours=24),
        "last_7days": now - dt.timedelta(days=7),
        "last_1month": now - dt.timedelta(days=30),
        "all_time": None,
    }
    page_counts: dict[str, int] = {}
    time_spent: dict[str, PageSeconds] = {}
    for window, start in windows.items():
        spent: PageSeconds = {}
        for row in _run_since(store, query, start):
            (page,) = row["dimensions"]
            if page is None:  # a visit without a page (contract 001's bodiless POST /visit)
                continue
            views, duration = row["metrics"]
            spent[page] = _seconds(duration)
            if start is None:
                page_counts[page] = views
        time_spent[window] = spent
    return PageStatsResponse(page_counts=page_counts, time_spent=TimeSpent(**time_spent))


async def _read(request: Request, claims: dict[str, Any], app: str) -> Store:
    _check_app(claims, app)
    return services(request).store


# --- session lifecycle -----------------------------------------------------------


class _Conflict(Exception):
    """A transition refused because of the session's state (409)."""

    def __init__(self, message: str, state: str | None, session_id: str | None) -> None:
        super().__init__(message)
        self.state = state
        self.session_id = session_id


class _UnknownSession(Exception):
    """An explicit session_id that is not one of the user's sessions in the app (404)."""


def _find_session(store: Store, body: SessionRequest, action: Action) -> Session:
    """The session `action` applies to: the explicit one, or the user's latest open one."""
    if body.session_id is not None:
        found = lifecycle.replay(lifecycle_events(store, body.app, session_id=body.session_id))
        if found is None or found.user != body.username:
            raise _UnknownSession(
                f"no session {body.session_id!r} of user {body.username!r} in app {body.app!r}"
            )
        return found
    sessions = lifecycle.replay_all(
        lifecycle_events(store, body.app, user=body.username, open_only=True)
    )
    current = lifecycle.latest_open(sessions)
    if current is not None:
        return current
    # No open session: name the state of the latest one (ended), or say there is none.
    every = lifecycle.replay_all(lifecycle_events(store, body.app, user=body.username))
    latest = max(every, key=lambda s: s.started_at, default=None)
    if latest is None:
        raise _Conflict(
            f"cannot {action.value}: user {body.username!r} has no session in app "
            f"{body.app!r}; start one with /api/v1/session_start",
            None,
            None,
        )
    raise _Conflict(
        f"cannot {action.value}: user {body.username!r} has no open session in app "
        f"{body.app!r}; the latest, {latest.session_id}, is {latest.state.value}",
        latest.state.value,
        latest.session_id,
    )


def _check_new_id(store: Store, body: SessionRequest) -> str:
    if body.session_id is None:
        return str(uuid.uuid4())
    existing = lifecycle.replay(lifecycle_events(store, body.app, session_id=body.session_id))
    if existing is not None:
        raise _Conflict(
            f"cannot start session {body.session_id}: it already exists and is "
            f"{existing.state.value}",
            existing.state.value,
            existing.session_id,
        )
    return body.session_id


def _time_error(body: SessionRequest, message: str) -> JSONResponse:
    return JSONResponse(
        {
            "detail": [
                {"type": "value_error", "loc": ["body", "time"], "msg": message, "input": body.time}
            ]
        },
        status_code=422,
    )


async def _transition(
    request: Request, claims: dict[str, Any], body: SessionRequest, action: Action
) -> Session | JSONResponse:
    """Validate `action` against the session's state and record it; the new state, or the
    error response (404, 409, 422) saying why not."""
    _check_app(claims, body.app)
    try:
        at = to_us(parse_time(body.time))
    except TimeFormatError as exc:  # validated by the model already; kept for safety
        return _time_error(body, str(exc))
    svc = services(request)
    locks: KeyedLocks = request.app.state.session_locks
    # Two requests for one user must not both pass validation against the same
    # state: the read, the check and the durable write happen under one lock.
    async with locks.hold((body.app, body.username)):
        try:
            if action is Action.START:
                session_id = await run_in_threadpool(_check_new_id, svc.store, body)
                session = lifecycle.start(session_id, body.username, at)
            else:
                current = await run_in_threadpool(_find_session, svc.store, body, action)
                session = lifecycle.apply(current, action, at)
        except _UnknownSession as exc:
            return JSONResponse({"detail": str(exc)}, status_code=404)
        except _Conflict as exc:
            return _conflict(str(exc), exc.state, exc.session_id)
        except lifecycle.IllegalTransition as exc:
            return _conflict(str(exc), exc.state.value, exc.session_id)
        except lifecycle.TimeOutOfOrder as exc:
            return _time_error(
                body,
                f"{body.time} is earlier than the last event of session {exc.session_id} "
                f"at {iso_z(from_us(exc.last_at))}; events of a session must come in time "
                "order",
            )
        props = {"time": body.time, "status": body.status}
        event = Event(
            app=body.app,
            name=action.event_name,
            ts=at,
            user_id=body.username,
            session_id=session.session_id,
            props=orjson.dumps({k: v for k, v in props.items() if v is not None}).decode(),
        )
        await record(request, event)
    return session


def _conflict(message: str, state: str | None, session_id: str | None) -> JSONResponse:
    return JSONResponse(
        {"detail": message, "current_state": state, "session_id": session_id}, status_code=409
    )


_LIFECYCLE_RESPONSES: dict[int | str, dict[str, Any]] = {
    **_AUTH_RESPONSES,
    404: {"description": "The explicit `session_id` is not one of the user's sessions."},
    409: {
        "description": "Illegal transition; `current_state` names the session's state.",
        "content": {
            "application/json": {
                "example": {
                    "detail": "cannot pause session 0199a6b0-…: it is paused (only an active "
                    "session can be paused)",
                    "current_state": "paused",
                    "session_id": "0199a6b0-8f7e-7c3a-9d2e-4b1f0a6c5e21",
                }
            }
        },
    },
    422: {
        "description": "`time` is not ISO-8601 (the accepted formats are listed) or earlier "
        "than the session's last event."
    },
}


def _session_example(time: str, status: str) -> Any:
    return Body(
        openapi_examples={
            "readme": {
                "summary": "The contract's example",
                "value": {"username": "john_doe", "time": time, "status": status},
            }
        }
    )


@router.post(
    "/api/v1/session_start",
    response_model=SessionStartResponse,
    summary="Start a new session",
    responses=_LIFECYCLE_RESPONSES,
)
async def session_start(
    request: Request,
    claims: Claims,
    body: Annotated[SessionRequest, _session_example("2024-01-01T12:00:00Z", "active")],
) -> SessionStartResponse | JSONResponse:
    outcome = await _transition(request, claims, body, Action.START)
    if isinstance(outcome, JSONResponse):
        return outcome
    return SessionStartResponse(
        session_id=outcome.session_id, message="Session started successfully"
    )


async def _act(
    request: Request, claims: dict[str, Any], body: SessionRequest, action: Action, done: str
) -> MessageResponse | JSONResponse:
    outcome = await _transition(request, claims, body, action)
    if isinstance(outcome, JSONResponse):
        return outcome
    return MessageResponse(message=f"Session {done} successfully")


@router.post(
    "/api/v1/session_pause",
    response_model=MessageResponse,
    summary="Pause the user's active session",
    responses=_LIFECYCLE_RESPONSES,
)
async def session_pause(
    request: Request,
    claims: Claims,
    body: Annotated[SessionRequest, _session_example("2024-01-01T12:30:00Z", "paused")],
) -> MessageResponse | JSONResponse:
    return await _act(request, claims, body, Action.PAUSE, "paused")


@router.post(
    "/api/v1/session_resume",
    response_model=MessageResponse,
    summary="Resume the user's paused session",
    responses=_LIFECYCLE_RESPONSES,
)
async def session_resume(
    request: Request,
    claims: Claims,
    body: Annotated[SessionRequest, _session_example("2024-01-01T12:45:00Z", "active")],
) -> MessageResponse | JSONResponse:
    return await _act(request, claims, body, Action.RESUME, "resumed")


@router.post(
    "/api/v1/session_end",
    response_model=MessageResponse,
    summary="End the user's active or paused session",
    responses=_LIFECYCLE_RESPONSES,
)
async def session_end(
    request: Request,
    claims: Claims,
    body: Annotated[SessionRequest, _session_example("2024-01-01T13:00:00Z", "ended")],
) -> MessageResponse | JSONResponse:
    return await _act(request, claims, body, Action.END, "ended")


# --- session statistics ------------------------------------------------------------

_WINDOW = dt.timedelta(days=30)
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def _starts_by_hour(
    store: Store, app: str, user: str | None, now: dt.datetime
) -> list[tuple[dt.datetime, int]]:
    """(hour, sessions started in it) over the last 30 days."""
    query = Query(
        app=app,
        date_range="all",
        metrics=["events"],
        dimensions=["time:hour"],
        filters=[["is", "event:name", [Action.START.event_name]], *_user_filter(user)],
        limit=MAX_LIMIT,
    )
    return [
        (dt.datetime.fromisoformat(row["dimensions"][0]), row["metrics"][0])
        for row in _run_since(store, query, now - _WINDOW)
    ]


def _heatmap(store: Store, app: str, user: str | None, now: dt.datetime) -> HeatmapResponse:
    daily: Counter[str] = Counter()
    weekly: defaultdict[str, Counter[str]] = defaultdict(Counter)
    for hour, count in _starts_by_hour(store, app, user, now):
        daily[hour.date().isoformat()] += count
        weekly[str(hour.weekday())][str(hour.hour)] += count
    days = sorted(daily)
    if days:
        span = HeatmapDateRange(start_date=days[0], end_date=days[-1])
    else:  # nothing yet: the window itself
        span = HeatmapDateRange(
            start_date=(now - _WINDOW).date().isoformat(), end_date=now.date().isoformat()
        )
    return HeatmapResponse(
        heatmap_data=HeatmapData(
            daily_sessions={day: daily[day] for day in days},
            weekly_hourly={
                weekday: {h: hours[h] for h in sorted(hours, key=int)}
                for weekday, hours in sorted(weekly.items())
            },
            total_sessions=sum(daily.values()),
            total_days_with_activity=len(days),
            date_range=span,
        )
    )


def _most_active(store: Store, app: str, user: str | None, now: dt.datetime) -> MostActiveResponse:
    by_day: defaultdict[dt.date, Counter[int]] = defaultdict(Counter)
    for hour, count in _starts_by_hour(store, app, user, now):
        by_day[hour.date()][hour.hour] += count
    # Busiest first; among equals the more recent day, then the earlier hour.
    ranked = sorted(by_day.items(), key=lambda item: (-item[1].total(), -item[0].toordinal()))
    return MostActiveResponse(
        most_active_days=[
            ActiveDay(
                date=day.isoformat(),
                day=WEEKDAYS[day.weekday()],
                count=hours.total(),
                most_active_hours=[
                    HourCount(hour=h, count=n)
                    for h, n in sorted(hours.items(), key=lambda item: (-item[1], item[0]))[:3]
                ],
            )
            for day, hours in ranked[:7]
        ]
    )


def _mean_active_time(sessions: list[Session]) -> float:
    ended = [s.total_active_time for s in sessions if s.state is lifecycle.State.ENDED]
    return round(sum(ended) / len(ended), 2) if ended else 0.0


def _session_stats(
    store: Store, app: str, user: str | None, now: dt.datetime
) -> SessionStatsResponse:
    users_query = Query(
        app=app,
        date_range="all",
        metrics=["users"],
        filters=[["is", "event:name", [Action.START.event_name]], *_user_filter(user)],
    )
    (row,) = _run_since(store, users_query, now - _WINDOW)
    sessions = lifecycle.replay_all(
        lifecycle_events(
            store, app, user=None if user == "all" else user, started_since=now - _WINDOW
        )
    )
    return SessionStatsResponse(
        total_users=row["metrics"][0], avg_session_time=_mean_active_time(sessions)
    )


def _summary(store: Store, app: str, user: str | None) -> SessionSummaryResponse:
    one_user = None if user == "all" else user
    sessions = lifecycle.replay_all(lifecycle_events(store, app, user=one_user))
    ended = sum(1 for s in sessions if s.state is lifecycle.State.ENDED)
    last = max((s.started_at for s in sessions), default=None)
    return SessionSummaryResponse(
        app=app,
        user=one_user or "all",
        total_sessions=len(sessions),
        active_sessions=len(sessions) - ended,
        ended_sessions=ended,
        total_active_time=round(sum(s.total_active_time for s in sessions), 6),
        avg_session_time=_mean_active_time(sessions),
        last_session_at=None if last is None else iso_z(from_us(last)),
    )


StatsBuilder = Callable[[Store, str, str | None, dt.datetime], BaseModel]


def _stats_routes(
    path: str, summary: str, description: str, build: StatsBuilder, model: type[BaseModel]
) -> None:
    """GET (query parameters) and POST (JSON body) on `path`, both answering `build(...)`."""
    name = path.rsplit("/", 1)[-1]

    async def get(
        request: Request,
        claims: Claims,
        app: Annotated[str, Param(min_length=1)] = DEFAULT_APP,
        user: str | None = None,
    ) -> Any:
        store = await _read(request, claims, app)
        return await run_in_threadpool(build, store, app, user, dt.datetime.now(dt.UTC))

    async def post(
        request: Request, claims: Claims, body: Annotated[ReadRequest | None, Body()] = None
    ) -> Any:
        body = body or ReadRequest()
        store = await _read(request, claims, body.app)
        return await run_in_threadpool(build, store, body.app, body.user, dt.datetime.now(dt.UTC))

    for method, endpoint in (("GET", get), ("POST", post)):
        router.add_api_route(
            path,
            endpoint,
            methods=[method],
            response_model=model,
            summary=summary,
            description=description,
            responses=_AUTH_RESPONSES,
            operation_id=f"{name}_{method.lower()}",
        )


_stats_routes(
    "/api/v1/page_stats",
    "Page visit counts and time spent per page",
    "All `pageview` events of the app count, whatever API wrote them. Windows are rolling: "
    "24 hours, 7 days, 30 days (`last_1month`) and all time.",
    _page_stats,
    PageStatsResponse,
)
_stats_routes(
    "/api/v1/session_heatmap",
    "Sessions started per day and per weekday × hour",
    "Over sessions started in the last 30 days (UTC); weekdays count from Monday = 0.",
    _heatmap,
    HeatmapResponse,
)
_stats_routes(
    "/api/v1/session_most_active",
    "The busiest days and their busiest hours",
    "Top 7 days of the last 30 by sessions started, each with its top 3 hours (UTC).",
    _most_active,
    MostActiveResponse,
)
_stats_routes(
    "/api/v1/session_stats",
    "Users and mean active session time",
    "Over sessions started in the last 30 days; `avg_session_time` is the mean "
    "`total_active_time` (pauses excluded) of those that ended.",
    _session_stats,
    SessionStatsResponse,
)


@router.post(
    "/api/sessions/summary",
    summary="Session counts and active time of an app (one user or all)",
    responses=_AUTH_RESPONSES,
)
async def sessions_summary(
    request: Request,
    claims: Claims,
    body: Annotated[ReadRequest | None, Body()] = None,
) -> SessionSummaryResponse:
    body = body or ReadRequest()
    store = await _read(request, claims, body.app)
    return await run_in_threadpool(_summary, store, body.app, body.user)
