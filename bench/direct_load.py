"""Write a generated data set straight into stores, without HTTP: numpy → Arrow → file.

Loading 10 M events through `POST /api/v1/events` takes minutes; this takes
seconds, so the query benchmark can run on large stores. The rows are the
ones footfall's own ingest would store for the same NDJSON (bench/datagen.py):
hostname, path, UTM, referrer domain and source are derived by footfall's own
enrichment functions (once per distinct value), every event carries its
visit's origin and client (the `visit_*` columns) as ingest stamps them,
timestamps are cut to the milliseconds the NDJSON carries, and events are
stored in time order with `seq` 1…N, as live traffic is. The file itself is created by footfall's
`DuckDBStore`, so it has exactly the schema and migrations a server makes.

Two things differ by design: event ids are fresh UUIDv7s, and an anonymous
visitor's id is a deterministic number per (visitor, UTC day) instead of a
keyed hash with that day's random salt: the same visitors, days and counts,
other id values. tests/e2e/test_bench_smoke.py checks that every dashboard
query answers the same on a store loaded here and one loaded over HTTP.

It also fills the contract 003 replica's SQLite table with one app's events.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from bench import datagen
from bench.datagen import APPS, CAMPAIGNS, CLIENTS, COUNTRIES, CUSTOM_EVENTS, REFERRERS, Simulation
from footfall.ingest.enrich.referrer import canonical_source, referrer_source
from footfall.ingest.enrich.visitor import known_visitor_id
from footfall.ingest.urls import referrer_domain, split_url
from footfall.model import EVENT_COLUMNS, VISIT_CLIENT_COLUMNS
from footfall.storage.arrow_batch import ARROW_SCHEMA
from footfall.storage.duckdb_store import DuckDBStore

IntArray = npt.NDArray[np.int64]
DAY_US = 86_400_000_000
# Anonymous ids have the top bit set; known (user id) ids are blake2b digests, which
# could have it too, but a collision among 2^64 values is not a concern at 100 M rows.
_ANONYMOUS = np.uint64(1 << 63)


@dataclass(frozen=True)
class Loaded:
    events: int
    per_app: dict[str, int]
    seconds: float


def _strings(values: Sequence[str | None], indices: IntArray) -> pa.Array:
    """A dictionary-encoded string column: `values[indices[i]]` (None stays null)."""
    dictionary = pa.array(values, type=pa.string())
    decoded: pa.Array = pa.DictionaryArray.from_arrays(
        pa.array(indices, type=pa.int32()), dictionary
    ).cast(pa.string())
    return decoded


def arrow_events(sim: Simulation) -> pa.Table:
    """The simulation's events as rows of footfall's event table, in time order."""
    order = sim.order
    visit = sim.visit_of[order]
    app = sim.visit_app[visit]
    visitor = sim.visit_visitor[visit]
    campaign = sim.visit_campaign[visit]  # -1: none
    ref = sim.visit_referrer[visit]
    position = sim.position[order]
    custom = sim.is_custom[order]
    kind = sim.custom_kind[order]
    pick = sim.prop_pick[order]
    rank = sim.page_rank[order]
    last = sim.is_last[order]
    n = sim.events
    # The NDJSON carries milliseconds (bench/datagen.py); so does the store.
    ts_us = sim.ts_us[order] // 1000 * 1000

    columns: dict[str, pa.Array] = {}
    columns["app"] = _strings([a for a, _ in APPS], app)
    columns["seq"] = pa.array(np.arange(1, n + 1, dtype=np.int64))
    columns["ts"] = pa.array(ts_us.astype("datetime64[us]"), type=pa.timestamp("us"))

    # Event names and props: pageview with "{}", or one custom event and its one prop.
    names: list[str | None] = ["pageview"]
    props: list[str | None] = ["{}"]
    prop_base: list[int] = []
    for name, _, key, values in CUSTOM_EVENTS:
        names.append(name)
        prop_base.append(len(props))
        props += [f'{{"{key}":"{value}"}}' for value in values]
    sizes = np.array([len(c[3]) for c in CUSTOM_EVENTS], dtype=np.int64)
    name_index = np.where(custom, kind + 1, 0)
    prop_index = np.where(custom, np.array(prop_base)[kind] + pick % sizes[kind], 0)
    columns["name"] = _strings(names, name_index)
    columns["props"] = _strings(props, prop_index)

    has_user = sim.visitor_has_user[visitor]
    user_values: list[str | None] = [None] + [f"user-{v}" for v in range(sim.n_visitors)]
    columns["user_id"] = _strings(user_values, np.where(has_user, visitor + 1, 0))
    columns["session_id"] = _strings([f"s{v:x}" for v in range(sim.n_visits)], visit)

    # Known visitors: footfall's own hash of (app, user id), one call per such visitor.
    known = np.zeros(sim.n_visitors, dtype=np.uint64)
    visitor_app = np.zeros(sim.n_visitors, dtype=np.int64)
    visitor_app[sim.visit_visitor] = sim.visit_app
    for v in np.flatnonzero(sim.visitor_has_user).tolist():
        known[v] = known_visitor_id(APPS[int(visitor_app[v])][0], f"user-{v}")
    day = (ts_us // DAY_US).astype(np.uint64)
    anonymous = _ANONYMOUS | (day << np.uint64(32)) | visitor.astype(np.uint64)
    columns["visitor_id"] = pa.array(np.where(has_user, known[visitor], anonymous))

    # Pages: one URL per (app, page, landing campaign); the path and host from footfall.
    n_pages = datagen.PAGES_PER_APP
    n_tags = len(CAMPAIGNS) + 1
    urls: list[str | None] = []
    paths: list[str | None] = []
    hosts: list[str | None] = []
    for app_index, (app_name, _) in enumerate(APPS):
        for page in sim.catalogs[app_index]:
            for tag in range(n_tags):
                query = ""
                if tag:
                    source, medium, campaign_name, _ = CAMPAIGNS[tag - 1]
                    query = f"?utm_source={source}&utm_medium={medium}&utm_campaign={campaign_name}"
                url = f"https://{app_name}{page}{query}"
                parts = split_url(url)
                urls.append(url)
                paths.append(parts.path)
                hosts.append(parts.hostname)
    landing_tag = np.where(position == 0, campaign + 1, 0)
    url_index = (app * n_pages + rank) * n_tags + landing_tag
    columns["url"] = _strings(urls, url_index)
    columns["hostname"] = _strings(hosts, url_index)
    columns["path"] = _strings(paths, url_index)

    # Where the visit came from: (referrer, campaign) decide referrer domain and source.
    referrers: list[str | None] = []
    domains: list[str | None] = []
    sources: list[str | None] = []
    for referrer, _ in REFERRERS:
        domain = referrer_domain(referrer)
        for tag_index in range(n_tags):
            referrers.append(referrer)
            domains.append(domain)
            if tag_index:
                sources.append(canonical_source(CAMPAIGNS[tag_index - 1][0]))
            elif domain is not None and referrer is not None:
                sources.append(referrer_source(referrer) or domain)
            else:
                sources.append(None)
    origin = ref * n_tags + campaign + 1
    columns["referrer"] = _strings(referrers, origin)
    columns["referrer_domain"] = _strings(domains, origin)
    columns["source"] = _strings(sources, origin)
    for field_index, column in enumerate(("utm_source", "utm_medium", "utm_campaign")):
        tags: list[str | None] = [None, *(str(c[field_index]) for c in CAMPAIGNS)]
        columns[column] = _strings(tags, campaign + 1)

    client = sim.visitor_client[visitor]
    for field_index, column in enumerate(("browser", "os", "device")):
        columns[column] = _strings([str(c[field_index]) for c in CLIENTS], client)
    columns["country"] = _strings([c for c, _ in COUNTRIES], sim.visitor_country[visitor])
    # The visit's client, as ingest stamps it (its first event's): a visitor keeps one
    # client, so every event's own is its visit's. The origin columns above already hold
    # the visit's origin on every event, as the stamp leaves them.
    for own, visit_column in VISIT_CLIENT_COLUMNS.items():
        if own in columns:
            columns[visit_column] = columns[own]

    gap = np.round(sim.next_gap[order], 1)
    columns["duration"] = pa.array(gap, mask=custom | last, type=pa.float64())
    columns["interactive"] = pa.array(np.ones(n, dtype=bool))

    arrays = []
    for field in ARROW_SCHEMA:
        if field.name == "id":
            continue  # made by DuckDB on insert (uuidv7)
        arrays.append(columns.get(field.name, pa.nulls(n, type=field.type)))
    schema = pa.schema([f for f in ARROW_SCHEMA if f.name != "id"])
    return pa.Table.from_arrays(arrays, schema=schema)


def load_footfall_store(table: pa.Table, path: Path) -> Loaded:
    """Create `path` with footfall's own migrations and append `arrow_events`' table."""
    started = time.perf_counter()
    store = DuckDBStore(path)
    store.open()
    store.close()
    columns = ", ".join("uuidv7() AS id" if c == "id" else c for c in EVENT_COLUMNS)
    conn = duckdb.connect(str(path))
    try:
        conn.register("incoming_events", table)
        conn.execute(f"INSERT INTO events BY NAME SELECT {columns} FROM incoming_events")
        conn.unregister("incoming_events")
        conn.execute("CHECKPOINT")
        rows = conn.execute("SELECT app, count(*) FROM events GROUP BY app").fetchall()
    finally:
        conn.close()
    per_app = {str(app): int(count) for app, count in rows}
    return Loaded(sum(per_app.values()), per_app, time.perf_counter() - started)


def load_contract003(table: pa.Table, path: Path, app: str = datagen.MAIN_APP) -> Loaded:
    """Fill the contract 003 replica's SQLite with `app`'s events (user, type, time, props)."""
    from bench.replicas.contract003 import create_schema

    started = time.perf_counter()
    mask = pc.equal(table["app"], app)
    rows = table.filter(mask).select(["user_id", "name", "ts", "props"])
    create_schema(path)
    conn = sqlite3.connect(path)
    try:
        # SQLAlchemy's DateTime on SQLite stores "YYYY-MM-DD HH:MM:SS.ffffff" text
        # (Arrow's %S of a microsecond timestamp carries the fraction).
        stamps = pc.strftime(rows["ts"], "%Y-%m-%d %H:%M:%S").to_pylist()
        conn.executemany(
            "INSERT INTO events (user_id, event_type, timestamp, metadata) VALUES (?, ?, ?, ?)",
            zip(
                rows["user_id"].to_pylist(),
                rows["name"].to_pylist(),
                stamps,
                rows["props"].to_pylist(),
                strict=True,
            ),
        )
        conn.commit()
    finally:
        conn.close()
    return Loaded(rows.num_rows, {app: rows.num_rows}, time.perf_counter() - started)
