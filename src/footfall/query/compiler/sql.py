"""Print a ResolvedQuery as one parameterised SQL statement, in any dialect.

The shape is the same everywhere:

    base       the app's events in the date range that pass the filters,
               with each dimension projected as d0, d1, …
    grouped    event-level metrics per group
    touched    (only for visit metrics) which visits each group touched
    visits     one row per such visit, over all its events in the range
    per_group  visit-level metrics per group

Values are always bound parameters (`?`), in the order they appear in the
text; identifiers come only from the registries.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from footfall.query.model import Filter, ResolvedQuery
from footfall.query.registry import Dialect, Dimension, Metric


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
        placeholders = ", ".join("?" for _ in flt.values)
        if flt.op == "is":
            return out.extend(expr).add(f" IN ({placeholders})", *flt.values)
        out.add("(").extend(expr).add(" IS NULL OR ").extend(expr)
        return out.add(f" NOT IN ({placeholders}))", *flt.values)
    negate = flt.op.endswith("_not")
    out.add("(")
    if negate:
        out.extend(expr).add(" IS NULL OR NOT (")
    for i, value in enumerate(flt.values):
        if i:
            out.add(" OR ")
        condition = (
            dialect.contains(expr.text, flt.case_sensitive)
            if flt.op.startswith("contains")
            else dialect.matches(expr.text)
        )
        out.add(condition, *expr.params, value)
    out.add("))" if negate else ")")
    return out


def _range_where(query: ResolvedQuery) -> Sql:
    where = Sql().add("app = ?", query.app)
    if query.date_range.start is not None:
        where.add(" AND ts >= ?", query.date_range.start)
    if query.date_range.end is not None:
        where.add(" AND ts < ?", query.date_range.end)
    return where


def compile_query(dialect: Dialect, query: ResolvedQuery, table: str = "events") -> CompiledQuery:
    dims = [f"d{i}" for i in range(len(query.dimensions))]
    event_metrics = [m for m in query.metrics if m.level == "event"]
    session_metrics = [m for m in query.metrics if m.level == "session"]

    sql = Sql().add("WITH base AS (SELECT ")
    for i, dimension in enumerate(query.dimensions):
        sql.extend(dimension_sql(dialect, dimension)).add(f" AS d{i}, ")
    sql.add(f"name, user_id, visitor_id, session_id, ts, duration, interactive FROM {table} WHERE ")
    sql.extend(_range_where(query))
    for flt in query.filters:
        sql.add(" AND ").extend(filter_sql(dialect, flt))
    sql.add(")")

    group_by = f" GROUP BY {', '.join(dims)}" if dims else ""
    # count(*) keeps `grouped` an aggregate (one row without dimensions) whatever is asked.
    selected = [*dims, "count(*) AS n", *(f"{m.sql(dialect)} AS m_{m.name}" for m in event_metrics)]
    sql.add(f", grouped AS (SELECT {', '.join(selected)} FROM base{group_by})")

    if session_metrics:
        touched_cols = ", ".join([*dims, "session_id"])
        sql.add(f", touched AS (SELECT DISTINCT {touched_cols} FROM base "
                "WHERE session_id IS NOT NULL)")
        pageviews = dialect.count_if("name = 'pageview'")
        visit_columns = (
            f"session_id, {dialect.count_if('interactive')} AS interactions, "
            f"{pageviews} AS pageviews, "
            f"{dialect.seconds_between('min(ts)', 'max(ts)')} AS seconds"
        )
        if query.filters:
            # A visit counts whole: its events outside the filter still shape its
            # duration and bounce, as in Plausible.
            sql.add(f", visits AS (SELECT {visit_columns} FROM {table} WHERE ")
            sql.extend(_range_where(query))
            sql.add(" AND session_id IN (SELECT session_id FROM touched) GROUP BY session_id)")
        else:
            sql.add(f", visits AS (SELECT {visit_columns} FROM base "
                    "WHERE session_id IS NOT NULL GROUP BY session_id)")
        session_selected = [
            *(f"t.{d} AS {d}" for d in dims),
            *(f"{m.sql(dialect)} AS m_{m.name}" for m in session_metrics),
        ]
        session_group = f" GROUP BY {', '.join(f't.{d}' for d in dims)}" if dims else ""
        sql.add(f", per_group AS (SELECT {', '.join(session_selected)} FROM touched t "
                f"JOIN visits v ON t.session_id = v.session_id{session_group})")

    outputs = [f"g.{d}" for d in dims]
    for metric in query.metrics:
        source = "p" if metric.level == "session" else "g"
        outputs.append(f"{source}.m_{metric.name}")
    sql.add(f" SELECT {', '.join(outputs)} FROM grouped g")
    if session_metrics:
        join = " AND ".join(f"g.{d} IS NOT DISTINCT FROM p.{d}" for d in dims) or "true"
        sql.add(f" LEFT JOIN per_group p ON {join}")
    sql.add(" ORDER BY " + _order_clause(query, dims))
    sql.add(" LIMIT ? OFFSET ?", query.limit, query.offset)
    return CompiledQuery(sql.text, sql.params, query.dimensions, query.metrics)


def _order_clause(query: ResolvedQuery, dims: list[str]) -> str:
    by_name = {d.name: f"g.{col}" for d, col in zip(query.dimensions, dims, strict=True)}
    by_name.update({
        m.name: f"{'p' if m.level == 'session' else 'g'}.m_{m.name}" for m in query.metrics
    })
    terms = [f"{by_name[name]} {direction.upper()} NULLS LAST"
             for name, direction in query.order_by]
    # Ties broken by every dimension, so pages of a paginated answer never overlap.
    terms += [f"g.{col} ASC NULLS LAST" for col in dims if f"g.{col}" not in
              {by_name[name] for name, _ in query.order_by}]
    return ", ".join(terms) or "1"
