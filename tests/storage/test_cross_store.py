"""Every store answers every question identically, on 100,000 generated events.

The same events (tests/storage/crossstore_data.py: 4 apps, 90 days, visits,
users, props of every JSON type, UTM, referrers, non-ASCII paths…) are
appended to DuckDB, chDB and — when FOOTFALL_TEST_CLICKHOUSE_URL is set — a
ClickHouse server; then every metric × every dimension × date ranges, and a
set of filters, are asked of each. Answers must match exactly, row for row and
in order, except rounded floats, which may differ by one unit of their last
decimal (±0.01) when two engines add in a different order.
"""

from __future__ import annotations

import datetime as dt
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from footfall.query.registry import DIMENSIONS
from footfall.storage.base import Store
from footfall.storage.factory import create_store
from tests.conftest import CLICKHOUSE_URL, clickhouse_url, drop_database
from tests.storage import crossstore_data as data

NOW = dt.datetime(2024, 7, 1, 12, tzinfo=dt.UTC)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory, chdb_root: Path) -> Iterator[dict[str, Store]]:
    events = data.generate()
    assert len(events) >= 100_000
    database = f"x_{uuid.uuid4().hex[:12]}"
    urls = {
        "duckdb": f"duckdb://{tmp_path_factory.mktemp('cross') / 'cross.duckdb'}",
        "chdb": f"chdb://{chdb_root}?database={database}",
    }
    if CLICKHOUSE_URL:
        urls["clickhouse"] = clickhouse_url(database)
    opened: dict[str, Store] = {}
    try:
        for name, url in urls.items():
            store = create_store(url, Path("."))
            opened[name] = store
            store.open()
            started = time.perf_counter()
            data.load(store, events)
            print(f"{name}: loaded {len(events)} events in {time.perf_counter() - started:.1f} s")
        yield opened
    finally:
        for store in opened.values():
            store.close()
        for name in ("chdb", "clickhouse"):
            if name in urls:
                drop_database(urls[name], database)


def test_the_stores_hold_the_same_events(stores: dict[str, Store]) -> None:
    sql = (
        "SELECT app, count(*), sum(visitor_id % 1000), min(seq), max(seq), "
        "count(session_id), count(duration), sum(CASE WHEN interactive THEN 1 ELSE 0 END) "
        "FROM events GROUP BY app ORDER BY app"
    )
    answers = {name: store.query(sql) for name, store in stores.items()}
    assert len({repr(rows) for rows in answers.values()}) == 1, answers


@pytest.mark.parametrize("dimension_group", range(4))
def test_every_metric_by_every_dimension_is_the_same_everywhere(
    stores: dict[str, Store], dimension_group: int
) -> None:
    # Four slices of the dimensions, so a failure names a smaller set and timing shows.
    names = sorted(DIMENSIONS)[dimension_group::4]
    queries = [q for q in data.questions(names) if not q.filters]
    if dimension_group:
        queries = [q for q in queries if q.dimensions]  # the totals once, in slice 0
    problems = data.differences(stores, queries, NOW)
    assert not problems, f"{len(problems)} of {len(queries)} differ:\n" + "\n".join(problems[:10])


def test_filters_are_the_same_everywhere(stores: dict[str, Store]) -> None:
    queries = [q for q in data.questions([]) if q.filters]
    assert len(queries) > 100
    problems = data.differences(stores, queries, NOW)
    assert not problems, f"{len(problems)} of {len(queries)} differ:\n" + "\n".join(problems[:10])


def test_the_comparison_notices_a_difference(stores: dict[str, Store]) -> None:
    """Guard against a vacuous pass: a store with one event fewer answers differently."""
    query = next(q for q in data.questions(["event:page"]) if q.dimensions == ["event:page"])
    answers = [data.run_query(store, query, now=NOW) for store in stores.values()]
    assert answers[0]["results"], "the question must have an answer"
    changed = [dict(row) for row in answers[0]["results"]]
    changed[0]["metrics"] = [changed[0]["metrics"][0] - 1, *changed[0]["metrics"][1:]]
    assert not data.same(answers[0]["results"], changed)
