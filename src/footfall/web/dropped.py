"""`GET /api/v1/dropped`: how many events were dropped on purpose, by app, day and reason."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi import Query as Param
from starlette.concurrency import run_in_threadpool

from footfall.drops import REASONS
from footfall.query.daterange import DateRange, resolve_date_range
from footfall.web.deps import services

router = APIRouter(tags=["footfall query"])

_EXAMPLE = {
    "date_range": ["2026-11-17T00:00:00Z", None],
    "dropped": [{"app": "example.com", "day": "2026-11-23", "reason": "bot", "events": 412}],
    "totals": {"bot": 412},
    "reasons": REASONS,
}


def _days(date_range: DateRange) -> tuple[dt.date | None, dt.date | None]:
    """The whole UTC days that [start, end) touches, as [first day, day after the last)."""
    start = date_range.start.date() if date_range.start is not None else None
    end = None
    if date_range.end is not None:
        end = (date_range.end - dt.timedelta(microseconds=1)).date() + dt.timedelta(days=1)
    return start, end


@router.get(
    "/api/v1/dropped",
    summary="Events dropped on purpose (bots, unlisted apps, referrer spam)",
    description="Counts by app, UTC day and reason, for whole days of `date_range` (a preset "
    "— today, 24h, 7d, 30d, month, 12mo, all — or `from,to`). Such events are answered like "
    "stored ones (Plausible's `x-plausible-dropped`, Umami's `beep: boop`) and kept out of "
    "every statistic; this is where they are counted.",
    responses={200: {"content": {"application/json": {"example": _EXAMPLE}}}},
)
async def dropped_events(
    request: Request,
    app: str | None = Param(None, description="Only this app; all apps when omitted."),
    date_range: str = Param("30d", description="A preset or `from,to` (ISO dates)."),
) -> dict[str, Any]:
    try:
        resolved = resolve_date_range(date_range.split(",") if "," in date_range else date_range)
    except ValueError as exc:
        raise HTTPException(400, str(exc)) from None
    start, end = _days(resolved)
    counts = await run_in_threadpool(services(request).drops.counts, app, start, end)
    totals: Counter[str] = Counter()
    for _app, _day, reason, n in counts:
        totals[reason] += n
    return {
        "date_range": resolved.as_json(),
        "dropped": [
            {"app": a, "day": day.isoformat(), "reason": reason, "events": n}
            for a, day, reason, n in counts
        ],
        "totals": dict(sorted(totals.items())),
        "reasons": REASONS,
    }
