"""Ingest → query round trips with exact numbers, computed independently in Python.

A deterministic data set (tests/factories.py) is posted to `POST /api/v1/events`
with fixed past timestamps and explicit session and user ids, then asked for
through `POST /api/v1/query` and `GET /api/v1/query` and compared with
`factories.Reference`, which never looks at SQL.

Semantics these tests pin down:

- events: events in the group; pageviews: those named `pageview`.
- visitors: distinct visitors — the user id when one is sent, else a salted hash
  of client address and user agent that changes every UTC day.
- visits: distinct session ids in the group.
- A visit's metrics for a group are over the visits having at least one event
  in the group (after filters), each visit counted whole over the date range
  (its events outside the filters still count):
  - bounce_rate: percent of those visits with ≤ 1 interactive event;
  - visit_duration: mean over those visits of (last ts − first ts), in seconds;
  - views_per_visit: mean pageviews per visit.
- avg_duration: mean of the events' own `duration` field (null when none has one).
- Percentages and other floats are rounded to 2 decimals; a mean over nothing is null,
  a count over nothing is 0; a query without dimensions always answers one row.
- `visit:*` dimensions and filters take the visit's value, the same for all its
  events, so every event of a visit that came from Google counts under source
  Google: the value of the visit's first event footfall received (its true entry,
  even when the date range starts mid-visit; an event that arrives late with an
  earlier timestamp does not change it). `visit:entry_page` and `visit:exit_page`
  are the visit's first and last event's path within the date range. Other
  dimensions are the event's own value.
- NULL is a dimension value like any other (returned as null); `is_not`,
  `contains_not` and `matches_not` keep events whose value is NULL.
- time:minute and time:hour are ISO timestamps with Z; day, week (Monday) and
  month are ISO dates of the bucket's first day, all UTC.
- Date ranges are half-open [start, end): `[from, to]` includes the whole `to` day
  (or the `to` instant); presets start at UTC midnight (24h: now − 24 h) and are
  open towards the future.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from footfall.app import create_app
from footfall.query.model import Query
from footfall.query.runner import run_query
from footfall.services import Services
from footfall.settings import Settings
from tests.conftest import StoreMaker
from tests.factories import GenEvent, Reference, generate

UTC = dt.UTC
METRICS = [
    "events",
    "pageviews",
    "visitors",
    "visits",
    "bounce_rate",
    "visit_duration",
    "views_per_visit",
    "avg_duration",
]
DIMENSIONS = [
    "time:minute",
    "time:hour",
    "time:day",
    "time:week",
    "time:month",
    "event:name",
    "event:page",
    "event:hostname",
    "visit:referrer_domain",
    "visit:source",
    "visit:utm_source",
    "visit:utm_medium",
    "visit:utm_campaign",
    "visit:utm_term",
    "visit:utm_content",
    "visit:browser",
    "visit:browser_version",
    "visit:os",
    "visit:os_version",
    "visit:device",
    "visit:country",
    "visit:os_family",
    "user_id",
    "event:browser",
    "event:browser_version",
    "event:os",
    "event:os_version",
    "event:os_family",
    "event:device",
    "event:props:plan",
    "event:props:step",
]

# Hand-placed events for the presets, read with now = 2024-03-14T12:00:00Z.
PRESET_NOW = dt.datetime(2024, 3, 14, 12, 0, tzinfo=UTC)
PRESET_TIMES = [
    "2022-06-01T00:00:00Z",  # all
    "2023-03-31T23:59:59Z",  # all (12mo starts 2023-04-01)
    "2023-04-01T00:00:00Z",  # 12mo
    "2024-02-13T23:59:59Z",  # 12mo (30d starts 2024-02-14)
    "2024-02-14T00:00:00Z",  # 30d
    "2024-02-29T12:00:00Z",  # 30d (month starts 2024-03-01)
    "2024-03-01T00:00:00Z",  # month
    "2024-03-07T23:59:59Z",  # month (7d starts 2024-03-08)
    "2024-03-08T00:00:00Z",  # 7d
    "2024-03-13T11:59:59Z",  # 7d (24h starts 2024-03-13T12:00)
    "2024-03-13T12:00:00Z",  # 24h
    "2024-03-13T23:59:59Z",  # 24h (today starts 2024-03-14)
    "2024-03-14T00:00:00Z",  # today
    "2024-03-14T11:59:00Z",  # today
]
PRESET_EXPECTED = {
    "all": (14, [None, None]),
    "12mo": (12, ["2023-04-01T00:00:00Z", None]),
    "30d": (10, ["2024-02-14T00:00:00Z", None]),
    "month": (8, ["2024-03-01T00:00:00Z", None]),
    "7d": (6, ["2024-03-08T00:00:00Z", None]),
    "24h": (4, ["2024-03-13T12:00:00Z", None]),
    "today": (2, ["2024-03-14T00:00:00Z", None]),
}


ENTRY_VISIT: list[dict[str, Any]] = [
    {
        "ts": "2024-03-01T10:00:00Z",
        "url": "https://example.com/landing?utm_campaign=spring",
        "referrer": "https://www.google.com/",
        "device": "mobile",
        "country": "DE",
    },
    {"ts": "2024-03-01T10:05:00Z", "url": "https://example.com/next", "device": "desktop"},
]


@dataclass
class Loaded:
    client: TestClient
    services: Services
    reference: Reference
    site: list[GenEvent]


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory, store_maker: StoreMaker) -> Iterator[Loaded]:
    site = generate(app="site")
    other = generate(app="other", visits=20, seed=11)
    data_dir: Path = tmp_path_factory.mktemp("query-results")
    settings = Settings(data_dir=data_dir, store=store_maker.new())
    with TestClient(create_app(settings)) as client:
        response = client.post("/api/v1/events", json=[e.payload() for e in site])
        assert response.status_code == 202, response.text
        assert response.json()["accepted"] == len(site)
        ndjson = "\n".join(json.dumps(e.payload()) for e in other)
        response = client.post(
            "/api/v1/events",
            content=ndjson,
            headers={"content-type": "application/x-ndjson"},
        )
        assert response.status_code == 202, response.text
        presets = [
            {"app": "presets", "ts": ts, "user_id": f"u{i}", "session_id": f"p{i}", "url": "/"}
            for i, ts in enumerate(PRESET_TIMES)
        ]
        assert client.post("/api/v1/events", json=presets).status_code == 202
        # A visit imported out of order whose client changed device half way.
        late_landing = [
            {**ENTRY_VISIT[1], "app": "entry", "session_id": "e1", "user_id": "ann"},
            {**ENTRY_VISIT[0], "app": "entry", "session_id": "e1", "user_id": "ann"},
        ]
        assert client.post("/api/v1/events", json=late_landing).status_code == 202
        # The same visit received in order.
        in_order = [
            {**ENTRY_VISIT[0], "app": "in-order", "session_id": "e2", "user_id": "bob"},
            {**ENTRY_VISIT[1], "app": "in-order", "session_id": "e2", "user_id": "bob"},
        ]
        assert client.post("/api/v1/events", json=in_order).status_code == 202
        services: Services = client.app.state.services  # type: ignore[attr-defined]
        yield Loaded(client, services, Reference(site + other), site)


# -- helpers ---------------------------------------------------------------------------


def post(client: TestClient, body: dict[str, Any]) -> dict[str, Any]:
    response = client.post("/api/v1/query", json=body)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def get(client: TestClient, body: dict[str, Any]) -> dict[str, Any]:
    """The same query as GET parameters: lists comma-separated, filters and order as JSON."""
    params: dict[str, Any] = {"app": body.get("app", "default")}
    date_range = body.get("date_range", "7d")
    params["date_range"] = ",".join(date_range) if isinstance(date_range, list) else date_range
    params["metrics"] = ",".join(body["metrics"])
    if body.get("dimensions"):
        params["dimensions"] = ",".join(body["dimensions"])
    for key in ("filters", "order_by"):
        if key in body:
            params[key] = json.dumps(body[key])
    for key in ("limit", "offset"):
        if key in body:
            params[key] = body[key]
    response = client.get("/api/v1/query", params=params)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def as_groups(answer: dict[str, Any]) -> dict[tuple[Any, ...], list[Any]]:
    rows = answer["results"]
    groups = {tuple(row["dimensions"]): row["metrics"] for row in rows}
    assert len(groups) == len(rows), "a group is answered twice"
    assert answer["meta"]["rows"] == len(rows)
    return groups


def body_for(
    dimensions: Sequence[str] = (),
    filters: Sequence[Sequence[Any]] = (),
    metrics: Sequence[str] = METRICS,
    app: str = "site",
    date_range: str | list[str] = "all",
    **extra: Any,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "app": app,
        "date_range": date_range,
        "metrics": list(metrics),
        "dimensions": list(dimensions),
        "limit": 10_000,
        **extra,
    }
    if filters:
        body["filters"] = [list(f) for f in filters]
    return body


def check(
    loaded: Loaded,
    dimensions: Sequence[str] = (),
    filters: Sequence[Sequence[Any]] = (),
    metrics: Sequence[str] = METRICS,
    *,
    app: str = "site",
    via_get: bool = True,
) -> dict[tuple[Any, ...], list[Any]]:
    body = body_for(dimensions, filters, metrics, app)
    expected = loaded.reference.query(
        app=app, metrics=metrics, dimensions=dimensions, filters=filters
    )
    answered = as_groups(post(loaded.client, body))
    assert answered == expected
    if via_get:
        assert as_groups(get(loaded.client, body)) == expected
    return answered


# -- every metric, every dimension -------------------------------------------------------


def test_totals_of_every_metric(loaded: Loaded) -> None:
    answer = post(loaded.client, body_for())
    assert len(answer["results"]) == 1
    expected = loaded.reference.query(app="site", metrics=METRICS)
    assert answer["results"][0] == {"dimensions": [], "metrics": expected[()]}
    events = loaded.site
    # A few totals worked out by hand from the generated events, as a sanity anchor.
    assert expected[()][0] == len(events)
    assert expected[()][3] == len({e.session_id for e in events})
    assert answer["meta"]["metrics"] == METRICS
    assert answer["meta"]["date_range"] == [None, None]


@pytest.mark.parametrize("dimension", DIMENSIONS)
def test_every_dimension_with_every_metric(loaded: Loaded, dimension: str) -> None:
    groups = check(loaded, [dimension])
    assert len(groups) > 1, "the data set should split on every dimension"


@pytest.mark.parametrize(
    "dimensions",
    [
        ["time:day", "event:page"],
        ["visit:source", "visit:device"],
        ["event:name", "event:props:plan"],
        ["time:hour", "visit:country", "user_id"],
    ],
)
def test_several_dimensions(loaded: Loaded, dimensions: list[str]) -> None:
    check(loaded, dimensions)


@pytest.mark.parametrize("dimension", ["visit:country", "user_id", "visit:browser", "visit:source"])
def test_null_is_a_group_of_its_own(loaded: Loaded, dimension: str) -> None:
    groups = check(loaded, [dimension], via_get=False)
    assert (None,) in groups


@pytest.mark.parametrize("dimensions", [[], ["visit:country"], ["time:day", "event:name"]])
def test_only_visit_metrics(loaded: Loaded, dimensions: list[str]) -> None:
    check(loaded, dimensions, metrics=["bounce_rate", "visit_duration", "views_per_visit"])


def test_visit_dimensions_attribute_every_event_of_a_visit(loaded: Loaded) -> None:
    """Entry attribution: pageviews split by source add up to all pageviews."""
    total = post(loaded.client, body_for(metrics=["pageviews", "visits"]))["results"][0]
    by_source = as_groups(post(loaded.client, body_for(["visit:source"], [], ["pageviews"])))
    assert sum(m[0] for m in by_source.values()) == total["metrics"][0]
    by_device = as_groups(post(loaded.client, body_for(["visit:device"], [], ["visits"])))
    assert sum(m[0] for m in by_device.values()) == total["metrics"][1]


def _ask(
    loaded: Loaded,
    app: str,
    dimension: str,
    filters: list[list[Any]] | None = None,
    date_range: str | list[str] = "all",
) -> list[Any]:
    body = body_for([dimension], filters or [], ["events", "visits"], app, date_range)
    results: list[Any] = post(loaded.client, body)["results"]
    return results


def test_visit_dimensions_read_the_visits_entry_even_when_the_range_starts_after_it(
    loaded: Loaded,
) -> None:
    def ask(dimension: str, filters: list[list[Any]] | None = None, **kw: Any) -> list[Any]:
        return _ask(loaded, "in-order", dimension, filters, **kw)

    assert ask("visit:source") == [{"dimensions": ["Google"], "metrics": [2, 1]}]
    assert ask("visit:referrer_domain") == [{"dimensions": ["google.com"], "metrics": [2, 1]}]
    assert ask("visit:utm_campaign") == [{"dimensions": ["spring"], "metrics": [2, 1]}]
    assert ask("visit:device") == [{"dimensions": ["mobile"], "metrics": [2, 1]}]
    assert ask("visit:country") == [{"dimensions": ["DE"], "metrics": [2, 1]}]
    by_page = ask("event:page", [["is", "visit:country", ["DE"]]])
    assert by_page == [
        {"dimensions": ["/landing"], "metrics": [1, 1]},
        {"dimensions": ["/next"], "metrics": [1, 1]},
    ]
    # event: dimensions are each event's own client.
    assert ask("event:device") == [
        {"dimensions": ["desktop"], "metrics": [1, 1]},
        {"dimensions": ["mobile"], "metrics": [1, 1]},
    ]
    # A range that starts after the landing still sees the visit's entry, not /next's own.
    after_landing = ["2024-03-01T10:01:00Z", "2024-03-01"]
    for dimension, value in [
        ("visit:device", "mobile"),
        ("visit:source", "Google"),
        ("visit:country", "DE"),
        ("event:device", "desktop"),
        ("visit:entry_page", "/next"),  # the entry page is the first page in the range
    ]:
        expected = [{"dimensions": [value], "metrics": [1, 1]}]
        assert ask(dimension, date_range=after_landing) == expected, dimension


def test_visit_dimensions_read_the_first_event_received(loaded: Loaded) -> None:
    """The "entry" app's visit arrived exit first: /next (10:05, desktop, no referrer) was
    posted before /landing (10:00, mobile, from Google, DE, campaign spring). A visit's
    attributes are fixed by its first received event: the late landing does not re-stamp
    the event stored before it, and takes the visit's attributes itself."""

    def ask(dimension: str, filters: list[list[Any]] | None = None, **kw: Any) -> list[Any]:
        return _ask(loaded, "entry", dimension, filters, **kw)

    assert ask("visit:source") == [{"dimensions": [None], "metrics": [2, 1]}]
    assert ask("visit:referrer_domain") == [{"dimensions": [None], "metrics": [2, 1]}]
    assert ask("visit:utm_campaign") == [{"dimensions": [None], "metrics": [2, 1]}]
    assert ask("visit:device") == [{"dimensions": ["desktop"], "metrics": [2, 1]}]
    assert ask("visit:country") == [{"dimensions": [None], "metrics": [2, 1]}]
    assert ask("event:page", [["is", "visit:device", ["desktop"]]]) == [
        {"dimensions": ["/landing"], "metrics": [1, 1]},
        {"dimensions": ["/next"], "metrics": [1, 1]},
    ]
    assert ask("event:device") == [
        {"dimensions": ["desktop"], "metrics": [1, 1]},
        {"dimensions": ["mobile"], "metrics": [1, 1]},
    ]
    # The landing alone in the range is still counted under its visit's values.
    landing_only = ["2024-03-01T09:00:00Z", "2024-03-01T10:01:00Z"]
    assert ask("visit:device", date_range=landing_only) == [
        {"dimensions": ["desktop"], "metrics": [1, 1]}
    ]
    assert ask("event:device", date_range=landing_only) == [
        {"dimensions": ["mobile"], "metrics": [1, 1]}
    ]


