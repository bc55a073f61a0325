"""A dashboard period as Query date ranges: the current one, the one it is compared
with, and the time buckets of its chart. Times are UTC, like every footfall query."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from footfall.dashboard.state import PERIODS, DashboardState

_FIXED_DAYS = {"today": 1, "7d": 7, "30d": 30, "90d": 90}


@dataclass(frozen=True, slots=True)
class Window:
    label: str
    start: dt.date
    end: dt.date  # inclusive
    date_range: str | list[str]  # for Query.date_range
    previous: list[str] | None  # the period before, as long as the elapsed part of this
    # one; None for all time
    granularity: str  # hour, day, week or month
    buckets: tuple[dt.datetime, ...]  # every chart bucket up to now, for filling gaps


def _months_back(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 - months
    return dt.date(index // 12, index % 12 + 1, 1)


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day)


def _granularity(days: int) -> str:
    if days <= 2:
        return "hour"
    if days <= 100:
        return "day"
    if days <= 400:
        return "week"
    return "month"


def _bucket_start(at: dt.datetime, granularity: str) -> dt.datetime:
    if granularity == "hour":
        return at.replace(minute=0, second=0, microsecond=0)
    day = _midnight(at.date())
    if granularity == "day":
        return day
    if granularity == "week":  # ISO weeks start on Monday, as the store's date_trunc
        return day - dt.timedelta(days=day.weekday())
    return day.replace(day=1)


def _next_bucket(at: dt.datetime, granularity: str) -> dt.datetime:
    if granularity == "hour":
        return at + dt.timedelta(hours=1)
    if granularity == "day":
        return at + dt.timedelta(days=1)
    if granularity == "week":
        return at + dt.timedelta(days=7)
    return _midnight(_months_back(at.date(), -1))


def _buckets(start: dt.datetime, stop: dt.datetime, granularity: str) -> tuple[dt.datetime, ...]:
    out = []
    at = _bucket_start(start, granularity)
    while at < stop:
        out.append(at)
        at = _next_bucket(at, granularity)
    return tuple(out)


def _iso(at: dt.datetime) -> str:
    return at.isoformat(timespec="microseconds")


def window(state: DashboardState, now: dt.datetime, first_day: dt.date | None = None) -> Window:
    """`now` is naive UTC; `first_day` is the day of the app's first event ("all" only)."""
    today = now.date()
    if state.period == "all":
        start = min(first_day or today, today)
        span = (today - start).days + 1
        return Window(
            label=PERIODS["all"],
            start=start,
            end=today,
            date_range="all",
            previous=None,
            granularity=_granularity(span),
            buckets=_buckets(_midnight(start), now + dt.timedelta(seconds=1), _granularity(span)),
        )
    if state.period == "custom":
        assert state.start is not None and state.end is not None
        start, end = state.start, state.end
        days = (end - start).days + 1
        previous_start = start - dt.timedelta(days=days)
    elif state.period == "month":
        start, end = today.replace(day=1), today
        previous_start = _months_back(start, 1)
    elif state.period == "12mo":
        start, end = _months_back(today, 11), today
        previous_start = _months_back(start, 12)
    else:
        days = _FIXED_DAYS[state.period]
        start, end = today - dt.timedelta(days=days - 1), today
        previous_start = start - dt.timedelta(days=days)

    # A period running up to now is compared with as much of the previous one as has
    # elapsed of it (today until 11:00 against yesterday until 11:00), as Plausible does.
    first, after = _midnight(start), _midnight(end) + dt.timedelta(days=1)
    elapsed = (min(now, after) if start <= today else after) - first
    elapsed = max(elapsed, dt.timedelta(seconds=1))  # at midnight sharp, not an empty range
    previous_first = _midnight(previous_start)
    previous_end = min(previous_first + elapsed, first)
    span_days = (end - start).days + 1
    granularity = "month" if state.period == "12mo" else _granularity(span_days)
    chart_stop = min(after, now + dt.timedelta(seconds=1)) if start <= today else after
    return Window(
        label=PERIODS[state.period]
        if state.period != "custom"
        else f"{start.isoformat()} to {end.isoformat()}",
        start=start,
        end=end,
        date_range=[start.isoformat(), end.isoformat()],
        # The end is exclusive in meaning; the Query reads a timestamp end as inclusive,
        # so step back one microsecond.
        previous=[_iso(previous_first), _iso(previous_end - dt.timedelta(microseconds=1))],
        granularity=granularity,
        buckets=_buckets(first, chart_stop, granularity),
    )
