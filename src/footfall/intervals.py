"""PostgreSQL-style interval strings ("1 day", "15 minutes", "01:30:00") for time buckets.

Contract 002 passed its `duration` query parameter straight to TimescaleDB's
`time_bucket`; this accepts the forms its clients use and refuses the rest
with a message that lists what is accepted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

ACCEPTED_FORMS = (
    "'N unit' with unit second(s)/sec(s), minute(s)/min(s), hour(s)/hr(s), day(s), "
    "week(s) or month(s) (several may follow each other: '1 day 12 hours'), "
    "or 'HH:MM:SS'"
)

_UNIT_US = {
    "second": 1_000_000,
    "sec": 1_000_000,
    "minute": 60_000_000,
    "min": 60_000_000,
    "hour": 3_600_000_000,
    "hr": 3_600_000_000,
    "day": 86_400_000_000,
    "week": 7 * 86_400_000_000,
}
# A bucket longer than this is refused (DuckDB cannot bucket times before year 1).
MAX_MONTHS = 100 * 12
MAX_MICROSECONDS = 36_525 * 86_400_000_000  # 100 years of days
_PAIR = re.compile(r"(\d+(?:\.\d+)?)\s*([a-z]+)")
_CLOCK = re.compile(r"(\d{1,3}):([0-5]\d):([0-5]\d(?:\.\d+)?)")


class IntervalError(ValueError):
    """The text is not an interval footfall understands."""


@dataclass(frozen=True, slots=True)
class Interval:
    """A bucket width: whole months, or a fixed number of microseconds (never both)."""

    months: int = 0
    microseconds: int = 0


def _unit(word: str) -> str:
    if word.endswith("s") and word[:-1] in (*_UNIT_US, "month", "mon"):
        word = word[:-1]
    if word in ("mon", "month"):
        return "month"
    if word in _UNIT_US:
        return word
    raise KeyError(word)


def parse_interval(text: str) -> Interval:
    """Parse `text`; raise IntervalError naming the value and the accepted forms."""
    normalized = text.strip().lower()
    if not normalized or len(normalized) > 100:
        raise IntervalError(f"invalid interval {text!r}: expected {ACCEPTED_FORMS}")
    months = 0
    micros = 0.0
    rest = normalized
    clock = _CLOCK.search(rest)
    if clock is not None and clock.end() == len(rest):
        hours, minutes, seconds = clock.groups()
        micros += (int(hours) * 3600 + int(minutes) * 60 + float(seconds)) * 1_000_000
        rest = rest[: clock.start()]
    position = 0
    for match in _PAIR.finditer(rest):
        if rest[position : match.start()].strip():
            break
        try:
            unit = _unit(match.group(2))
        except KeyError:
            raise IntervalError(
                f"invalid interval {text!r}: unknown unit {match.group(2)!r}; "
                f"expected {ACCEPTED_FORMS}"
            ) from None
        amount = float(match.group(1))
        if unit == "month":
            if not amount.is_integer():
                raise IntervalError(f"invalid interval {text!r}: months must be whole")
            months += int(min(amount, MAX_MONTHS + 1))
        else:
            micros += amount * _UNIT_US[unit]
        position = match.end()
    if rest[position:].strip():
        raise IntervalError(f"invalid interval {text!r}: expected {ACCEPTED_FORMS}")
    if months and micros:
        raise IntervalError(
            f"invalid interval {text!r}: a bucket is either whole months or a fixed length"
        )
    if months > MAX_MONTHS or micros > MAX_MICROSECONDS:
        raise IntervalError(f"invalid interval {text!r}: it must not be longer than 100 years")
    whole = round(micros)
    if months <= 0 and whole <= 0:
        raise IntervalError(f"invalid interval {text!r}: it must be longer than zero")
    return Interval(months, whole)