def test_entry_and_exit_pages_follow_time_not_arrival(loaded: Loaded) -> None:
    # The "entry" app's visit arrived exit first: /next (10:05) was posted before /landing.
    def ask(dimension: str) -> list[Any]:
        body = body_for([dimension], [], ["events", "visits"], app="entry")
        results: list[Any] = post(loaded.client, body)["results"]
        return results

    assert ask("visit:entry_page") == [{"dimensions": ["/landing"], "metrics": [2, 1]}]
    assert ask("visit:exit_page") == [{"dimensions": ["/next"], "metrics": [2, 1]}]


def test_time_week_starts_on_monday(loaded: Loaded) -> None:
    groups = check(loaded, ["time:week"], metrics=["events"], via_get=False)
    for (week,) in groups:
        assert dt.date.fromisoformat(week).weekday() == 0
    assert set(groups) == {("2024-02-26",), ("2024-03-04",)}


def test_time_formats(loaded: Loaded) -> None:
    minute = post(loaded.client, body_for(["time:minute"], [], ["events"]))["results"][0]
    assert minute["dimensions"][0].endswith(":00Z")
    month = post(loaded.client, body_for(["time:month"], [], ["events"]))["results"]
    assert [row["dimensions"] for row in month] == [["2024-02-01"], ["2024-03-01"]]


