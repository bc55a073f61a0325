"""Everything one dashboard view shows, as typed Queries run concurrently on the store.

Each card is one `Query` through `footfall.query.runner.run_query`, the code path
of `POST /api/v1/query`; this module only chooses the queries and shapes results.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from dataclasses import dataclass
from typing import Any, Literal

from starlette.concurrency import run_in_threadpool

from footfall.dashboard import formatting
from footfall.dashboard.periods import Window, window
from footfall.dashboard.state import (
    NONE_VALUE,
    PROP_PREFIX,
    TABS,
    DashboardState,
    query_filters,
)
from footfall.query.model import Query
from footfall.query.runner import run_query
from footfall.storage.base import Store

TOP = 10
DETAILS_TOP = 100  # rows of the one card a view asks more of (`details=<card>`)
HEATMAP_LIMIT = 10_000  # hourly rows: a heatmap covers up to ~416 days
REALTIME_MINUTES = 5
# Presets and ISO ranges end "now"; events of clients whose clocks run a little fast
# (accepted up to 10 minutes ahead) must still count as current.
FUTURE_SKEW = dt.timedelta(minutes=10)

KPIS: tuple[tuple[str, str], ...] = (
    ("visitors", "Unique visitors"),
    ("visits", "Total visits"),
    ("pageviews", "Total pageviews"),
    ("views_per_visit", "Views per visit"),
    ("bounce_rate", "Bounce rate"),
    ("visit_duration", "Visit duration"),
)
_AVERAGES = ("bounce_rate", "visit_duration", "views_per_visit")
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")

Results = list[dict[str, list[Any]]]


@dataclass(frozen=True, slots=True)
class Kpi:
    metric: str
    label: str
    value: float | None
    text: str
    change: str | None  # "+12%", "−3 pp"; None when there is nothing to compare with
    trend: Literal["up", "down", "flat"] | None
    good: bool | None


@dataclass(frozen=True, slots=True)
class Row:
    label: str
    href: str | None  # the view with this row as a filter; None when it is already one
    cells: tuple[str, ...]
    titles: tuple[str, ...]  # exact values, for tooltips and tests
    bar: float  # 0–100, the row's share of the table's largest value


@dataclass(frozen=True, slots=True)
class Table:
    key: str
    title: str
    heading: str
    columns: tuple[str, ...]
    rows: tuple[Row, ...]
    more_href: str | None = None  # the view with this card's top 100, when there is more
    fewer_href: str | None = None  # back to the top 10, when showing the top 100


@dataclass(frozen=True, slots=True)
class Heatmap:
    weekdays: tuple[str, ...]
    cells: tuple[tuple[tuple[int, float], ...], ...]  # [weekday][hour] → (visits, 0–1)
    truncated: bool


@dataclass(frozen=True, slots=True)
class Report:
    state: DashboardState
    window: Window
    kpis: tuple[Kpi, ...]
    chart: dict[str, Any]
    tables: dict[str, Table]
    heatmap: Heatmap
    realtime: int
    events_in_period: int
    app_has_events: bool
    props_table: Table | None = None


# -- queries -----------------------------------------------------------------------------


def _query(state: DashboardState, date_range: str | list[str], **fields: Any) -> Query:
    extra = fields.pop("filters", [])
    return Query.model_validate(
        {"app": state.app, "date_range": date_range, "filters": query_filters(state) + extra}
        | fields
    )


def realtime_query(app: str, now: dt.datetime) -> Query:
    """Unique visitors of the last five minutes, whatever the view's period and filters."""
    start = now - dt.timedelta(minutes=REALTIME_MINUTES)
    return Query(
        app=app,
        date_range=[start.isoformat(), (now + FUTURE_SKEW).isoformat()],
        metrics=["visitors"],
    )


@dataclass(frozen=True, slots=True)
class _Breakdown:
    key: str
    title: str
    heading: str
    dimension: str
    param: str
    metrics: tuple[str, ...] = ("visitors",)
    columns: tuple[str, ...] = ("Visitors",)
    none_label: str | None = "(none)"  # None: rows without a value are left out
    share_column: bool = False  # a "%" column: share of the period's visitors
    tab_label: str | None = None  # on a card with tabs; default: the heading

    @property
    def tab(self) -> str:
        return self.tab_label or self.heading


