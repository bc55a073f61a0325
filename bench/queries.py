"""The queries the bench times, each with a hand-written DuckDB SQL twin.

Dashboard queries are `POST /api/v1/query` bodies; contract queries are GETs
of the compatibility endpoints. Next to each is the SQL a person would write
for the same answer directly on the event table (the baseline that prices
footfall's compiler and HTTP layer); bench/baselines.py runs it on the same
file and checks that it returns exactly what the HTTP query returned.

In the SQL, `{where}` stands for the query's range (`app = $app AND ts >=
$start [AND ts < $end]`, from the range footfall reports in `meta`), and
`$app`, `$start`, `$end` are bound parameters.

About `visit:` dimensions: a visit's attributes are those of its first event
footfall received (its true entry, even when the date range starts mid-visit),
and ingest stamps them on every event of the visit: its origin in the origin
columns (`source`, `referrer_domain`, `utm_*`), its client in `visit_browser`,
`visit_os`, `visit_device`, `visit_country`, … next to the event's own
`browser`, `os`, … (which `event:` dimensions read). So a `visit:` breakdown
is a plain column scan, for footfall's compiler and for the hand-written SQL
alike, which reads the same stamped columns. (An event that arrives late with
an earlier timestamp does not re-stamp events already stored; this data set
arrives in time order.)

`on_page` marks the queries one dashboard page fires when it opens; their
medians are summed as "one dashboard page".
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bench.datagen import MAIN_APP
from footfall.query.registry import OS_FAMILY
from footfall.sessions import Action

SESSION_START = Action.START.event_name


@dataclass(frozen=True)
class QueryCase:
    name: str
    body: dict[str, Any]
    sql: str
    on_page: bool = False


def _q(
    date_range: str, metrics: list[str], dimensions: list[str] | None = None, **extra: Any
) -> dict[str, Any]:
    return {
        "app": MAIN_APP,
        "date_range": date_range,
        "metrics": metrics,
        "dimensions": dimensions or [],
        **extra,
    }


KPIS = ["visitors", "visits", "pageviews", "bounce_rate", "visit_duration", "views_per_visit"]

# One row per visit in the range: what bounce rate and visit duration are made of.
_PER_VISIT = (
    "SELECT session_id, count_if(interactive) AS interactions, "
    "count_if(name = 'pageview') AS pageviews, "
    "(epoch_us(max(ts)) - epoch_us(min(ts))) / 1e6 AS seconds "
    "FROM events WHERE {where} AND session_id IS NOT NULL GROUP BY session_id"
)
_BOUNCE = "100.0 * avg(CASE WHEN interactions <= 1 THEN 1 ELSE 0 END)"


def _breakdown(column: str, limit: int | None = None) -> str:
    """Visitors per value of one column, most first (ties: value ascending, nulls last)."""
    tail = f" LIMIT {limit}" if limit else " LIMIT 100"
    return (
        f"SELECT {column}, count(DISTINCT visitor_id) AS visitors FROM events "
        f"WHERE {{where}} GROUP BY {column} "
        f"ORDER BY visitors DESC, {column} ASC NULLS LAST{tail}"
    )


DASHBOARD: tuple[QueryCase, ...] = (
    QueryCase(
        "KPIs, 30d",
        _q("30d", KPIS),
        f"WITH v AS ({_PER_VISIT}) SELECT "
        "(SELECT count(DISTINCT visitor_id) FROM events WHERE {where}), count(*), "
        f"(SELECT count_if(name = 'pageview') FROM events WHERE {{where}}), {_BOUNCE}, "
        "avg(seconds), avg(pageviews) FROM v",
        on_page=True,
    ),
    QueryCase(
        "visitors + pageviews by day, 30d",
        _q("30d", ["visitors", "pageviews"], ["time:day"]),
        "SELECT date_trunc('day', ts) AS d, count(DISTINCT visitor_id), "
        "count_if(name = 'pageview') FROM events WHERE {where} GROUP BY d ORDER BY d LIMIT 100",
        on_page=True,
    ),
    QueryCase(
        "pageviews by hour, 7d",
        _q("7d", ["pageviews"], ["time:hour"], limit=1000),
        "SELECT date_trunc('hour', ts) AS h, count_if(name = 'pageview') FROM events "
        "WHERE {where} GROUP BY h ORDER BY h LIMIT 1000",
    ),
    QueryCase(
        "heatmap: visits by hour, 30d",
        _q("30d", ["visits"], ["time:hour"], limit=1000),
        "SELECT date_trunc('hour', ts) AS h, count(DISTINCT session_id) FROM events "
        "WHERE {where} GROUP BY h ORDER BY h LIMIT 1000",
        on_page=True,
    ),
    QueryCase(
        "top pages, 7d",
        _q(
            "7d",
            ["visitors", "pageviews"],
            ["event:page"],
            order_by=[["pageviews", "desc"]],
            limit=10,
        ),
        "SELECT path, count(DISTINCT visitor_id), count_if(name = 'pageview') AS pv "
        "FROM events WHERE {where} GROUP BY path ORDER BY pv DESC, path ASC NULLS LAST LIMIT 10",
        on_page=True,
    ),
    QueryCase(
        "top sources, 30d",
        _q("30d", ["visitors", "visits"], ["visit:source"], limit=10),
        "SELECT source, count(DISTINCT visitor_id) AS visitors, count(DISTINCT session_id) "
        "FROM events WHERE {where} GROUP BY source "
        "ORDER BY visitors DESC, source ASC NULLS LAST LIMIT 10",
        on_page=True,
    ),
    QueryCase(
        "referrer domains, 30d",
        _q("30d", ["visitors"], ["visit:referrer_domain"], limit=10),
        _breakdown("referrer_domain", 10),
    ),
    QueryCase(
        "UTM campaigns, 30d",
        _q("30d", ["visitors"], ["visit:utm_campaign"], limit=10),
        _breakdown("utm_campaign", 10),
    ),
    QueryCase(
        "browsers, 30d",
        _q("30d", ["visitors"], ["visit:browser"]),
        _breakdown("visit_browser"),
        on_page=True,
    ),
    QueryCase(
        "operating systems, 30d",
        _q("30d", ["visitors"], ["visit:os"]),
        _breakdown("visit_os"),
        on_page=True,
    ),
    QueryCase(
        "devices, 30d",
        _q("30d", ["visitors"], ["visit:device"]),
        _breakdown("visit_device"),
        on_page=True,
    ),
    QueryCase(
        "countries, 30d",
        _q("30d", ["visitors"], ["visit:country"], limit=50),
        _breakdown("visit_country", 50),
        on_page=True,
    ),
    QueryCase(
        "custom events, 30d",
        _q(
            "30d",
            ["events", "visitors"],
            ["event:name"],
            filters=[["is_not", "event:name", ["pageview"]]],
        ),
        "SELECT name, count(*) AS n, count(DISTINCT visitor_id) FROM events "
        "WHERE {where} AND name <> 'pageview' GROUP BY name ORDER BY n DESC, name LIMIT 100",
        on_page=True,
    ),
    QueryCase(
        "props: signup by plan, 30d",
        _q(
            "30d",
            ["events", "visitors"],
            ["event:props:plan"],
            filters=[["is", "event:name", ["signup"]]],
        ),
        "SELECT props->>'plan' AS plan, count(*) AS n, count(DISTINCT visitor_id) FROM events "
        "WHERE {where} AND name = 'signup' GROUP BY plan "
        "ORDER BY n DESC, plan ASC NULLS LAST LIMIT 100",
    ),
    QueryCase(
        "filtered KPIs (source Google, page contains /blog), 30d",
        _q(
            "30d",
            ["visitors", "pageviews", "bounce_rate"],
            filters=[["is", "visit:source", ["Google"]], ["contains", "event:page", ["/blog"]]],
        ),
        "WITH f AS (SELECT visitor_id, name, session_id FROM events WHERE {where} "
        "AND source = 'Google' AND contains(path, '/blog')), "
        "v AS (SELECT session_id, count_if(interactive) AS interactions FROM events "
        "WHERE {where} AND session_id IN (SELECT session_id FROM f) GROUP BY session_id) "
        "SELECT (SELECT count(DISTINCT visitor_id) FROM f), "
        f"(SELECT count_if(name = 'pageview') FROM f), (SELECT {_BOUNCE} FROM v)",
    ),
    QueryCase(
        "sources with bounce rate + visit duration, 30d",
        _q("30d", ["visitors", "bounce_rate", "visit_duration"], ["visit:source"], limit=10),
        "WITH v AS (SELECT session_id, any_value(source) AS source, "
        "count_if(interactive) AS interactions, "
        "(epoch_us(max(ts)) - epoch_us(min(ts))) / 1e6 AS seconds FROM events "
        "WHERE {where} AND session_id IS NOT NULL GROUP BY session_id), "
        f"p AS (SELECT source, {_BOUNCE} AS bounce, avg(seconds) AS duration "
        "FROM v GROUP BY source), "
        "g AS (SELECT source, count(DISTINCT visitor_id) AS visitors FROM events "
        "WHERE {where} GROUP BY source) "
        "SELECT g.source, g.visitors, p.bounce, p.duration FROM g "
        "LEFT JOIN p ON g.source IS NOT DISTINCT FROM p.source "
        "ORDER BY g.visitors DESC, g.source ASC NULLS LAST LIMIT 10",
    ),
    QueryCase(
        "visits, bounce rate, duration by day, 30d",
        _q("30d", ["visits", "bounce_rate", "visit_duration"], ["time:day"]),
        "WITH t AS (SELECT DISTINCT date_trunc('day', ts) AS d, session_id FROM events "
        "WHERE {where} AND session_id IS NOT NULL), "
        f"v AS ({_PER_VISIT}) "
        f"SELECT t.d, count(*), {_BOUNCE}, avg(seconds) FROM t JOIN v USING (session_id) "
        "GROUP BY t.d ORDER BY t.d LIMIT 100",
    ),
    QueryCase(
        "pageviews by week, 12mo",
        _q("12mo", ["pageviews"], ["time:week"]),
        "SELECT date_trunc('week', ts) AS w, count_if(name = 'pageview') FROM events "
        "WHERE {where} GROUP BY w ORDER BY w LIMIT 100",
    ),
)


@dataclass(frozen=True)
class ContractCase:
    """A GET of a compatibility endpoint and the SQL for the same numbers.

    `path` may hold `{start}`/`{end}` (ISO timestamps the harness fills in, so the
    window is the same for both); the SQL's `$start`/`$end` get the same values."""

    name: str
    path: str
    sql: str
    # The answer's numbers as rows, in the SQL's column order, for the comparison.
    shape: Callable[[Any], list[list[Any]]]
    # The query footfall's endpoint builds (as /api/v1/query JSON; `{start}`/`{end}` filled
    # in like `path`), to time footfall's own SQL for it. `since_days`: the endpoint reads
    # [now - days, ∞) whatever the body's range says.
    query: dict[str, Any] | None = None
    since_days: int | None = None
    needs_token: bool = False