# -- filters --------------------------------------------------------------------------

FILTERS: list[list[Any]] = [
    ["is", "event:page", ["/pricing", "/"]],
    ["is", "event:page", "/pricing"],
    ["is_not", "event:page", ["/pricing"]],
    ["is", "event:page", ["/PRICING"], {"case_sensitive": False}],
    ["is_not", "event:page", ["/PRICING"], {"case_sensitive": False}],
    ["contains", "event:page", ["blog"]],
    ["contains", "event:page", ["HELLO"]],
    ["contains", "event:page", ["HELLO"], {"case_sensitive": False}],
    ["contains", "event:page", ["intro", "api"]],
    ["contains_not", "event:page", ["docs"]],
    ["contains_not", "event:page", ["DOCS"], {"case_sensitive": False}],
    ["matches", "event:page", ["^/blog/[a-z]+$"]],
    ["matches", "event:page", ["^/DOCS/"], {"case_sensitive": False}],
    ["matches_not", "event:page", ["^/docs"]],
    ["matches_not", "event:page", ["^/DOCS"], {"case_sensitive": False}],
    ["is", "event:name", ["signup"]],
    ["is", "event:hostname", ["shop.example.com"]],
    ["is", "visit:source", ["Google", "newsletter"]],
    ["is_not", "visit:country", ["DE"]],
    ["contains", "visit:referrer_domain", ["co"]],
    ["is", "visit:utm_campaign", ["launch"]],
    ["matches", "visit:browser", ["^(Chrome|Firefox)$"]],
    ["is", "user_id", ["user-1", "user-2"]],
    ["is", "event:props:plan", ["pro"]],
    ["is", "event:props:plan", ["PRO"], {"case_sensitive": False}],
    ["is_not", "event:props:plan", ["free"]],
    ["contains", "event:props:plan", ["Pro"]],
    ["contains_not", "event:props:plan", ["pro"], {"case_sensitive": False}],
    ["matches", "event:props:plan", ["^p"], {"case_sensitive": False}],
    ["matches_not", "event:props:plan", ["Plus$"]],
    ["is", "event:props:step", [2]],
    ["is", "visit:entry_page", ["/"]],
    ["contains", "visit:exit_page", ["docs"]],
]


