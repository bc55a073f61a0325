"""The PostgreSQL-style interval parser behind contract 002's `duration` (and `time:bucket:`)."""

from __future__ import annotations

import pytest

from footfall.intervals import (
    ACCEPTED_FORMS,
    MAX_MICROSECONDS,
    MAX_MONTHS,
    Interval,
    IntervalError,
    parse_interval,
)

SECOND = 1_000_000
MINUTE = 60 * SECOND
HOUR = 60 * MINUTE
DAY = 24 * HOUR
WEEK = 7 * DAY


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # The forms contracts/README.md names, as 002's clients write them.
        ("1 day", Interval(microseconds=DAY)),
        ("1 hour", Interval(microseconds=HOUR)),
        ("2 hours", Interval(microseconds=2 * HOUR)),
        ("30 min", Interval(microseconds=30 * MINUTE)),
        ("1 hr", Interval(microseconds=HOUR)),
        ("10 sec", Interval(microseconds=10 * SECOND)),
        ("1 week", Interval(microseconds=WEEK)),
        ("1 month", Interval(months=1)),
        ("01:30:00", Interval(microseconds=90 * MINUTE)),
        # Plurals and abbreviations of every unit.
        ("1 second", Interval(microseconds=SECOND)),
        ("5 seconds", Interval(microseconds=5 * SECOND)),
        ("3 secs", Interval(microseconds=3 * SECOND)),
        ("1 minute", Interval(microseconds=MINUTE)),
        ("15 minutes", Interval(microseconds=15 * MINUTE)),
        ("5 mins", Interval(microseconds=5 * MINUTE)),
        ("2 hrs", Interval(microseconds=2 * HOUR)),
        ("7 days", Interval(microseconds=7 * DAY)),
        ("2 weeks", Interval(microseconds=2 * WEEK)),
        ("3 months", Interval(months=3)),
        ("1 mon", Interval(months=1)),
        ("2 mons", Interval(months=2)),
        # What PostgreSQL also takes: case, spacing, fractions, sums, a clock after units.
        ("1 DAY", Interval(microseconds=DAY)),
        ("  1 day  ", Interval(microseconds=DAY)),
        ("1day", Interval(microseconds=DAY)),
        ("1.5 hours", Interval(microseconds=90 * MINUTE)),
        ("0.1 sec", Interval(microseconds=SECOND // 10)),
        ("1 day 12 hours", Interval(microseconds=36 * HOUR)),
        ("1 day 01:00:00", Interval(microseconds=25 * HOUR)),
        ("00:00:10", Interval(microseconds=10 * SECOND)),
        ("00:00:00.5", Interval(microseconds=SECOND // 2)),
        ("100:00:00", Interval(microseconds=100 * HOUR)),
        # The longest bucket accepted: 100 years.
        ("1200 months", Interval(months=MAX_MONTHS)),
        ("36525 days", Interval(microseconds=MAX_MICROSECONDS)),
    ],
)
def test_accepted_forms(text: str, expected: Interval) -> None:
    assert parse_interval(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "bogus",
        "day",  # no amount
        "1",  # no unit
        "1 fortnight",
        "1 year",  # not one of the contract's units
        "1 microsecond",
        "1 millisecond",
        "-1 day",
        "0 days",
        "00:00:00",
        "0.0000001 sec",  # rounds to nothing
        "1.5 months",
        "1 month 1 day",  # neither whole months nor a fixed length
        "01:60:00",
        "1:30",
        "1 hour 30",
        "1 day,2 hours",
        "1 days ago",
        "@ 1 day",
        "P1D",
        "1201 months",
        "36526 days",
        "100000000 weeks",  # would overflow the store's BIGINT microseconds
        "99999999999999 months",
        "9" * 99 + " seconds",
        "1 " + "x" * 200,
    ],
)
def test_rejected_forms_name_the_value(text: str) -> None:
    with pytest.raises(IntervalError) as caught:
        parse_interval(text)
    assert repr(text) in str(caught.value)


def test_rejection_lists_the_accepted_forms() -> None:
    with pytest.raises(IntervalError) as caught:
        parse_interval("1 fortnight")
    message = str(caught.value)
    assert "'fortnight'" in message
    assert ACCEPTED_FORMS in message
    for unit in ("second", "minute", "hour", "day", "week", "month", "HH:MM:SS"):
        assert unit in message


def test_interval_error_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="invalid interval"):
        parse_interval("nope")


def test_too_long_and_not_positive_say_why() -> None:
    with pytest.raises(IntervalError, match="100 years"):
        parse_interval("1300 months")
    with pytest.raises(IntervalError, match="100 years"):
        parse_interval("6000 weeks")
    with pytest.raises(IntervalError, match="longer than zero"):
        parse_interval("0 hours")
    with pytest.raises(IntervalError, match="whole"):
        parse_interval("0.5 month")
