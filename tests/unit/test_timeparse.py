"""The ISO-8601 parser of contract 004 times: what it takes, what it refuses, and how it says so."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from footfall.timeparse import (
    ACCEPTED_FORMATS,
    TimeFormatError,
    from_us,
    parse_time,
    parse_time_us,
    to_us,
)

UTC = dt.UTC


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-01-01T12:00:00Z", dt.datetime(2024, 1, 1, 12, tzinfo=UTC)),
        ("2024-01-01T12:00:00.123Z", dt.datetime(2024, 1, 1, 12, 0, 0, 123000, tzinfo=UTC)),
        ("2024-01-01T12:00:00.123456Z", dt.datetime(2024, 1, 1, 12, 0, 0, 123456, tzinfo=UTC)),
        # Finer than a microsecond: truncated, not rounded.
        ("2024-01-01T12:00:00.123456789Z", dt.datetime(2024, 1, 1, 12, 0, 0, 123456, tzinfo=UTC)),
        ("2024-01-01T12:00:00", dt.datetime(2024, 1, 1, 12, tzinfo=UTC)),
        ("2024-01-01T12:00:00.5", dt.datetime(2024, 1, 1, 12, 0, 0, 500000, tzinfo=UTC)),
        ("2024-01-01T14:00:00+02:00", dt.datetime(2024, 1, 1, 12, tzinfo=UTC)),
        ("2024-01-01T07:30:00-04:30", dt.datetime(2024, 1, 1, 12, tzinfo=UTC)),
        ("2024-01-01T00:30:00+01:00", dt.datetime(2023, 12, 31, 23, 30, tzinfo=UTC)),
        ("2024-01-01T12:00:00+00:00", dt.datetime(2024, 1, 1, 12, tzinfo=UTC)),
        ("2024-01-01t12:00:00z", dt.datetime(2024, 1, 1, 12, tzinfo=UTC)),
        ("2024-02-29T23:59:59Z", dt.datetime(2024, 2, 29, 23, 59, 59, tzinfo=UTC)),
    ],
)
def test_accepted_formats_parse_to_utc(text: str, expected: dt.datetime) -> None:
    parsed = parse_time(text)
    assert parsed == expected
    assert parsed.tzinfo == UTC


@pytest.mark.parametrize(
    "text",
    [
        "",
        "2024-01-01",
        "2024-01-01 12:00:00",  # space instead of T
        "2024/01/01T12:00:00Z",
        "2024-01-01T12:00Z",  # no seconds
        "2024-01-01T12:00:00.Z",
        "2024-01-01T12:00:00+0200",
        "2024-01-01T12:00:00+02",
        "2024-01-01T12:00:00 Z",
        "20240101T120000Z",
        "2024-W01-1T12:00:00Z",
        "yesterday",
        "1704110400",
        " 2024-01-01T12:00:00Z",
        "2024-01-01T12:00:00Z ",
        "2024-13-01T12:00:00Z",  # month 13
        "2023-02-29T12:00:00Z",  # not a leap year
        "2024-01-01T24:00:00Z",
        "2024-01-01T12:60:00Z",
        "2024-01-01T12:00:00+24:00",
        "0000-01-01T00:00:00Z",
        "٢٠٢٤-01-01T12:00:00Z",  # non-ASCII digits
    ],
)
def test_everything_else_is_refused_with_the_accepted_formats_listed(text: str) -> None:
    with pytest.raises(TimeFormatError) as caught:
        parse_time(text)
    message = str(caught.value)
    assert repr(text) in message
    for example in ACCEPTED_FORMATS:
        assert example in message


def test_a_non_string_is_refused() -> None:
    with pytest.raises(TimeFormatError, match="not a string"):
        parse_time(1704110400)  # type: ignore[arg-type]


def test_the_error_is_a_value_error() -> None:
    # pydantic turns a ValueError raised by a validator into a 422 naming the field.
    assert issubclass(TimeFormatError, ValueError)


def test_microseconds_since_the_epoch() -> None:
    assert parse_time_us("1970-01-01T00:00:00Z") == 0
    assert parse_time_us("1970-01-01T00:00:01.000001Z") == 1_000_001
    assert parse_time_us("2024-01-01T12:00:00Z") == 1_704_110_400_000_000
    assert parse_time_us("1969-12-31T23:59:59Z") == -1_000_000


@given(
    st.datetimes(
        min_value=dt.datetime(1900, 1, 1),
        max_value=dt.datetime(2200, 1, 1),
        timezones=st.just(UTC),
    ),
    st.sampled_from(["Z", "+00:00", ""]),
)
def test_any_utc_time_written_in_an_accepted_format_round_trips(
    value: dt.datetime, suffix: str
) -> None:
    text = value.replace(tzinfo=None).isoformat(timespec="microseconds") + suffix
    assert parse_time(text) == value
    assert from_us(to_us(value)) == value


@given(
    st.datetimes(
        min_value=dt.datetime(1900, 1, 2),
        max_value=dt.datetime(2200, 1, 1),
        timezones=st.just(UTC),
    ),
    st.integers(min_value=-23 * 60 - 59, max_value=23 * 60 + 59),
)
def test_offsets_are_converted_to_utc(value: dt.datetime, offset_minutes: int) -> None:
    zone = dt.timezone(dt.timedelta(minutes=offset_minutes))
    local = value.astimezone(zone)
    sign = "-" if offset_minutes < 0 else "+"
    hours, minutes = divmod(abs(offset_minutes), 60)
    text = local.replace(tzinfo=None).isoformat(timespec="seconds") + (
        f"{sign}{hours:02d}:{minutes:02d}"
    )
    assert parse_time(text) == value.replace(microsecond=0)