@pytest.mark.parametrize("flt", FILTERS, ids=lambda f: json.dumps(f))
def test_filter(loaded: Loaded, flt: list[Any]) -> None:
    check(loaded, [], [flt])
    check(loaded, ["event:page"], [flt], via_get=False)


def test_filters_combine_with_and(loaded: Loaded) -> None:
    filters = [
        ["is", "visit:device", ["desktop"]],
        ["contains_not", "event:page", ["docs"]],
        ["is_not", "event:props:plan", ["free"]],
    ]
    groups = check(loaded, ["visit:source"], filters)
    assert groups


def test_a_filter_keeps_whole_visits_for_visit_metrics(loaded: Loaded) -> None:
    """Signups are never a visit's first event, yet bounce and duration see whole visits."""
    groups = check(loaded, [], [["is", "event:name", ["signup"]]], via_get=False)
    _events, pageviews, *_rest = groups[()]
    assert pageviews == 0
    assert groups[()][METRICS.index("views_per_visit")] >= 1


# -- order and pages -----------------------------------------------------------------


def _null_last(value: Any) -> tuple[bool, Any]:
    return (value is None, value if value is not None else "")


def test_order_by_metric_then_dimensions(loaded: Loaded) -> None:
    body = body_for(["event:page"], [], ["pageviews", "visits"], order_by=[["pageviews", "desc"]])
    rows = post(loaded.client, body)["results"]
    expected = loaded.reference.query(
        app="site", metrics=["pageviews", "visits"], dimensions=["event:page"]
    )
    order = sorted(expected, key=lambda key: (-expected[key][0], key))
    assert [tuple(row["dimensions"]) for row in rows] == order
    assert [tuple(row["dimensions"]) for row in get(loaded.client, body)["results"]] == order


