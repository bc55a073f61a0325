"""The metric and dimension registries: each statistic is defined here, once.

A metric or dimension is written against the small `Dialect` vocabulary
(count_distinct, count_if, time_bucket…), so the DuckDB and ClickHouse
compilers print the same definition in their own SQL.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, Protocol

from footfall.intervals import Interval, IntervalError, parse_interval
from footfall.query.errors import QueryError


class Dialect(Protocol):
    """The SQL primitives a compiler must provide; everything else is shared SQL."""

    name: str

    def count_distinct(self, expr: str) -> str: ...
    def count_if(self, condition: str) -> str: ...
    def time_bucket(self, unit: str, column: str) -> str: ...
    def seconds_between(self, start: str, end: str) -> str: ...
    def json_string(self, column: str) -> str:
        """Expression reading one string-valued key (bound as the next parameter)."""
        ...

    def prop_key_param(self, key: str) -> str:
        """The value to bind for `json_string`'s key parameter."""
        ...

    def lower(self, expr: str) -> str:
        """`expr` in lower case, Unicode-aware (É → é) on every engine."""
        ...

    def contains(self, expr: str, case_sensitive: bool) -> str:
        """Condition: `expr` contains the next bound parameter."""
        ...

    def matches(self, expr: str) -> str:
        """Condition: `expr` matches the regular expression bound as the next parameter."""
        ...

    def regex_error(self, pattern: str) -> str | None:
        """Why the store's regex engine (RE2 for DuckDB and ClickHouse) refuses `pattern`."""
        ...

    def entry_value(self, column: str) -> str:
        """Aggregate: `column` of the group's row with the least (ts, seq), even when NULL."""
        ...

    def exit_value(self, column: str) -> str:
        """Aggregate: `column` of the group's row with the greatest (ts, seq), even when NULL."""
        ...

    def interval_bucket(self, months: bool, column: str) -> str:
        """Start of the fixed-width bucket of `column`; the width (a number of months, or
        of microseconds) is bound as the next parameter. Buckets align as TimescaleDB's."""
        ...


MetricLevel = Literal["event", "session"]


@dataclass(frozen=True, slots=True)
class Metric:
    """`level` says which relation `sql` aggregates over.

    event:   the filtered events (columns of the event table).
    session: one row per visit touching the group, with columns
             `interactions`, `pageviews`, `seconds` over the whole visit.
    """

    name: str
    level: MetricLevel
    sql: Callable[[Dialect], str]
    description: str
    decimals: int | None = None  # None: an integer count
    timestamp: bool = False  # the value is a point in time, returned as ISO-8601 Z
    # The same number over the per-visit rows a query with session metrics builds anyway
    # (one row per visit and group, as `session` metrics see them): counted there, it
    # costs no second pass over the events.
    per_visit_sql: Callable[[Dialect], str] | None = None


@dataclass(frozen=True, slots=True)
class Dimension:
    name: str
    description: str
    column: str | None = None  # a plain event column (or an expression over columns)
    time_unit: str | None = None  # time:<unit>
    prop_key: str | None = None  # event:props:<key>
    # visit:<…>: a value of the visit, the same for each of its events, so every event of
    # a visit from Google counts under source Google. Most are stamped on every event at
    # ingest (footfall.model's VISIT_ORIGIN_COLUMNS and VISIT_CLIENT_COLUMNS: the visit's
    # first received event's) and read like any column; entry and exit pages
    # are derived in the query (VISIT_DERIVED).
    visit: bool = False
    bucket: Interval | None = None  # time:bucket:<interval>

    @property
    def is_time(self) -> bool:
        return self.time_unit is not None or self.bucket is not None


_METRICS: tuple[Metric, ...] = (
    Metric("events", "event", lambda d: "count(*)", "Events of any name."),
    Metric(
        "pageviews", "event", lambda d: d.count_if("name = 'pageview'"), "Events named pageview."
    ),
    Metric(
        "visitors",
        "event",
        lambda d: d.count_distinct("visitor_id"),
        "Unique visitors (cookieless daily id, or the user id when a client sends one).",
    ),
    Metric(
        "visits",
        "event",
        lambda d: d.count_distinct("session_id"),
        "Visits (sessions): 30 minutes of inactivity end one.",
        per_visit_sql=lambda d: "count(*)",
    ),
    Metric(
        "avg_duration",
        "event",
        lambda d: "avg(duration)",
        "Mean of the events' own `duration` field, in seconds (null when none has one).",
        decimals=2,
    ),
    Metric(
        "bounce_rate",
        "session",
        lambda d: "100.0 * avg(CASE WHEN interactions <= 1 THEN 1 ELSE 0 END)",
        "Percent of visits with at most one interactive event.",
        decimals=2,
    ),
    Metric(
        "visit_duration",
        "session",
        lambda d: "avg(seconds)",
        "Mean visit length in seconds, first to last event.",
        decimals=2,
    ),
    Metric(
        "views_per_visit",
        "session",
        lambda d: "avg(pageviews)",
        "Mean pageviews per visit.",
        decimals=2,
    ),
    Metric(
        "users",
        "event",
        lambda d: d.count_distinct("user_id"),
        "Distinct user ids sent by clients (events without one are not a user).",
    ),
    Metric("event_names", "event", lambda d: d.count_distinct("name"), "Distinct event names."),
    Metric(
        "total_duration",
        "event",
        lambda d: "sum(duration)",
        "Sum of the events' own `duration` field, in seconds.",
        decimals=2,
    ),
    Metric(
        "last_seen",
        "event",
        lambda d: "max(ts)",
        "Time of the latest event (ISO-8601, UTC).",
        timestamp=True,
    ),
)
METRICS: dict[str, Metric] = {metric.name: metric for metric in _METRICS}

