"""Date range presets and explicit ranges, resolved to a half-open UTC interval."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

PRESETS = ("today", "24h", "7d", "30d", "month", "12mo", "all")


@dataclass(frozen=True, slots=True)
class DateRange:
    """[start, end) in naive UTC; None means unbounded on that side."""

    start: dt.datetime | None
    end: dt.datetime | None

    def as_json(self) -> list[str | None]:
        return [format_utc(self.start), format_utc(self.end)]


def format_utc(value: dt.datetime | None) -> str | None:
    """ISO-8601 with an explicit Z, as every timestamp footfall returns."""
    if value is None:
        return None
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC).replace(tzinfo=None)
    return value.isoformat() + "Z"


def parse_instant(text: str, *, end_of_day: bool) -> dt.datetime:
    """An ISO date or timestamp as naive UTC. A date used as an end covers the whole day."""
    try:
        if len(text) == 10:
            day = dt.date.fromisoformat(text)
            start = dt.datetime(day.year, day.month, day.day)
            return start + dt.timedelta(days=1) if end_of_day else start
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(
            f"invalid date {text!r}: use YYYY-MM-DD or an ISO-8601 timestamp"
        ) from None
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC).replace(tzinfo=None)
    return value + dt.timedelta(microseconds=1) if end_of_day else value


def resolve_date_range(spec: str | list[str], now: dt.datetime | None = None) -> DateRange:
    """Turn a preset or an explicit [from, to] into a DateRange (to is inclusive)."""
    now = now or dt.datetime.now(dt.UTC)
    if now.tzinfo is not None:
        # A naive `now` is already UTC, like every naive time footfall handles;
        # astimezone() would read it as the machine's local time.
        now = now.astimezone(dt.UTC).replace(tzinfo=None)
    # Presets run up to "now" and beyond: events of clients whose clocks run a
    # little fast (accepted within a bounded skew) must not vanish from "today".
    end = None
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    if isinstance(spec, list):
        if len(spec) != 2 or not all(isinstance(part, str) for part in spec):
            raise ValueError("date_range as a list must be [from, to]")
        start_at = parse_instant(spec[0], end_of_day=False)
        end_at = parse_instant(spec[1], end_of_day=True)
        if end_at <= start_at:
            raise ValueError(f"date_range ends before it starts: {spec!r}")
        return DateRange(start_at, end_at)
    if spec == "today":
        return DateRange(midnight, end)
    if spec == "24h":
        return DateRange(now - dt.timedelta(hours=24), end)
    if spec == "7d":
        return DateRange(midnight - dt.timedelta(days=6), end)
    if spec == "30d":
        return DateRange(midnight - dt.timedelta(days=29), end)
    if spec == "month":
        return DateRange(midnight.replace(day=1), end)
    if spec == "12mo":
        first = midnight.replace(day=1)
        year, month = (
            (first.year, first.month - 11)
            if first.month > 11
            else (first.year - 1, first.month + 1)
        )
        return DateRange(first.replace(year=year, month=month), end)
    if spec == "all":
        return DateRange(None, None)
    raise ValueError(f"unknown date_range {spec!r}; use one of {', '.join(PRESETS)} or [from, to]")