@pytest.mark.parametrize("direction", ["asc", "desc"])
def test_order_by_dimension(loaded: Loaded, direction: str) -> None:
    body = body_for(["visit:country"], [], ["events"], order_by=[["visit:country", direction]])
    rows = [row["dimensions"][0] for row in post(loaded.client, body)["results"]]
    known = sorted(v for v in rows if v is not None)
    assert rows == [*(known if direction == "asc" else known[::-1]), None]  # NULLs last


def test_default_order(loaded: Loaded) -> None:
    by_time = post(loaded.client, body_for(["time:day"], [], ["events"]))["results"]
    days = [row["dimensions"][0] for row in by_time]
    assert days == sorted(days)
    by_page = post(loaded.client, body_for(["event:page"], [], ["visitors", "events"]))["results"]
    visitors = [row["metrics"][0] for row in by_page]
    assert visitors == sorted(visitors, reverse=True)


@pytest.mark.parametrize(
    "order_by", [[["visits", "desc"]], [["bounce_rate", "asc"]], [["event:page", "desc"]], []]
)
def test_pages_never_overlap(loaded: Loaded, order_by: list[list[str]]) -> None:
    dims = ["event:page", "visit:device"]
    metrics = ["visits", "bounce_rate"]
    full = post(loaded.client, body_for(dims, [], metrics, order_by=order_by))["results"]
    assert len(full) > 10
    pages: list[dict[str, Any]] = []
    for offset in range(0, len(full) + 4, 4):
        body = body_for(dims, [], metrics, order_by=order_by, limit=4, offset=offset)
        page = post(loaded.client, body)["results"]
        assert len(page) == min(4, max(0, len(full) - offset))
        if offset == 4:
            assert get(loaded.client, body)["results"] == page
        pages.extend(page)
    assert pages == full
    keys = [tuple(row["dimensions"]) for row in pages]
    assert len(set(keys)) == len(keys)
    assert set(keys) == set(loaded.reference.query(app="site", metrics=metrics, dimensions=dims))


