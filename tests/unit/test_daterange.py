"""Date range presets and explicit [from, to] ranges, resolved to half-open UTC intervals."""

from __future__ import annotations

import datetime as dt

import pytest

from footfall.query.daterange import DateRange, format_utc, parse_instant, resolve_date_range

UTC = dt.UTC
NOW = dt.datetime(2024, 3, 14, 15, 42, 7, 123456, tzinfo=UTC)


def naive(*args: int) -> dt.datetime:
    return dt.datetime(*args)  # footfall keeps ranges as naive UTC


@pytest.mark.parametrize(
    ("preset", "start"),
    [
        ("today", naive(2024, 3, 14)),
        ("24h", naive(2024, 3, 13, 15, 42, 7, 123456)),
        ("7d", naive(2024, 3, 8)),
        ("30d", naive(2024, 2, 14)),
        ("month", naive(2024, 3, 1)),
        ("12mo", naive(2023, 4, 1)),
        ("all", None),
    ],
)
def test_presets(preset: str, start: dt.datetime | None) -> None:
    assert resolve_date_range(preset, NOW) == DateRange(start, None)


@pytest.mark.parametrize(
    ("now", "start"),
    [
        (dt.datetime(2024, 1, 15, tzinfo=UTC), naive(2023, 2, 1)),
        (dt.datetime(2024, 11, 30, tzinfo=UTC), naive(2023, 12, 1)),
        (dt.datetime(2024, 12, 31, 23, 59, tzinfo=UTC), naive(2024, 1, 1)),
    ],
)
def test_12mo_is_this_month_and_the_eleven_before(now: dt.datetime, start: dt.datetime) -> None:
    assert resolve_date_range("12mo", now).start == start


def test_30d_and_7d_cross_months_and_leap_days() -> None:
    now = dt.datetime(2024, 3, 2, 8, tzinfo=UTC)
    assert resolve_date_range("7d", now).start == naive(2024, 2, 25)
    assert resolve_date_range("30d", now).start == naive(2024, 2, 2)
    assert resolve_date_range("month", now).start == naive(2024, 3, 1)


def test_now_in_another_zone_or_naive_is_the_same_instant() -> None:
    eastern = NOW.astimezone(dt.timezone(dt.timedelta(hours=-5)))
    tokyo = NOW.astimezone(dt.timezone(dt.timedelta(hours=9)))
    for preset in ("today", "24h", "7d", "month"):
        expected = resolve_date_range(preset, NOW)
        assert resolve_date_range(preset, eastern) == expected
        assert resolve_date_range(preset, tokyo) == expected
        # A naive `now` is UTC, whatever the machine's local zone.
        assert resolve_date_range(preset, NOW.replace(tzinfo=None)) == expected


def test_without_now_the_clock_is_used() -> None:
    today = dt.datetime.now(UTC).replace(tzinfo=None, hour=0, minute=0, second=0, microsecond=0)
    assert resolve_date_range("today").start in (today, today + dt.timedelta(days=1))


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        (["2024-03-01", "2024-03-31"], DateRange(naive(2024, 3, 1), naive(2024, 4, 1))),
        (["2024-03-05", "2024-03-05"], DateRange(naive(2024, 3, 5), naive(2024, 3, 6))),
        (
            ["2024-03-01T10:00:00Z", "2024-03-01T12:00:00Z"],
            DateRange(naive(2024, 3, 1, 10), naive(2024, 3, 1, 12, 0, 0, 1)),
        ),
        (
            ["2024-03-01T10:00:00+02:00", "2024-03-01T12:30:00-01:00"],
            DateRange(naive(2024, 3, 1, 8), naive(2024, 3, 1, 13, 30, 0, 1)),
        ),
        (  # naive timestamps are UTC
            ["2024-03-01T10:00:00", "2024-03-02"],
            DateRange(naive(2024, 3, 1, 10), naive(2024, 3, 3)),
        ),
        (["2024-02-29", "2024-02-29"], DateRange(naive(2024, 2, 29), naive(2024, 3, 1))),
    ],
)
def test_explicit_ranges_include_their_end(spec: list[str], expected: DateRange) -> None:
    assert resolve_date_range(spec, NOW) == expected


@pytest.mark.parametrize(
    ("spec", "named"),
    [
        ("yesterday", "yesterday"),
        ("", "unknown date_range"),
        (["2024-03-01"], "[from, to]"),
        (["2024-03-01", "2024-03-02", "2024-03-03"], "[from, to]"),
        (["2024-03-10", "2024-03-01"], "ends before it starts"),
        (["2024-03-01T12:00:00Z", "2024-03-01T11:00:00Z"], "ends before it starts"),
        (["2023-02-29", "2023-03-01"], "2023-02-29"),
        (["03/01/2024", "2024-03-02"], "03/01/2024"),
        (["2024-03-01", "soon"], "soon"),
    ],
)
def test_bad_ranges_name_the_problem(spec: str | list[str], named: str) -> None:
    with pytest.raises(ValueError) as info:
        resolve_date_range(spec, NOW)
    assert named in str(info.value)


def test_parse_instant_and_format() -> None:
    assert parse_instant("2024-03-01", end_of_day=False) == naive(2024, 3, 1)
    assert parse_instant("2024-03-01", end_of_day=True) == naive(2024, 3, 2)
    assert parse_instant("2024-03-01T00:00:00Z", end_of_day=False) == naive(2024, 3, 1)
    assert format_utc(naive(2024, 3, 1, 8)) == "2024-03-01T08:00:00Z"
    assert format_utc(dt.datetime(2024, 3, 1, 10, tzinfo=dt.timezone(dt.timedelta(hours=2)))) == (
        "2024-03-01T08:00:00Z"
    )
    assert format_utc(None) is None
    assert DateRange(naive(2024, 3, 1), None).as_json() == ["2024-03-01T00:00:00Z", None]
