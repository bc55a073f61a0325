"""What every compatibility router needs: write events through the writer, read through Query."""

from __future__ import annotations

import datetime as dt
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from footfall.model import Event
from footfall.query.model import Query
from footfall.query.runner import run_query
from footfall.web.client import client_ip
from footfall.web.deps import services


def request_ip(request: Request) -> str | None:
    return client_ip(request, services(request).settings.trusted_proxies)


async def record(
    request: Request, event: Event, *, ip: str | None = None, user_agent: str | None = None
) -> int:
    """Enrich `event`, wait until it is durable, return its store-wide `seq`.

    `ip`/`user_agent` default to the request's own client address and header.
    """
    svc = services(request)
    svc.enricher.enrich(
        event,
        ip=ip if ip is not None else request_ip(request),
        user_agent=user_agent if user_agent is not None else request.headers.get("user-agent"),
    )
    (seq,) = await svc.writer.write([event])
    assert seq is not None  # server-generated ids are never duplicates
    return seq


async def ask(request: Request, query: Query, now: dt.datetime | None = None) -> list[Any]:
    """Run `query` off the event loop and return its result rows."""
    answer = await run_in_threadpool(run_query, services(request).store, query, now)
    results: list[Any] = answer["results"]
    return results


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def iso_z(value: dt.datetime) -> str:
    """ISO-8601 UTC with an explicit Z and microseconds, as every contract answer has."""
    naive = value.astimezone(dt.UTC).replace(tzinfo=None) if value.tzinfo else value
    return naive.isoformat(timespec="microseconds") + "Z"


def since(delta: dt.timedelta, now: dt.datetime) -> list[str]:
    """A date_range from `now - delta` to `now` (inclusive), as the Query model takes it."""
    return [(now - delta).isoformat(), now.isoformat()]