def _client(key: str, title: str, heading: str) -> _Breakdown:
    """A breakdown of visitors by what they ran on or came from, with shares."""
    return _Breakdown(
        key, title, heading, f"visit:{key}", key, none_label="Unknown", share_column=True
    )


BREAKDOWNS: tuple[_Breakdown, ...] = (
    _Breakdown(
        "pages", "Top pages", "Page", "event:page", "page",
        ("visitors", "pageviews"), ("Visitors", "Pageviews"), tab_label="Top pages",
    ),
    _Breakdown(
        "entry_pages", "Entry pages", "Entry page", "visit:entry_page", "entry_page",
        ("visitors", "visits"), ("Visitors", "Entrances"), tab_label="Entry pages",
    ),
    _Breakdown(
        "exit_pages", "Exit pages", "Exit page", "visit:exit_page", "exit_page",
        ("visitors", "visits"), ("Visitors", "Exits"), tab_label="Exit pages",
    ),
    _Breakdown(
        "sources", "Top sources", "Source", "visit:source", "source", none_label="Direct / None"
    ),
    _Breakdown(
        "utm_source", "UTM sources", "Source", "visit:utm_source", "utm_source", none_label=None
    ),
    _Breakdown(
        "utm_medium", "UTM mediums", "Medium", "visit:utm_medium", "utm_medium", none_label=None
    ),
    _Breakdown(
        "utm_campaign", "UTM campaigns", "Campaign", "visit:utm_campaign", "utm_campaign",
        none_label=None,
    ),
    _client("browser", "Browsers", "Browser"),
    _client("os", "Operating systems", "OS"),
    _client("device", "Devices", "Device"),
    _client("country", "Countries", "Country"),
    _Breakdown(
        "events", "Custom events", "Event", "event:name", "event",
        ("visitors", "events"), ("Uniques", "Total"), none_label=None, share_column=True,
    ),
)  # fmt: skip


def _rows_shown(state: DashboardState, spec: _Breakdown) -> int:
    return DETAILS_TOP if state.details == spec.key else TOP


def _breakdown_query(state: DashboardState, win: Window, spec: _Breakdown) -> Query:
    filters: list[list[Any]] = []
    order = spec.metrics[0]
    if spec.key == "pages" and state.filter_value("event") is None:
        # Pages are what was viewed: a custom event on a page is no view of it.
        filters.append(["is", "event:name", ["pageview"]])
        order = "pageviews"
    if spec.key == "events":
        filters.append(["is_not", "event:name", ["pageview"]])
    return _query(
        state,
        win.date_range,
        metrics=list(spec.metrics),
        dimensions=[spec.dimension],
        filters=filters,
        order_by=[[order, "desc"]],
        # Two more: one in case a row without a value is left out, one to know if
        # there is more to show.
        limit=_rows_shown(state, spec) + 2,
    )


def _props_spec(key: str) -> _Breakdown:
    return _Breakdown(
        "props",
        f"Property {key}",
        key,
        f"event:props:{key}",
        PROP_PREFIX + key,
        ("visitors", "events"),
        ("Uniques", "Total"),
        none_label="(not set)",
    )


# -- shaping -------------------------------------------------------------------------------


def _change(metric: str, now: float | None, before: float | None) -> tuple[str | None, Any, Any]:
    if now is None or before is None:
        return None, None, None
    if metric == "bounce_rate":  # a rate changes in percentage points
        delta = now - before
        text = f"{abs(delta):.0f} pp"
    else:
        if before == 0:
            return None, None, None
        delta = (now - before) / before * 100
        text = f"{abs(delta):.0f}%"
    if round(delta) == 0:
        return "0%" if metric != "bounce_rate" else "0 pp", "flat", None
    trend = "up" if delta > 0 else "down"
    sign = "+" if delta > 0 else "−"
    good = (delta < 0) if metric == "bounce_rate" else (delta > 0)
    return sign + text, trend, good