def _rows(keys: tuple[str, ...]) -> Callable[[Any], list[list[Any]]]:
    return lambda answer: [[item[k] for k in keys] for item in answer]


def _heatmap_total(answer: Any) -> list[list[Any]]:
    return [[answer["heatmap_data"]["total_sessions"]]]


CONTRACTS: tuple[ContractCase, ...] = (
    ContractCase(
        "003 GET /stats/total",
        f"/stats/total?app={MAIN_APP}",
        "SELECT count(*), count(DISTINCT user_id), count(DISTINCT name) FROM events "
        "WHERE app = $app",
        lambda a: [[a["total_events"], a["unique_users"], a["unique_event_types"]]],
        query={"app": MAIN_APP, "date_range": "all", "metrics": ["events", "users", "event_names"]},
    ),
    ContractCase(
        "003 GET /stats/by-event-type",
        f"/stats/by-event-type?app={MAIN_APP}",
        "SELECT name, count(*) AS n FROM events WHERE app = $app GROUP BY name "
        "ORDER BY n DESC, name",
        _rows(("event_type", "count")),
        query={
            "app": MAIN_APP,
            "date_range": "all",
            "metrics": ["events"],
            "dimensions": ["event:name"],
            "order_by": [["events", "desc"], ["event:name", "asc"]],
            "limit": 10_000,
        },
    ),
    ContractCase(
        "002 GET /api/events/?duration=1 hour (30 days)",
        f"/api/events/?duration=1%20hour&app={MAIN_APP}&start={{start}}&end={{end}}",
        "SELECT time_bucket(INTERVAL 1 hour, ts) AS b, path, "
        f"{OS_FAMILY} AS os, count(*), round(avg(duration), 2) FROM events "
        "WHERE app = $app AND ts >= $start AND ts <= $end AND path IS NOT NULL "
        "GROUP BY ALL ORDER BY b DESC, path, os LIMIT 10000",
        _rows(("bucket", "page", "operating_system", "count", "avg_duration")),
        query={
            "app": MAIN_APP,
            "date_range": ["{start}", "{end}"],
            "metrics": ["events", "avg_duration"],
            "dimensions": ["time:bucket:1 hour", "event:page", "event:os_family"],
            "order_by": [
                ["time:bucket:1 hour", "desc"],
                ["event:page", "asc"],
                ["event:os_family", "asc"],
            ],
            "limit": 10_000,
        },
    ),
    ContractCase(
        "004 GET /api/v1/session_heatmap",
        f"/api/v1/session_heatmap?app={MAIN_APP}",
        # The endpoint's total: sessions started in the last 30 days.
        f"SELECT count(*) FROM events WHERE app = $app AND ts >= $start "
        f"AND name = '{SESSION_START}'",
        _heatmap_total,
        query={
            "app": MAIN_APP,
            "date_range": "all",
            "metrics": ["events"],
            "dimensions": ["time:hour"],
            "filters": [["is", "event:name", [SESSION_START]]],
            "limit": 10_000,
        },
        since_days=30,
        needs_token=True,
    ),
)