# -- date ranges ---------------------------------------------------------------------


def _utc(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).astimezone(UTC)


@pytest.mark.parametrize(
    ("date_range", "start", "end"),
    [
        (["2024-03-05", "2024-03-07"], "2024-03-05T00:00:00Z", "2024-03-08T00:00:00Z"),
        (["2024-03-06", "2024-03-06"], "2024-03-06T00:00:00Z", "2024-03-07T00:00:00Z"),
        (
            ["2024-03-05T10:30:00Z", "2024-03-08T09:15:00+01:00"],
            "2024-03-05T10:30:00Z",
            "2024-03-08T08:15:00.000001Z",  # `to` is included
        ),
        (["2024-03-02T00:00:00", "2024-03-30"], "2024-03-02T00:00:00Z", "2024-03-31T00:00:00Z"),
        (["2020-01-01", "2020-01-31"], "2020-01-01T00:00:00Z", "2020-02-01T00:00:00Z"),
    ],
)
def test_explicit_date_range(loaded: Loaded, date_range: list[str], start: str, end: str) -> None:
    for dims in ([], ["visit:source"], ["time:day"]):
        body = body_for(dims, date_range=date_range)
        expected = loaded.reference.query(
            app="site", metrics=METRICS, dimensions=dims, start=_utc(start), end=_utc(end)
        )
        answer = post(loaded.client, body)
        assert as_groups(answer) == expected
        assert as_groups(get(loaded.client, body)) == expected
        assert answer["meta"]["date_range"] == [start, end]