def _kpis(current: Results, previous: Results) -> tuple[Kpi, ...]:
    now_values = current[0]["metrics"] if current else [None] * (len(KPIS) + 1)
    before_values = previous[0]["metrics"] if previous else [None] * (len(KPIS) + 1)
    out = []
    for i, (metric, label) in enumerate(KPIS):
        value, before = now_values[i], before_values[i]
        change, trend, good = _change(metric, value, before)
        out.append(Kpi(metric, label, value, formatting.metric(metric, value), change, trend, good))
    return tuple(out)


def _table(state: DashboardState, spec: _Breakdown, results: Results, total_visitors: int) -> Table:
    rows = []
    selected = state.filter_value(spec.param)
    kept = [r for r in results if r["dimensions"][0] is not None or spec.none_label is not None]
    top = max((r["metrics"][0] or 0 for r in kept), default=0)
    shown = _rows_shown(state, spec)
    for result in kept[:shown]:
        raw = result["dimensions"][0]
        value = NONE_VALUE if raw is None else str(raw)
        label = (spec.none_label or "") if raw is None else str(raw)
        if spec.key == "country" and raw is not None:
            label = f"{formatting.flag(label)} {label}".strip()
        metrics = list(result["metrics"])
        cells = [formatting.count(v) for v in metrics]
        titles = [str(v) for v in metrics]
        if spec.share_column:
            share = 100 * (metrics[0] or 0) / total_visitors if total_visitors else 0.0
            cells.append(f"{share:.0f}%")
            titles.append(f"{share:.1f}")
        first = metrics[0] or 0
        href = None if selected == value else state.with_filter(spec.param, value).href()
        rows.append(Row(label, href, tuple(cells), tuple(titles), 100 * first / top if top else 0))
    columns = spec.columns
    if spec.share_column:  # custom events: the conversion rate, as Plausible calls it
        columns += ("CR" if spec.key == "events" else "%",)
    # Links keep the reader at the card (#table-…) across the reload.
    anchor = f"#table-{spec.key}"
    more = fewer = None
    if len(kept) > shown:
        more = state.with_details(spec.key).href() + anchor
    elif shown > TOP and len(rows) > TOP:
        fewer = state.with_details(None).href() + anchor
    return Table(
        spec.key, spec.title, spec.heading, columns, tuple(rows), more_href=more, fewer_href=fewer
    )


def _bucket_key(at: dt.datetime, granularity: str) -> str:
    # As the runner formats time:<unit> values: a date for days and longer.
    return at.isoformat() + "Z" if granularity == "hour" else at.date().isoformat()


def _chart(win: Window, results: Results) -> dict[str, Any]:
    by_bucket = {r["dimensions"][0]: r["metrics"] for r in results}
    names = [name for name, _ in KPIS]
    series: dict[str, list[Any]] = {name: [] for name in names}
    labels = []
    for at in win.buckets:
        key = _bucket_key(at, win.granularity)
        labels.append(key)
        values = by_bucket.get(key)
        for i, name in enumerate(names):
            if values is not None:
                series[name].append(values[i])
            else:  # nothing happened: counts are 0, averages are undefined
                series[name].append(
                    None if name in ("bounce_rate", "visit_duration", "views_per_visit") else 0
                )
    epoch = dt.datetime(1970, 1, 1)
    return {
        "granularity": win.granularity,
        "x": [int((at - epoch).total_seconds()) for at in win.buckets],
        "labels": labels,
        "series": series,
        "names": dict(KPIS),
    }


def _heatmap(results: Results) -> Heatmap:
    grid = [[0] * 24 for _ in WEEKDAYS]
    for result in results:
        at = dt.datetime.fromisoformat(result["dimensions"][0].removesuffix("Z"))
        grid[at.weekday()][at.hour] += result["metrics"][0] or 0
    top = max((max(day) for day in grid), default=0)
    cells = tuple(tuple((v, v / top if top else 0.0) for v in day) for day in grid)
    return Heatmap(WEEKDAYS, cells, truncated=len(results) >= HEATMAP_LIMIT)


