"""The typed Query: validation against the registries, and what the compiler prints.

Numbers on real data are in tests/storage/test_query_results.py; here the
model's checks and the compiled SQL's safety: every value is a bound
parameter, and identifiers come from the registries only.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import duckdb
import pytest
from pydantic import ValidationError

from footfall.query.compiler.duckdb import DuckDBDialect
from footfall.query.compiler.sql import compile_query
from footfall.query.errors import QueryError
from footfall.query.model import MAX_LIMIT, Query, resolve
from footfall.query.registry import DIMENSIONS, METRICS, PROP_PREFIX, prop_dimension

NOW = dt.datetime(2024, 3, 14, 12, tzinfo=dt.UTC)
DIALECT = DuckDBDialect()


def resolved(**fields: Any) -> Any:
    return resolve(Query.model_validate({"date_range": "all", **fields}), NOW)


def compiled(**fields: Any) -> Any:
    return compile_query(DIALECT, resolved(**fields))


def test_defaults() -> None:
    query = Query()
    assert (query.app, query.date_range, query.metrics, query.limit, query.offset) == (
        "default",
        "7d",
        ["visitors"],
        100,
        0,
    )
    rq = resolve(query, NOW)
    assert rq.date_range.start == dt.datetime(2024, 3, 8)
    assert rq.order_by == (("visitors", "desc"),)


def test_the_issue_example_resolves() -> None:
    example = Query.model_config["json_schema_extra"]["examples"][0]  # type: ignore[index]
    rq = resolve(Query.model_validate(example), NOW)
    assert [m.name for m in rq.metrics] == ["visitors", "pageviews"]
    assert [d.name for d in rq.dimensions] == ["time:day", "event:page"]
    assert rq.filters[0].values == ("/a", "/b")


def test_registries_hold_what_the_issue_asks_for() -> None:
    for name in [
        "events",
        "pageviews",
        "visitors",
        "visits",
        "bounce_rate",
        "visit_duration",
        "views_per_visit",
        "avg_duration",
    ]:
        assert name in METRICS
    for unit in ("minute", "hour", "day", "week", "month"):
        assert f"time:{unit}" in DIMENSIONS
    for name in [
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
        "user_id",
    ]:
        assert name in DIMENSIONS
        assert DIMENSIONS[name].visit == name.startswith("visit:")


def test_default_order_is_time_ascending_when_grouping_by_time() -> None:
    rq = resolved(metrics=["events"], dimensions=["event:page", "time:hour"])
    assert rq.order_by == (("time:hour", "asc"),)


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        ({"metrics": ["nope"]}, "'nope'"),
        ({"dimensions": ["event:nope"]}, "'event:nope'"),
        ({"dimensions": ["event:page", "event:page"]}, "twice"),
        ({"filters": [["like", "event:page", ["/"]]]}, "'like'"),
        ({"filters": [["is", "nope", ["/"]]]}, "'nope'"),
        ({"filters": [["is", 3, ["/"]]]}, "filter 0"),
        ({"filters": [["is", "event:page", [True]]]}, "strings or numbers"),
        ({"filters": [["is", "event:page", [None]]]}, "strings or numbers"),
        ({"filters": [["is", "event:page", {"a": 1}]]}, "non-empty list"),
        ({"filters": [["is", "event:page", ["/"]], ["is"]]}, "filter 1"),
        ({"filters": [["is", "event:page", ["/"], {"ignore": True}]]}, "case_sensitive"),
        ({"filters": [["is", "event:page", ["/"], {"case_sensitive": 0}]]}, "case_sensitive"),
        ({"filters": [["matches", "event:page", [""]]]}, "empty"),
        ({"filters": [["is", "time:week", ["2024-03-04"]]]}, "date_range"),
        ({"order_by": [["pageviews", "desc"]]}, "'pageviews'"),
        ({"date_range": "fortnight"}, "'fortnight'"),
        ({"date_range": ["2024-03-02", "2024-03-01"]}, "ends before it starts"),
        ({"dimensions": ["time:day", "time:week"]}, "one time dimension"),
    ],
)
def test_resolve_names_what_is_wrong(fields: dict[str, Any], named: str) -> None:
    with pytest.raises(QueryError) as info:
        resolved(**fields)
    assert named in str(info.value)


@pytest.mark.parametrize(
    "fields",
    [
        {"metrics": []},
        {"limit": 0},
        {"limit": MAX_LIMIT + 1},
        {"offset": -1},
        {"order_by": [["visitors", "sideways"]]},
        {"unknown": 1},
        {"filters": "is event:page /"},
    ],
)
def test_the_model_refuses_malformed_fields(fields: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        Query.model_validate(fields)


@pytest.mark.parametrize(
    "key",
    [
        "a'b",
        'a"b',
        "'; DROP TABLE events; --",
        "a b",
        "a\\b",
        "",
        "$.a",
        "x" * 101,
        "a)",
        "é",
    ],
)
def test_invalid_prop_keys_are_refused(key: str) -> None:
    with pytest.raises(QueryError, match="invalid property key"):
        prop_dimension(PROP_PREFIX + key)
    with pytest.raises(QueryError, match="invalid property key"):
        resolved(filters=[["is", PROP_PREFIX + key, ["1"]]])


@pytest.mark.parametrize("key", ["plan", "a.b", "utm_x", "step-2", "ns:key", "price$", "9lives"])
def test_valid_prop_keys_are_bound_never_printed(key: str) -> None:
    query = compiled(
        metrics=["events", "bounce_rate"],
        dimensions=[PROP_PREFIX + key],
        filters=[["contains", PROP_PREFIX + key, ["x"]]],
        order_by=[[PROP_PREFIX + key, "asc"]],
    )
    assert key not in query.sql
    assert f'$."{key}"' in query.params
    assert query.sql.count("?") == len(query.params)


def test_every_value_is_a_bound_parameter() -> None:
    hostile = "x'); DROP TABLE events; --"
    query = compiled(
        app=hostile,
        date_range=["2024-03-01", "2024-03-31T12:00:00Z"],
        metrics=["events", "visit_duration"],
        dimensions=["event:page", "visit:source"],
        filters=[
            ["is", "event:page", [hostile, "/a"]],
            ["is_not", "user_id", [hostile], {"case_sensitive": False}],
            ["contains", "event:hostname", [hostile], {"case_sensitive": False}],
            ["contains_not", "visit:source", [hostile]],
            ["matches", "event:name", ["^sign"], {"case_sensitive": False}],
            ["matches_not", "event:props:plan", ["^free$"]],
        ],
        limit=7,
        offset=21,
    )
    assert "DROP" not in query.sql
    assert "sign" not in query.sql and "free" not in query.sql
    assert query.sql.count("?") == len(query.params)
    assert query.params.count(hostile) >= 4  # the app is bound twice, with a visit metric
    assert "(?i)^sign" in query.params  # case-insensitive regexes carry RE2's flag
    assert query.params[-2:] == [7, 21]
    assert dt.datetime(2024, 3, 1) in query.params
    assert dt.datetime(2024, 3, 31, 12, 0, 0, 1) in query.params


def test_compiled_sql_runs_on_an_empty_table() -> None:
    """Every dimension with every metric compiles to SQL DuckDB accepts."""
    from footfall.storage.migrations import DUCKDB_MIGRATIONS

    conn = duckdb.connect(":memory:")
    for migration in DUCKDB_MIGRATIONS:
        for statement in migration.statements:
            conn.execute(statement)
    dimensions = [*DIMENSIONS, "event:props:plan"]
    for dimension in dimensions:
        for filters in ([], [["is_not", "visit:device", ["bot"]]]):
            query = compiled(metrics=list(METRICS), dimensions=[dimension], filters=filters)
            assert conn.execute(query.sql, query.params).fetchall() == []
    totals = compiled(metrics=list(METRICS))
    (row,) = conn.execute(totals.sql, totals.params).fetchall()
    assert len(row) == len(METRICS)


@pytest.mark.parametrize(
    "pattern", ["(?=a)", "(?<!a)b", r"(a)\1", "a++", "(?P<n>a)(?P=n)", "[unclosed", "(", "a{2,1}"]
)
def test_regexes_the_store_cannot_run_are_query_errors(pattern: str) -> None:
    with pytest.raises(QueryError) as info:
        compiled(metrics=["events"], filters=[["matches", "event:page", [pattern]]])
    assert repr(pattern) in str(info.value)


@pytest.mark.parametrize("pattern", [r"^/blog/\d+$", r"\z", r"\p{L}+", "(?i)docs", "[[:alpha:]]"])
def test_re2_syntax_is_accepted(pattern: str) -> None:
    """RE2 is the judge, not Python's `re` (which refuses \\z and \\p{L})."""
    query = compiled(metrics=["events"], filters=[["matches", "event:page", [pattern]]])
    assert pattern in query.params


