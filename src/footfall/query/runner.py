"""Run a Query on a store and shape the answer: the one way every reader gets numbers."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from footfall.query.compiler.clickhouse import ClickHouseDialect
from footfall.query.compiler.duckdb import DuckDBDialect
from footfall.query.compiler.sql import CompiledQuery, compile_query
from footfall.query.daterange import format_utc
from footfall.query.errors import QueryError
from footfall.query.model import Query, ResolvedQuery, resolve
from footfall.query.registry import Dialect, Dimension, Metric
from footfall.storage.base import Store

DIALECTS: dict[str, Dialect] = {"duckdb": DuckDBDialect(), "clickhouse": ClickHouseDialect()}


def dialect_for(store: Store) -> Dialect:
    try:
        return DIALECTS[store.dialect]
    except KeyError:
        raise QueryError(f"no query compiler for the {store.dialect!r} store") from None


def format_dimension(dimension: Dimension, value: Any) -> Any:
    if value is None:
        return None
    if dimension.time_unit in ("day", "week", "month") and isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.datetime):
        return format_utc(value)
    return value


def format_metric(metric: Metric, value: Any) -> Any:
    if metric.timestamp:
        return format_utc(value) if isinstance(value, dt.datetime) else None
    if value is None:
        return None if metric.decimals is not None else 0
    if metric.decimals is None:
        return int(value)
    if isinstance(value, Decimal):
        value = float(value)
    return round(float(value), metric.decimals)


def execute(store: Store, compiled: CompiledQuery) -> list[dict[str, list[Any]]]:
    rows = store.query(compiled.sql, compiled.params)
    n_dims = len(compiled.dimensions)
    results = []
    for row in rows:
        dims = [format_dimension(d, v) for d, v in zip(compiled.dimensions, row, strict=False)]
        metrics = [format_metric(m, v) for m, v in zip(compiled.metrics, row[n_dims:], strict=True)]
        results.append({"dimensions": dims, "metrics": metrics})
    return results


def run_resolved(store: Store, resolved: ResolvedQuery) -> list[dict[str, list[Any]]]:
    return execute(store, compile_query(dialect_for(store), resolved))


def run_query(store: Store, query: Query, now: dt.datetime | None = None) -> dict[str, Any]:
    """Answer `query` as `{"results": [...], "meta": {...}}`; QueryError for bad names."""
    resolved = resolve(query, now)
    results = run_resolved(store, resolved)
    return {
        "results": results,
        "meta": {
            "app": resolved.app,
            "date_range": resolved.date_range.as_json(),
            "metrics": [m.name for m in resolved.metrics],
            "dimensions": [d.name for d in resolved.dimensions],
            "limit": resolved.limit,
            "offset": resolved.offset,
            "rows": len(results),
        },
    }