def test_a_range_that_cuts_a_visit_counts_what_is_inside(loaded: Loaded) -> None:
    """Events inside the range count; the cut visit keeps its source (its first event's,
    outside the range), and its entry page is its first page inside the range."""
    by_visit: dict[str, list[GenEvent]] = {}
    for event in loaded.site:
        by_visit.setdefault(event.session_id, []).append(event)
    cut = next(v for v in by_visit.values() if len(v) >= 3 and v[0].source is not None)
    start = cut[1].ts
    date_range = [start.isoformat(), "2024-03-31"]
    for dims in ([], ["visit:source"], ["event:page"], ["visit:entry_page"]):
        expected = loaded.reference.query(
            app="site", metrics=METRICS, dimensions=dims, start=start, end=_utc("2024-04-01")
        )
        assert as_groups(post(loaded.client, body_for(dims, date_range=date_range))) == expected


@pytest.mark.parametrize("preset", list(PRESET_EXPECTED))
def test_presets_with_a_fixed_now(loaded: Loaded, preset: str) -> None:
    count, date_range = PRESET_EXPECTED[preset]
    query = Query(app="presets", date_range=preset, metrics=["events", "visitors", "visits"])
    for now in (
        PRESET_NOW,
        PRESET_NOW.replace(tzinfo=None),
        PRESET_NOW.astimezone(dt.timezone(dt.timedelta(hours=-5))),
    ):
        answer = run_query(loaded.services.store, query, now=now)
        assert answer["results"] == [{"dimensions": [], "metrics": [count, count, count]}]
        assert answer["meta"]["date_range"] == date_range


def test_presets_over_http_use_the_clock(loaded: Loaded) -> None:
    """Every generated event is older than 30 days today; `all` sees them, `30d` not."""
    assert post(loaded.client, body_for(metrics=["events"], date_range="30d"))["results"] == [
        {"dimensions": [], "metrics": [0]}
    ]
    answer = get(loaded.client, body_for(metrics=["events"], date_range="all"))
    assert answer["results"][0]["metrics"] == [len(loaded.site)]


# -- apps and empty answers ----------------------------------------------------------


def test_apps_are_isolated(loaded: Loaded) -> None:
    check(loaded, [], app="other")
    check(loaded, ["visit:source"], app="other")
    check(loaded, ["user_id"], [["is", "event:name", ["pageview"]]], app="other")
    site = as_groups(post(loaded.client, body_for(["user_id"], [], ["events"])))
    other = as_groups(post(loaded.client, body_for(["user_id"], [], ["events"], app="other")))
    # Same user ids and session ids in both apps, different numbers.
    assert set(site) & set(other)
    assert site != other


def test_an_app_without_events(loaded: Loaded) -> None:
    empty = post(loaded.client, body_for(app="nobody"))
    assert empty["results"] == [{"dimensions": [], "metrics": [0, 0, 0, 0, None, None, None, None]}]
    assert post(loaded.client, body_for(["event:page"], app="nobody"))["results"] == []
    only_visits = post(loaded.client, body_for(metrics=["bounce_rate"], app="nobody"))
    assert only_visits["results"] == [{"dimensions": [], "metrics": [None]}]
    filtered = body_for(filters=[["is", "event:page", ["/nowhere"]]])
    assert post(loaded.client, filtered)["results"][0]["metrics"][:4] == [0, 0, 0, 0]


# -- errors ----------------------------------------------------------------------------


def _error(client: TestClient, body: dict[str, Any], status: int = 400) -> str:
    response = client.post("/api/v1/query", json=body)
    assert response.status_code == status, response.text
    detail = response.json()["detail"]
    return detail if isinstance(detail, str) else json.dumps(detail)