def test_only_visit_metrics_still_count_groups() -> None:
    query = compiled(metrics=["bounce_rate"], dimensions=["visit:country"])
    assert re.search(r"FROM grouped g LEFT JOIN per_group p", query.sql)
    assert "IS NOT DISTINCT FROM" in query.sql  # NULL groups join their visit metrics


def test_stamped_visit_dimensions_are_plain_columns() -> None:
    """Ingest stamps every event with its visit's attributes: no per-visit window, no join."""
    for name, column in [
        ("visit:os", "visit_os"),
        ("visit:browser", "visit_browser"),
        ("visit:country", "visit_country"),
        ("visit:source", "source"),
        ("visit:utm_campaign", "utm_campaign"),
    ]:
        sql = compiled(metrics=["events"], dimensions=[name]).sql
        assert f"SELECT {column} AS d0," in sql
        assert "entry AS (" not in sql and "JOIN" not in sql
    filtered = compiled(metrics=["events"], filters=[["is", "visit:device", ["mobile"]]]).sql
    assert "entry AS (" not in filtered and "visit_device IN (?)" in filtered
    # event: dimensions read the event's own client.
    assert "SELECT os AS d0," in compiled(metrics=["events"], dimensions=["event:os"]).sql


def test_visit_os_family_classifies_the_visits_os() -> None:
    sql = compiled(metrics=["events"], dimensions=["visit:os_family"]).sql
    assert "WHEN visit_os = 'Windows'" in sql and "entry AS (" not in sql
    own = compiled(metrics=["events"], dimensions=["event:os_family"]).sql
    assert "WHEN os = 'Windows'" in own and "visit_os" not in own


