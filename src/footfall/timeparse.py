"""The ISO-8601 times contract 004 accepts, parsed strictly to UTC.

`datetime.fromisoformat` takes far more than the contract promises (dates
alone, week dates, `2024-01-01 12:00`, …); a client that sends one of those
is sending something else by mistake, so it gets a 422 listing what works.
"""

from __future__ import annotations

import datetime as dt
import re

ACCEPTED_FORMATS: tuple[str, ...] = (
    "2024-01-01T12:00:00Z",
    "2024-01-01T12:00:00.123Z",
    "2024-01-01T12:00:00+02:00",
    "2024-01-01T12:00:00 (no offset: taken as UTC)",
)

_ISO = re.compile(
    r"(?P<year>\d{4})-(?P<month>\d{2})-(?P<day>\d{2})"
    r"[Tt](?P<hour>\d{2}):(?P<minute>\d{2}):(?P<second>\d{2})"
    r"(?:\.(?P<fraction>\d{1,9}))?"
    r"(?P<offset>[Zz]|(?P<sign>[+-])(?P<off_hour>\d{2}):(?P<off_minute>\d{2}))?",
    re.ASCII,  # \d is 0-9 only, not every Unicode digit
)

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


class TimeFormatError(ValueError):
    """A time that is not one of ACCEPTED_FORMATS; the message lists them."""

    def __init__(self, text: object, problem: str = "is not an ISO-8601 time") -> None:
        self.text = text
        super().__init__(f"{text!r} {problem}; accepted formats: {', '.join(ACCEPTED_FORMATS)}")


def parse_time(text: str) -> dt.datetime:
    """`text` as an aware UTC datetime; TimeFormatError unless it is an accepted format.

    Fractions finer than a microsecond are truncated.
    """
    if not isinstance(text, str):
        raise TimeFormatError(text, "is not a string")
    match = _ISO.fullmatch(text)
    if match is None:
        raise TimeFormatError(text)
    fraction = (match["fraction"] or "").ljust(6, "0")[:6]
    tz = dt.UTC
    if match["sign"] is not None:
        hours, minutes = int(match["off_hour"]), int(match["off_minute"])
        if hours > 23 or minutes > 59:
            raise TimeFormatError(text, "has an impossible UTC offset")
        offset = dt.timedelta(hours=hours, minutes=minutes)
        tz = dt.timezone(offset if match["sign"] == "+" else -offset)
    try:
        value = dt.datetime(
            int(match["year"]),
            int(match["month"]),
            int(match["day"]),
            int(match["hour"]),
            int(match["minute"]),
            int(match["second"]),
            int(fraction),
            tzinfo=tz,
        ).astimezone(dt.UTC)
    except (ValueError, OverflowError) as exc:
        raise TimeFormatError(text, f"is not a valid date and time ({exc})") from None
    return value


def to_us(value: dt.datetime) -> int:
    """An aware datetime as microseconds since the Unix epoch (the event table's `ts`)."""
    delta = value - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def from_us(us: int) -> dt.datetime:
    """Microseconds since the Unix epoch as an aware UTC datetime."""
    return _EPOCH + dt.timedelta(microseconds=us)


def parse_time_us(text: str) -> int:
    """`parse_time`, as microseconds since the Unix epoch."""
    return to_us(parse_time(text))