def _get_error(client: TestClient, params: dict[str, Any], status: int = 400) -> str:
    response = client.get("/api/v1/query", params=params)
    assert response.status_code == status, response.text
    detail = response.json()["detail"]
    return detail if isinstance(detail, str) else json.dumps(detail)


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"metrics": ["events", "pageviewz"]}, "pageviewz"),
        ({"dimensions": ["event:pgae"]}, "event:pgae"),
        ({"filters": [["equals", "event:page", ["/"]]]}, "equals"),
        ({"filters": [["is", "visit:nothing", ["/"]]]}, "visit:nothing"),
        ({"filters": [["is", "event:page"]]}, "filter 0"),
        ({"filters": [["is", "event:page", []]]}, "filter 0"),
        ({"filters": [["is", "time:day", ["2024-03-04"]]]}, "time:day"),
        ({"filters": [["matches", "event:page", ["(?=lookahead)"]]]}, "(?=lookahead)"),
        ({"filters": [["matches", "event:page", ["([unclosed"]]]}, "([unclosed"),
        ({"filters": [["contains", "event:page", ["a"], {"case_sensitive": "no"}]]}, "filter 0"),
        ({"order_by": [["visitors", "desc"]]}, "visitors"),
        ({"dimensions": ["event:props:a'b"]}, "a'b"),
        ({"dimensions": ["event:props:'; DROP TABLE events; --"]}, "DROP TABLE"),
        ({"filters": [["is", 'event:props:x"y', ["1"]]]}, 'x"y'),
        ({"date_range": "yesterday"}, "yesterday"),
        ({"date_range": ["2024-03-01"]}, "[from, to]"),
        ({"date_range": ["2024-03-10", "2024-03-01"]}, "ends before it starts"),
        ({"date_range": ["2024-02-30", "2024-03-01"]}, "2024-02-30"),
        ({"date_range": ["not a date", "2024-03-01"]}, "not a date"),
        ({"metrics": ["events", "events"]}, "twice"),
        ({"dimensions": ["time:day", "time:hour"]}, "time"),
    ],
)
def test_bad_queries_are_400s_naming_the_problem(
    loaded: Loaded, change: dict[str, Any], named: str
) -> None:
    body = {**body_for(metrics=["events"]), **change}
    assert named in _error(loaded.client, body)


@pytest.mark.parametrize("limit", [0, -1, 10_001])
def test_limit_out_of_range(loaded: Loaded, limit: int) -> None:
    assert "limit" in _error(loaded.client, body_for(limit=limit), status=422)
    assert "limit" in _get_error(loaded.client, {"metrics": "events", "limit": limit})


def test_bad_get_parameters(loaded: Loaded) -> None:
    assert "nope" in _get_error(loaded.client, {"metrics": "events,nope"})
    assert "filters" in _get_error(loaded.client, {"metrics": "events", "filters": "[oops"})
    assert "bad" in _get_error(loaded.client, {"metrics": "events", "date_range": "bad"})
    assert "2024-13-01" in _get_error(
        loaded.client, {"metrics": "events", "date_range": "2024-13-01,2024-12-31"}
    )
    assert "offset" in _get_error(loaded.client, {"metrics": "events", "offset": -1})


def test_get_accepts_repeated_parameters(loaded: Loaded) -> None:
    response = loaded.client.get(
        "/api/v1/query",
        params=[
            ("app", "site"),
            ("date_range", "all"),
            ("metrics", "events"),
            ("metrics", "visits"),
            ("dimensions", "event:name"),
        ],
    )
    assert response.status_code == 200, response.text
    expected = loaded.reference.query(
        app="site", metrics=["events", "visits"], dimensions=["event:name"]
    )
    assert as_groups(response.json()) == expected


def _count_events(loaded: Loaded) -> int:
    rows = loaded.services.store.query("SELECT count(*) FROM events")
    return int(rows[0][0])


@pytest.mark.parametrize(
    "value",
    [
        "x'; DROP TABLE events; --",
        "' OR '1'='1",
        '") OR 1=1 --',
        "%",
        "/' UNION SELECT * FROM events --",
    ],
)
def test_injection_in_values_is_just_a_value(loaded: Loaded, value: str) -> None:
    before = _count_events(loaded)
    for op in ("is", "contains", "matches"):
        pattern = value if op != "matches" else "^" + value.replace("(", r"\(").replace(")", r"\)")
        for dimension in ("event:page", "event:props:plan"):
            body = body_for(filters=[[op, dimension, [pattern]]], metrics=["events"])
            assert post(loaded.client, body)["results"] == [{"dimensions": [], "metrics": [0]}]
    body = body_for(app=value, metrics=["events"])
    assert post(loaded.client, body)["results"] == [{"dimensions": [], "metrics": [0]}]
    assert _count_events(loaded) == before