def test_entry_and_exit_pages_use_the_entry_window_only_when_needed() -> None:
    assert "entry AS (" not in compiled(metrics=["events"], dimensions=["event:page"]).sql
    sql = compiled(metrics=["events"], dimensions=["visit:entry_page"]).sql
    assert "arg_min_null(path, (ts, seq)) AS entry_page" in sql
    assert "exit_page" not in sql  # only what the query reads
    filtered = compiled(metrics=["events"], filters=[["contains", "visit:exit_page", ["/a"]]])
    assert "arg_max_null(path, (ts, seq)) AS exit_page" in filtered.sql


def test_visit_metrics_by_visit_dimensions_group_visits_once() -> None:
    """No filters and only visit: dimensions: one GROUP BY (dimensions, visit), no join
    of the visits back to the groups they touched; visits are counted from those rows."""
    kpis = compiled(metrics=["visitors", "visits", "bounce_rate", "visit_duration"]).sql
    assert "touched" not in kpis and "count(DISTINCT session_id)" not in kpis
    assert "GROUP BY session_id)" in kpis and "coalesce(p.m_visits, 0)" in kpis
    by_source = compiled(metrics=["visits", "bounce_rate"], dimensions=["visit:source"]).sql
    assert "touched" not in by_source and "GROUP BY d0, session_id)" in by_source
    # Any other dimension, or a filter, keeps the visits whole across the groups they touch.
    for fields in (
        {"dimensions": ["time:day"]},
        {"dimensions": ["visit:source", "event:page"]},
        {"filters": [["is", "visit:source", ["Google"]]]},
    ):
        sql = compiled(metrics=["visits", "bounce_rate"], **fields).sql
        assert "touched AS (SELECT DISTINCT" in sql and "JOIN visits v" in sql
        assert "count(DISTINCT session_id)" not in sql  # visits: the touched rows