# -- loading ---------------------------------------------------------------------------------

_BY_KEY = {spec.key: spec for spec in BREAKDOWNS}


async def _run(store: Store, query: Query) -> Results:
    answer = await run_in_threadpool(run_query, store, query)
    results: Results = answer["results"]
    return results


async def realtime_visitors(store: Store, app: str, now: dt.datetime) -> int:
    results = await _run(store, realtime_query(app, now))
    return int(results[0]["metrics"][0]) if results else 0


async def _first_day(store: Store, app: str) -> dt.date | None:
    """The day of the app's first event, where an all-time chart starts."""
    first = await _run(
        store,
        Query(
            app=app,
            date_range="all",
            metrics=["events"],
            dimensions=["time:day"],
            order_by=[("time:day", "asc")],
            limit=1,
        ),
    )
    return dt.date.fromisoformat(first[0]["dimensions"][0]) if first else None


async def _nothing() -> Results:
    return []


async def load(store: Store, state: DashboardState, now: dt.datetime) -> Report:
    """Run every query of the view at once (DuckDB reads in parallel) and shape them."""
    first_day = await _first_day(store, state.app) if state.period == "all" else None
    win = window(state, now, first_day)
    kpi_metrics = [name for name, _ in KPIS] + ["events"]
    hidden = {key for param, keys in TABS.items() for key in keys if key != state.tab(param)}
    breakdowns = [spec for spec in BREAKDOWNS if spec.key not in hidden]
    props = _props_spec(state.props) if state.props and state.filter_value("event") else None
    if props is not None:
        breakdowns.append(props)

    queries = [
        _query(state, win.date_range, metrics=kpi_metrics),
        _query(
            state,
            win.date_range,
            metrics=[name for name, _ in KPIS],
            dimensions=[f"time:{win.granularity}"],
            limit=len(win.buckets) + 1,
        ),
        _query(
            state,
            win.date_range,
            metrics=["visits"],
            dimensions=["time:hour"],
            order_by=[["time:hour", "desc"]],  # past the limit, the most recent hours
            limit=HEATMAP_LIMIT,
        ),
        realtime_query(state.app, now),
        *(_breakdown_query(state, win, spec) for spec in breakdowns),
    ]
    # All time has nothing before it to compare with.
    before = (
        _run(store, _query(state, win.previous, metrics=kpi_metrics))
        if win.previous is not None
        else _nothing()
    )
    previous, current, series, hours, realtime, *tables = await asyncio.gather(
        before, *(_run(store, query) for query in queries)
    )

    events_in_period = int(current[0]["metrics"][-1]) if current else 0
    has_events = events_in_period > 0
    if not has_events:
        ever = await _run(store, Query(app=state.app, date_range="all", metrics=["events"]))
        has_events = bool(ever and ever[0]["metrics"][0])
    total_visitors = int(current[0]["metrics"][0]) if current else 0
    shaped = {
        spec.key: _table(state, spec, results, total_visitors)
        for spec, results in zip(breakdowns, tables, strict=True)
    }
    props_table = shaped.pop("props", None)
    return Report(
        state=state,
        window=win,
        kpis=_kpis(current, previous),
        chart=_chart(win, series),
        tables=shaped,
        heatmap=_heatmap(hours),
        realtime=int(realtime[0]["metrics"][0]) if realtime else 0,
        events_in_period=events_in_period,
        app_has_events=has_events,
        props_table=props_table,
    )


async def load_tab(store: Store, state: DashboardState, param: str, now: dt.datetime) -> Table:
    """The table a card with tabs shows, alone: what the page fetches when a tab is clicked."""
    win = window(state, now)
    spec = _BY_KEY[state.tab(param)]
    total, results = await asyncio.gather(
        _run(store, _query(state, win.date_range, metrics=["visitors"])),
        _run(store, _breakdown_query(state, win, spec)),
    )
    return _table(state, spec, results, int(total[0]["metrics"][0]) if total else 0)
