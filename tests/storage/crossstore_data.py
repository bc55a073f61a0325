"""A large generated data set for comparing stores, and the comparison itself.

Built straight as `Event`s (no HTTP: 100,000 events load in seconds) from a
seeded RNG: 4 apps, 90 days, visits of 1–12 events, users, props of every
JSON type, UTM, referrers, clients, countries, durations, non-interactive
events, events without a visit, non-ASCII paths, several events in the same
microsecond, and out-of-order arrival; visit attributes stamped as ingest does.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import random
import uuid
from collections.abc import Iterator, Sequence
from typing import Any

from footfall.ingest.enrich.sessionize import VisitStamper
from footfall.model import Event
from footfall.query import registry
from footfall.query.model import Query
from footfall.query.runner import run_query
from footfall.storage.base import Store

APPS = ("shop", "blog", "docs", "tiny")
FIRST_DAY = dt.datetime(2024, 4, 2)  # 90 days: 2024-04-02 … 2024-06-30
DAYS = 90
PATHS = (
    "/",
    "/pricing",
    "/Pricing",
    "/blog/hello-world",
    "/blog/zweite-straße",
    "/docs/intro",
    "/docs/api/v1",
    "/café/ÜBER",
    "/checkout",
    "/search",
)
HOSTS = ("example.com", "shop.example.com", None)
REFERRERS = (
    (None, None, None),
    (None, None, None),
    ("https://www.google.com/search", "google.com", "Google"),
    ("https://news.ycombinator.com/", "news.ycombinator.com", "Hacker News"),
    ("https://t.co/x", "t.co", "Twitter"),
    ("https://blog.example.org/post", "blog.example.org", "blog.example.org"),
)
UTMS = (
    (None, None, None, None, None),
    (None, None, None, None, None),
    ("newsletter", "email", "spring", None, None),
    ("twitter", "social", "launch", "analytics", "banner"),
    ("Newsletter", "Email", "Spring", None, None),
)
CLIENTS = (
    ("Chrome", "122", "Windows", "10", "desktop"),
    ("Chrome", "121", "Mac OS X", "14", "desktop"),
    ("Firefox", "123", "Ubuntu", None, "desktop"),
    ("Mobile Safari", "17", "iOS", "17.3", "mobile"),
    ("Samsung Internet", "24", "Android", "14", "mobile"),
    (None, None, None, None, "tablet"),
)
COUNTRIES = ("DE", "US", "FR", "BR", None)
NAMES = ("pageview",) * 6 + ("signup", "click", "Download")


def _props(rng: random.Random) -> str:
    kind = rng.randrange(8)
    if kind == 0:
        return "{}"
    props: dict[str, Any] = {"plan": rng.choice(["free", "pro", "Pro Plus", "enterprise"])}
    if kind >= 3:
        props["step"] = rng.randrange(1, 5)
    if kind == 4:
        props["ratio"] = rng.choice([0.5, 1.25, 2.0])
    if kind == 5:
        props["flag"] = rng.random() < 0.5
    if kind == 6:
        props["nested"] = {"k": rng.randrange(3)}
        props["none"] = None
    if kind == 7:
        props["plan"] = None
    return json.dumps(props)


def generate(target: int = 100_000, seed: int = 5) -> list[Event]:
    """At least `target` events, deterministic for a seed, in a shuffled arrival order."""
    rng = random.Random(seed)
    events: list[Event] = []
    visit = 0
    while len(events) < target:
        visit += 1
        app = APPS[min(rng.randrange(7), 3)]  # the last app gets few visits
        day = rng.randrange(DAYS)
        start = FIRST_DAY + dt.timedelta(days=day, seconds=rng.randrange(86_400))
        referrer, ref_domain, source = rng.choice(REFERRERS)
        utm = rng.choice(UTMS)
        if utm[0] is not None and source is None:
            source = utm[0]
        client = rng.choice(CLIENTS)
        country = rng.choice(COUNTRIES)
        visitor = rng.randrange(1, 30_000)
        user = f"user-{rng.randrange(500)}" if rng.random() < 0.3 else None
        session = None if rng.random() < 0.03 else f"v{visit}"
        at = start
        for i in range(rng.choice((1, 1, 2, 3, 4, 6, 12))):
            if i and rng.random() < 0.9:
                at += dt.timedelta(seconds=rng.randrange(1, 600), microseconds=rng.randrange(10**6))
            # Later events of a visit mostly keep its client; some switch device.
            b, bv, os, osv, device = client if rng.random() < 0.9 else rng.choice(CLIENTS)
            path = rng.choice(PATHS)
            events.append(
                Event(
                    app=app,
                    id=uuid.UUID(int=rng.getrandbits(128), version=4),
                    client_id=False,
                    ts=int((at - dt.datetime(1970, 1, 1)).total_seconds() * 1_000_000),
                    name=rng.choice(NAMES) if i else "pageview",
                    user_id=user,
                    session_id=session,
                    visitor_id=visitor,
                    url=f"https://example.com{path}",
                    hostname=rng.choice(HOSTS),
                    path=path if rng.random() < 0.98 else None,
                    referrer=referrer if i == 0 else None,
                    referrer_domain=ref_domain if i == 0 else None,
                    source=source if i == 0 else None,
                    utm_source=utm[0] if i == 0 else None,
                    utm_medium=utm[1] if i == 0 else None,
                    utm_campaign=utm[2] if i == 0 else None,
                    utm_term=utm[3] if i == 0 else None,
                    utm_content=utm[4] if i == 0 else None,
                    browser=b,
                    browser_version=bv,
                    os=os,
                    os_version=osv,
                    device=device,
                    country=country,
                    duration=rng.choice([None, None, 0.0, 1.5, 30.25, rng.random() * 100]),
                    props=_props(rng),
                    interactive=rng.random() < 0.9,
                )
            )
    rng.shuffle(events)  # arrival order is not time order
    # Stamped as ingest does, in arrival order: each visit's attributes are its first
    # received event's (shuffled, so often not its entry, and visits forgotten between
    # far-apart arrivals start over: one session id can carry two sets of attributes).
    stamper = VisitStamper()
    for event in events:
        stamper.stamp(event)
    return events


def load(store: Store, events: Sequence[Event], batch: int = 20_000) -> None:
    """Append `events` in writer-sized batches, seq 1, 2, 3… in list order."""
    for start in range(0, len(events), batch):
        chunk = events[start : start + batch]
        seqs = store.append(chunk, start + 1)
        assert seqs == list(range(start + 1, start + 1 + len(chunk)))


# -- the questions ---------------------------------------------------------------------

# Every metric the registry defines, so a new one is compared without a second list.
METRICS = list(registry.METRICS)
RANGES: list[str | list[str]] = [
    "all",
    ["2024-05-01", "2024-05-31"],
    ["2024-06-10T13:30:00Z", "2024-06-20T08:00:00Z"],
]
FILTERS: list[list[Any]] = [
    ["is", "event:page", ["/pricing", "/"]],
    ["is_not", "event:page", ["/pricing"]],
    ["is", "event:page", ["/CAFÉ/über"], {"case_sensitive": False}],
    ["contains", "event:page", ["STRASSE", "straße"], {"case_sensitive": False}],
    ["contains_not", "event:page", ["docs"]],
    ["matches", "event:page", ["^/blog/[a-z-]+$"]],
    ["matches_not", "event:page", ["^/DOCS"], {"case_sensitive": False}],
    ["is", "event:name", ["signup", "Download"]],
    ["is", "visit:source", ["Google", "newsletter", "Newsletter"]],
    ["is_not", "visit:country", ["DE"]],
    ["is", "visit:utm_campaign", ["spring"], {"case_sensitive": False}],
    ["is", "visit:entry_page", ["/"]],
    ["contains", "visit:exit_page", ["docs"]],
    ["is", "event:props:plan", ["pro", "Pro Plus"]],
    ["is", "event:props:step", ["2"]],
    ["is_not", "event:props:flag", ["true"]],
    ["matches", "visit:browser", ["^(Chrome|Firefox)$"]],
    ["is", "user_id", ["user-1", "user-2", "user-3"]],
]
EXTRA_DIMENSIONS = [
    "event:props:plan",
    "event:props:step",
    "event:props:ratio",
    "event:props:flag",
    "event:props:nested",
    "event:props:none",
    "event:props:missing",
    "time:bucket:15 minutes",
    "time:bucket:1 week",
    "time:bucket:2 months",
]


def questions(dimensions: Sequence[str]) -> Iterator[Query]:
    """Every metric × every dimension × the date ranges; the filters × a few dimensions."""
    all_dims = [*dimensions, *EXTRA_DIMENSIONS]
    for app in APPS[:2]:
        for date_range in RANGES:
            yield Query(app=app, date_range=date_range, metrics=METRICS, limit=10_000)
    # Each dimension over a whole app and over a range cut at odd instants (which cuts
    # visits, so entries and exits move), on two apps.
    for app, date_range in (("shop", RANGES[0]), ("blog", RANGES[2])):
        for dimension in all_dims:
            yield Query(
                app=app,
                date_range=date_range,
                metrics=METRICS,
                dimensions=[dimension],
                limit=10_000,
            )
    for flt in FILTERS:
        for dims in ([], ["event:page"], ["visit:source", "time:week"]):
            for date_range in RANGES[:2]:
                yield Query(
                    app="shop",
                    date_range=date_range,
                    metrics=METRICS,
                    dimensions=dims,
                    filters=[flt],
                    limit=10_000,
                )
    yield Query(
        app="tiny",
        date_range="all",
        metrics=METRICS,
        dimensions=["visit:device", "visit:os_family"],
        filters=FILTERS[4:6],
        order_by=[("bounce_rate", "asc"), ("visit:device", "desc")],
        limit=5,
        offset=3,
    )


# Rounded floats may land one unit of their last decimal apart when two engines sum in
# different orders (2 decimals: 0.01); everything else must be identical.
FLOAT_TOLERANCE = 0.011


def same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, abs_tol=FLOAT_TOLERANCE)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    return bool(a == b)


def differences(stores: dict[str, Store], queries: Sequence[Query], now: dt.datetime) -> list[str]:
    """Queries whose answers differ between the stores, described; [] when all agree."""
    problems: list[str] = []
    names = list(stores)
    for query in queries:
        answers = {name: run_query(stores[name], query, now=now) for name in names}
        first = answers[names[0]]
        for name in names[1:]:
            if not same(first, answers[name]):
                problems.append(_describe(query, names[0], first, name, answers[name]))
    return problems


def _describe(query: Query, a: str, left: dict[str, Any], b: str, right: dict[str, Any]) -> str:
    rows_a, rows_b = left["results"], right["results"]
    detail = f"{len(rows_a)} vs {len(rows_b)} rows"
    for i, (x, y) in enumerate(zip(rows_a, rows_b, strict=False)):
        if not same(x, y):
            detail = f"row {i}: {a} {x} vs {b} {y}"
            break
    return f"{query.model_dump_json(exclude_defaults=True)}: {detail}"
