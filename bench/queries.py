"""The dashboard queries the bench times, as `POST /api/v1/query` bodies.

`on_page` marks the queries one dashboard page fires when it opens; their
medians are summed as "one dashboard page". Issue 7 adds a hand-written SQL
twin of each, run directly on the engine, to price the compiler and HTTP.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bench.datagen import MAIN_APP


@dataclass(frozen=True)
class QueryCase:
    name: str
    body: dict[str, Any]
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

DASHBOARD: tuple[QueryCase, ...] = (
    QueryCase("KPIs, 30d", _q("30d", KPIS), on_page=True),
    QueryCase(
        "visitors + pageviews by day, 30d",
        _q("30d", ["visitors", "pageviews"], ["time:day"]),
        on_page=True,
    ),
    QueryCase("pageviews by hour, 7d", _q("7d", ["pageviews"], ["time:hour"])),
    QueryCase(
        "top pages, 7d",
        _q(
            "7d",
            ["visitors", "pageviews"],
            ["event:page"],
            order_by=[["pageviews", "desc"]],
            limit=10,
        ),
        on_page=True,
    ),
    QueryCase(
        "top sources, 30d",
        _q("30d", ["visitors", "visits"], ["visit:source"], limit=10),
        on_page=True,
    ),
    QueryCase(
        "referrer domains, 30d", _q("30d", ["visitors"], ["visit:referrer_domain"], limit=10)
    ),
    QueryCase("UTM campaigns, 30d", _q("30d", ["visitors"], ["visit:utm_campaign"], limit=10)),
    QueryCase("browsers, 30d", _q("30d", ["visitors"], ["visit:browser"]), on_page=True),
    QueryCase("operating systems, 30d", _q("30d", ["visitors"], ["visit:os"]), on_page=True),
    QueryCase("devices, 30d", _q("30d", ["visitors"], ["visit:device"]), on_page=True),
    QueryCase("countries, 30d", _q("30d", ["visitors"], ["visit:country"], limit=50), on_page=True),
    QueryCase(
        "custom events, 30d",
        _q(
            "30d",
            ["events", "visitors"],
            ["event:name"],
            filters=[["is_not", "event:name", ["pageview"]]],
        ),
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
    ),
    QueryCase(
        "filtered KPIs (source google.com, page contains /blog), 30d",
        _q(
            "30d",
            ["visitors", "pageviews", "bounce_rate"],
            filters=[["is", "visit:source", ["google.com"]], ["contains", "event:page", ["/blog"]]],
        ),
    ),
    QueryCase(
        "sources with bounce rate + visit duration, 30d",
        _q("30d", ["visitors", "bounce_rate", "visit_duration"], ["visit:source"], limit=10),
    ),
    QueryCase("pageviews by week, 12mo", _q("12mo", ["pageviews"], ["time:week"])),
)
