"""Print a ResolvedQuery as one parameterised SQL statement, in any dialect.

The shape is the same everywhere:

    entry      (only for visit:entry_page / visit:exit_page) per visit, its first
               and last event's path in the date range
    ranged     the app's events in the date range, with those entry/exit columns
    base       the app's events in the date range that pass the filters,
               with each dimension projected as d0, d1, …
    grouped    event-level metrics per group
    touched    (only for visit metrics) which visits each group touched
    visits     one row per such visit, over all its events in the range
    per_group  visit-level metrics per group

Every other `visit:` dimension is a plain column: ingest stamps each event with
its visit's attributes (footfall.ingest.enrich.sessionize.VisitStamper), so they
cost what an `event:` dimension costs.

When a query has no filters and only `visit:` dimensions, a visit's events all
fall in one group: `visits` is then one GROUP BY (dimensions, session_id) over
`base` and `touched` (a second pass, and a join) is not needed.

Values are always bound parameters (`?`), in the order they appear in the
text; identifiers come only from the registries.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from footfall.model import EVENT_COLUMNS
from footfall.query.errors import QueryError
from footfall.query.model import Filter, ResolvedQuery
from footfall.query.registry import VISIT_DERIVED, Dialect, Dimension, Metric

_IDENTIFIER = re.compile(r"[a-z_]+")


@dataclass(slots=True)
class Sql:
    """SQL text with its parameters, appended in step so they never drift apart."""

    parts: list[str] = field(default_factory=list)
    params: list[Any] = field(default_factory=list)

    def add(self, text: str, *params: Any) -> Sql:
        self.parts.append(text)
        self.params.extend(params)
        return self

    def extend(self, other: Sql) -> Sql:
        self.parts.extend(other.parts)
        self.params.extend(other.params)
        return self

    @property
    def text(self) -> str:
        return "".join(self.parts)


@dataclass(frozen=True, slots=True)
class CompiledQuery:
    sql: str
    params: list[Any]
    dimensions: tuple[Dimension, ...]
    metrics: tuple[Metric, ...]


def dimension_sql(dialect: Dialect, dimension: Dimension) -> Sql:
    if dimension.time_unit is not None:
        return Sql().add(dialect.time_bucket(dimension.time_unit, "ts"))
    if dimension.bucket is not None:
        months = dimension.bucket.months
        width = months or dimension.bucket.microseconds
        return Sql().add(dialect.interval_bucket(bool(months), "ts"), width)
    if dimension.prop_key is not None:
        return Sql().add(dialect.json_string("props"), dialect.prop_key_param(dimension.prop_key))
    assert dimension.column is not None
    return Sql().add(dimension.column)


def filter_sql(dialect: Dialect, flt: Filter) -> Sql:
    expr = dimension_sql(dialect, flt.dimension)
    out = Sql()
    if flt.op in ("is", "is_not"):
        if flt.case_sensitive:
            compared, placeholders = expr, ", ".join("?" for _ in flt.values)
        else:
            compared = Sql().add(dialect.lower(expr.text), *expr.params)
            placeholders = ", ".join(dialect.lower("?") for _ in flt.values)
        if flt.op == "is":
            return out.extend(compared).add(f" IN ({placeholders})", *flt.values)
        out.add("(").extend(expr).add(" IS NULL OR ").extend(compared)
        return out.add(f" NOT IN ({placeholders}))", *flt.values)
    negate = flt.op.endswith("_not")
    out.add("(")
    if negate:
        out.extend(expr).add(" IS NULL OR NOT (")
    for i, value in enumerate(flt.values):
        if i:
            out.add(" OR ")
        if flt.op.startswith("contains"):
            out.add(dialect.contains(expr.text, flt.case_sensitive), *expr.params, value)
        else:
            # RE2 (DuckDB, ClickHouse) reads a leading (?i) as "ignore case".
            pattern = value if flt.case_sensitive else f"(?i){value}"
            out.add(dialect.matches(expr.text), *expr.params, pattern)
    out.add("))" if negate else ")")
    return out


def _select(columns: Iterable[str], rest: str) -> str:
    """`SELECT columns rest`. Every piece is an identifier from the registries or a
    dialect primitive, never text from a request: values are bound parameters."""
    return "SELECT " + ", ".join(columns) + " " + rest


def _range_where(query: ResolvedQuery, alias: str = "") -> Sql:
    where = Sql().add(f"{alias}app = ?", query.app)
    if query.date_range.start is not None:
        where.add(f" AND {alias}ts >= ?", query.date_range.start)
    if query.date_range.end is not None:
        where.add(f" AND {alias}ts < ?", query.date_range.end)
    return where


def _derived_columns(query: ResolvedQuery) -> list[str]:
    """The derived visit columns (entry and exit page) the query's dimensions and filters
    read; stamped visit columns are plain columns and need no per-visit work."""
    used: set[str] = set()
    for dimension in (*query.dimensions, *(f.dimension for f in query.filters)):
        if dimension.visit and dimension.column is not None:
            used.update(_IDENTIFIER.findall(dimension.column))
    return [c for c in VISIT_DERIVED if c in used]


def _ranged(dialect: Dialect, query: ResolvedQuery, table: str, derived: list[str]) -> Sql:
    """`entry` (one row per visit: its derived columns, e.g. the first event's path in the
    range) and `ranged` (the app's events in the range, with those columns)."""
    values = {}
    for column in derived:
        source, which = VISIT_DERIVED[column]
        aggregate = dialect.entry_value if which == "first" else dialect.exit_value
        values[column] = (aggregate(source), source)
    entry = ["session_id", *(f"{values[c][0]} AS {c}" for c in derived)]
    out = Sql().add("entry AS (").add(_select(entry, f"FROM {table} WHERE "))
    out.extend(_range_where(query)).add(" AND session_id IS NOT NULL GROUP BY session_id), ")
    columns = [f"e.{c}" for c in EVENT_COLUMNS]
    # An event without a visit is a visit of its own: its own path is its entry and exit.
    columns += [
        f"CASE WHEN e.session_id IS NULL THEN e.{values[c][1]} ELSE v.{c} END AS {c}"
        for c in derived
    ]
    rest = f"FROM {table} e LEFT JOIN entry v ON e.session_id = v.session_id WHERE "
    out.add("ranged AS (").add(_select(columns, rest))
    return out.extend(_range_where(query, "e.")).add(")")


def compile_query(dialect: Dialect, query: ResolvedQuery, table: str = "events") -> CompiledQuery:
    for index, flt in enumerate(query.filters):
        if flt.op.startswith("matches"):
            for pattern in flt.values:
                if (error := dialect.regex_error(pattern)) is not None:
                    raise QueryError(
                        f"filter {index}: invalid regular expression {pattern!r}: {error}"
                    )
    dims = [f"d{i}" for i in range(len(query.dimensions))]
    session_metrics = [m for m in query.metrics if m.level == "session"]
    # Event metrics that the per-visit rows give too (visits: count(*) of them) are taken
    # from there when those rows are built anyway: no count(DISTINCT session_id) pass.
    per_visit = [m for m in query.metrics if session_metrics and m.per_visit_sql is not None]
    event_metrics = [m for m in query.metrics if m.level == "event" and m not in per_visit]

    sql = Sql().add("WITH ")
    if derived := _derived_columns(query):
        sql.extend(_ranged(dialect, query, table, derived)).add(", ")
        where = Sql().add("true")
        source = "ranged"
    else:
        where, source = _range_where(query), table
    for flt in query.filters:
        where.add(" AND ").extend(filter_sql(dialect, flt))
    sql.add("base AS (SELECT ")
    for i, dimension in enumerate(query.dimensions):
        sql.extend(dimension_sql(dialect, dimension)).add(f" AS d{i}, ")
    sql.add("name, user_id, visitor_id, session_id, ts, duration, interactive")
    sql.add(f" FROM {source} WHERE ").extend(where).add(")")

    group_by = f" GROUP BY {', '.join(dims)}" if dims else ""
    # count(*) keeps `grouped` an aggregate (one row without dimensions) whatever is asked.
    selected = [*dims, "count(*) AS n", *(f"{m.sql(dialect)} AS m_{m.name}" for m in event_metrics)]
    sql.add(f", grouped AS ({_select(selected, f'FROM base{group_by}')})")

    if session_metrics:
        pageviews = dialect.count_if("name = 'pageview'")
        per_visit_columns = [
            f"{dialect.count_if('interactive')} AS interactions",
            f"{pageviews} AS pageviews",
            f"{dialect.seconds_between('min(ts)', 'max(ts)')} AS seconds",
        ]
        group_metrics = [
            *(f"{m.sql(dialect)} AS m_{m.name}" for m in session_metrics),
            *(f"{m.per_visit_sql(dialect)} AS m_{m.name}" for m in per_visit if m.per_visit_sql),
        ]
        if not query.filters and all(d.visit for d in query.dimensions):
            # Every event of a visit has the same visit: values, so each visit falls in
            # one group: one row per (group, visit), straight from `base`. (A session id
            # stamped twice, its attributes forgotten in between, is a visit in each
            # group, measured over its events there.)
            keys = ", ".join([*dims, "session_id"])
            rest = f"FROM base WHERE session_id IS NOT NULL GROUP BY {keys}"
            sql.add(f", visits AS ({_select([*dims, 'session_id', *per_visit_columns], rest)})")
            rest = f"FROM visits{group_by}"
            sql.add(f", per_group AS ({_select([*dims, *group_metrics], rest)})")
        else:
            touched = _select([*dims, "session_id"], "FROM base WHERE session_id IS NOT NULL")
            sql.add(f", touched AS ({touched.replace('SELECT ', 'SELECT DISTINCT ', 1)})")
            if query.filters:
                # A visit counts whole: its events outside the filter still shape its
                # duration and bounce, as in Plausible.
                rest = f"FROM {table} WHERE "
                sql.add(f", visits AS ({_select(['session_id', *per_visit_columns], rest)}")
                sql.extend(_range_where(query))
                sql.add(" AND session_id IN (SELECT session_id FROM touched) GROUP BY session_id)")
            else:
                rest = "FROM base WHERE session_id IS NOT NULL GROUP BY session_id"
                sql.add(f", visits AS ({_select(['session_id', *per_visit_columns], rest)})")
            session_selected = [*(f"t.{d} AS {d}" for d in dims), *group_metrics]
            session_group = f" GROUP BY {', '.join(f't.{d}' for d in dims)}" if dims else ""
            rest = f"FROM touched t JOIN visits v ON t.session_id = v.session_id{session_group}"
            sql.add(f", per_group AS ({_select(session_selected, rest)})")

    columns = _metric_columns(query, per_visit)
    outputs = [f"g.{d}" for d in dims] + [columns[m.name] for m in query.metrics]
    sql.add(" " + _select(outputs, "FROM grouped g"))
    if session_metrics:
        join = " AND ".join(f"g.{d} IS NOT DISTINCT FROM p.{d}" for d in dims) or "true"
        sql.add(f" LEFT JOIN per_group p ON {join}")
    sql.add(" ORDER BY " + _order_clause(query, dims, columns))
    sql.add(" LIMIT ? OFFSET ?", query.limit, query.offset)
    return CompiledQuery(sql.text, sql.params, query.dimensions, query.metrics)


def _metric_columns(query: ResolvedQuery, per_visit: list[Metric]) -> dict[str, str]:
    """Each metric's value in the final SELECT: from `grouped` (g) or `per_group` (p)."""
    columns = {}
    for metric in query.metrics:
        if metric in per_visit:
            # A group whose events have no visit has no per_group row: a count of 0.
            columns[metric.name] = f"coalesce(p.m_{metric.name}, 0)"
        else:
            columns[metric.name] = f"{'p' if metric.level == 'session' else 'g'}.m_{metric.name}"
    return columns


def _order_clause(query: ResolvedQuery, dims: list[str], columns: dict[str, str]) -> str:
    by_name = {d.name: f"g.{col}" for d, col in zip(query.dimensions, dims, strict=True)}
    by_name.update(columns)
    terms = [
        f"{by_name[name]} {direction.upper()} NULLS LAST" for name, direction in query.order_by
    ]
    # Ties broken by every dimension, so pages of a paginated answer never overlap.
    ordered = {by_name[name] for name, _ in query.order_by}
    terms += [f"g.{col} ASC NULLS LAST" for col in dims if f"g.{col}" not in ordered]
    return ", ".join(terms) or "1"
