"""The dashboard's URL state and periods: pure functions, no store."""

from __future__ import annotations

import datetime as dt
from urllib.parse import parse_qsl

import pytest

from footfall.dashboard import formatting
from footfall.dashboard.periods import window
from footfall.dashboard.state import DashboardState, parse_state, query_filters
from footfall.query.daterange import resolve_date_range

NOW = dt.datetime(2026, 11, 23, 11, 30)  # a Monday


def _state(query: str) -> DashboardState:
    return parse_state(parse_qsl(query, keep_blank_values=True), "default")


def test_a_link_round_trips_through_the_url() -> None:
    state = _state("app=shop&period=custom&from=2026-10-01&to=2026-10-31&page=/a&prop.plan=pro")
    assert state.filters == (("page", "/a"), ("prop.plan", "pro"))
    assert _state(state.href().lstrip("?")) == state


def test_a_row_click_adds_or_replaces_its_filter_and_a_chip_removes_it() -> None:
    state = _state("app=shop&page=/a&event=Signup&props=plan")
    assert state.with_filter("page", "/b").filters == (("event", "Signup"), ("page", "/b"))
    assert state.with_filter("source", "Google").href() == (
        "?app=shop&period=30d&page=%2Fa&event=Signup&source=Google&props=plan"
    )
    # The property breakdown belongs to the event filter: it goes with it.
    assert state.without_filter("event").href() == "?app=shop&period=30d&page=%2Fa"


def test_tabs_are_in_the_url_only_when_not_the_default() -> None:
    state = _state("app=shop&device_tab=os")
    assert state.tab("device_tab") == "os"
    assert state.tab("utm_tab") == "utm_source"
    assert state.with_tab("utm_tab", "utm_medium").href() == (
        "?app=shop&period=30d&device_tab=os&utm_tab=utm_medium"
    )
    assert state.with_tab("device_tab", "browser").href() == "?app=shop&period=30d"


def test_filters_become_query_filters() -> None:
    assert query_filters(_state("source=(none)&country=NL&prop.plan=pro")) == [
        ["matches_not", "visit:source", ["^"]],
        ["is", "visit:country", ["NL"]],
        ["is", "event:props:plan", ["pro"]],
    ]


def test_default_app_and_period() -> None:
    assert _state("") == DashboardState("default", "30d")
    assert _state("app=%20") == DashboardState("default", "30d")


def _bounds(spec: list[str]) -> tuple[dt.datetime | None, dt.datetime | None]:
    resolved = resolve_date_range(spec, NOW)
    return resolved.start, resolved.end


def test_last_7_days_compares_with_the_elapsed_part_of_the_7_days_before() -> None:
    win = window(_state("period=7d"), NOW)
    assert (win.start, win.end) == (dt.date(2026, 11, 17), dt.date(2026, 11, 23))
    assert _bounds(win.date_range) == (dt.datetime(2026, 11, 17), dt.datetime(2026, 11, 24))
    # 6 days 11:30 elapsed in the current period; as much of the previous one.
    assert _bounds(win.previous) == (dt.datetime(2026, 11, 10), dt.datetime(2026, 11, 16, 11, 30))
    assert win.granularity == "day"
    assert len(win.buckets) == 7


def test_today_is_hourly_up_to_now_and_compared_with_yesterday_until_now() -> None:
    win = window(_state("period=today"), NOW)
    assert win.granularity == "hour"
    assert win.buckets[0] == dt.datetime(2026, 11, 23)
    assert win.buckets[-1] == dt.datetime(2026, 11, 23, 11)
    assert _bounds(win.previous) == (dt.datetime(2026, 11, 22), dt.datetime(2026, 11, 22, 11, 30))


def test_month_to_date_is_compared_with_the_start_of_the_month_before() -> None:
    win = window(_state("period=month"), NOW)
    assert win.start == dt.date(2026, 11, 1)
    assert _bounds(win.previous)[0] == dt.datetime(2026, 10, 1)


def test_12_months_are_monthly() -> None:
    win = window(_state("period=12mo"), NOW)
    assert win.start == dt.date(2025, 12, 1)
    assert win.granularity == "month"
    assert len(win.buckets) == 12
    assert _bounds(win.previous)[0] == dt.datetime(2024, 12, 1)


def test_a_past_custom_range_is_compared_with_as_many_days_before() -> None:
    win = window(_state("period=custom&from=2026-10-01&to=2026-10-10"), NOW)
    assert _bounds(win.previous) == (dt.datetime(2026, 9, 21), dt.datetime(2026, 10, 1))
    assert len(win.buckets) == 10


@pytest.mark.parametrize(
    ("span", "granularity"), [(1, "hour"), (2, "hour"), (3, "day"), (100, "day"), (101, "week")]
)
def test_custom_granularity_follows_the_span(span: int, granularity: str) -> None:
    start = dt.date(2025, 1, 1)
    end = start + dt.timedelta(days=span - 1)
    state = _state(f"period=custom&from={start}&to={end}")
    assert window(state, NOW).granularity == granularity


def test_weekly_buckets_start_on_monday() -> None:
    win = window(_state("period=custom&from=2025-01-01&to=2025-06-30"), NOW)
    assert win.granularity == "week"
    assert all(at.weekday() == 0 for at in win.buckets)


@pytest.mark.parametrize(
    ("value", "text"),
    [(0, "0"), (1234, "1,234"), (12_345, "12.3k"), (20_000, "20k"), (2_500_000, "2.5M")],
)
def test_counts_are_short(value: int, text: str) -> None:
    assert formatting.count(value) == text


@pytest.mark.parametrize(("seconds", "text"), [(0, "0s"), (59.6, "1m 00s"), (3725, "1h 02m")])
def test_durations_read_like_a_clock(seconds: float, text: str) -> None:
    assert formatting.duration(seconds) == text


def test_country_flags() -> None:
    assert formatting.flag("NL") == "🇳🇱"
    assert formatting.flag("") == formatting.flag("N1") == ""


def test_every_card_can_show_its_details() -> None:
    from footfall.dashboard.report import BREAKDOWNS
    from footfall.dashboard.state import CARDS

    assert set(CARDS) == {spec.key for spec in BREAKDOWNS} | {"props"}
    assert _state("details=pages").with_details(None).href() == "?app=default&period=30d"


def test_all_time_starts_at_the_first_event_and_compares_with_nothing() -> None:
    win = window(_state("period=all"), NOW, first_day=dt.date(2025, 3, 14))
    assert win.date_range == "all"
    assert win.previous is None
    assert win.granularity == "month"  # 620 days
    assert win.buckets[0] == dt.datetime(2025, 3, 1)
    assert win.buckets[-1] == dt.datetime(2026, 11, 1)
    empty = window(_state("period=all"), NOW)  # an app without events: today only
    assert (empty.start, empty.granularity) == (NOW.date(), "hour")