TIME_UNITS = ("minute", "hour", "day", "week", "month")
PROP_PREFIX = "event:props:"
BUCKET_PREFIX = "time:bucket:"
PROP_KEY = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.$:-]{0,99}$")


def os_family(column: str) -> str:
    """Contract 002's six operating-system classes of `column`: Windows, MacOS, iOS,
    Android, Linux, Other."""
    return (
        f"CASE WHEN {column} IS NULL THEN 'Other' WHEN {column} = 'Windows' THEN 'Windows' "
        f"WHEN {column} = 'Mac OS X' OR {column} = 'macOS' THEN 'MacOS' "
        f"WHEN {column} = 'iOS' OR {column} = 'iPadOS' THEN 'iOS' "
        f"WHEN {column} = 'Android' THEN 'Android' WHEN {column} IN ('Linux', 'Ubuntu', "
        "'Fedora', 'Debian', 'Arch Linux', 'Linux Mint', 'Red Hat', 'SUSE', 'openSUSE', "
        "'Gentoo', 'CentOS') THEN 'Linux' ELSE 'Other' END"
    )


OS_FAMILY = os_family("os")  # of the event's own client

_COLUMN_DIMENSIONS: tuple[tuple[str, str, str], ...] = (
    ("event:name", "name", "Event name (pageview or a custom name)."),
    ("event:page", "path", "Page path."),
    ("event:hostname", "hostname", "Host name of the page, without www."),
    # visit: values are those of the visit's first event footfall received (its true
    # entry, even when the date range starts mid-visit), stamped on all its events.
    (
        "visit:referrer_domain",
        "referrer_domain",
        "Domain of the external referrer the visit came from.",
    ),
    (
        "visit:source",
        "source",
        "Where the visit came from: a named source, UTM source or referrer domain.",
    ),
    ("visit:utm_source", "utm_source", "utm_source of the visit's landing URL."),
    ("visit:utm_medium", "utm_medium", "utm_medium of the visit's landing URL."),
    ("visit:utm_campaign", "utm_campaign", "utm_campaign of the visit's landing URL."),
    ("visit:utm_term", "utm_term", "utm_term of the visit's landing URL."),
    ("visit:utm_content", "utm_content", "utm_content of the visit's landing URL."),
    ("visit:browser", "visit_browser", "Browser family of the visit."),
    ("visit:browser_version", "visit_browser_version", "Browser version of the visit."),
    ("visit:os", "visit_os", "Operating system family of the visit."),
    ("visit:os_version", "visit_os_version", "Operating system version of the visit."),
    ("visit:device", "visit_device", "Device type of the visit: desktop, mobile, tablet or bot."),
    (
        "visit:country",
        "visit_country",
        "ISO country code of the visit (needs a GeoIP database).",
    ),
    ("user_id", "user_id", "The user id a client sent."),
    ("visit:os_family", os_family("visit_os"), "Operating system class of the visit."),
    (
        "visit:entry_page",
        "entry_page",
        "Page path the visit started on (its first event in the date range).",
    ),
    (
        "visit:exit_page",
        "exit_page",
        "Page path the visit ended on (its last event in the date range).",
    ),
    # The client of each event on its own, for APIs that classify events rather than
    # visits (contract 002 buckets events by OS even when they share a session id).
    ("event:browser", "browser", "Browser family of this event's client."),
    ("event:browser_version", "browser_version", "Browser version of this event's client."),
    ("event:os", "os", "Operating system of this event's client."),
    ("event:os_version", "os_version", "Operating system version of this event's client."),
    ("event:os_family", OS_FAMILY, "Operating system class of this event's client."),
    ("event:device", "device", "Device type of this event's client."),
)

# Visit attributes that are not event columns but derived from one in the query: the
# visit's first or last event's value within the date range (its entry and exit pages).
VISIT_DERIVED: dict[str, tuple[str, Literal["first", "last"]]] = {
    "entry_page": ("path", "first"),
    "exit_page": ("path", "last"),
}

DIMENSIONS: dict[str, Dimension] = {
    **{
        f"time:{unit}": Dimension(f"time:{unit}", f"Start of the {unit} (UTC).", time_unit=unit)
        for unit in TIME_UNITS
    },
    **{
        name: Dimension(name, description, column=column, visit=name.startswith("visit:"))
        for name, column, description in _COLUMN_DIMENSIONS
    },
}


def prop_dimension(name: str) -> Dimension:
    """`event:props:<key>`; the key is checked here and later bound, never pasted into SQL."""
    key = name.removeprefix(PROP_PREFIX)
    if not PROP_KEY.match(key):
        raise QueryError(
            f"invalid property key {key!r}: use letters, digits and _ . $ : - (at most 100)"
        )
    return Dimension(name, f"Custom property {key}.", prop_key=key)


def bucket_dimension(name: str) -> Dimension:
    """`time:bucket:<interval>`, e.g. `time:bucket:15 minutes` or `time:bucket:01:00:00`."""
    try:
        interval = parse_interval(name.removeprefix(BUCKET_PREFIX))
    except IntervalError as exc:
        raise QueryError(f"invalid dimension {name!r}: {exc}") from None
    return Dimension(name, "Start of a fixed-width time bucket (UTC).", bucket=interval)
