"""The typed Query every statistic is built from, and its validation.

Every reader — the v1 query API, the five contract APIs, the dashboard,
exports — describes what it wants as a `Query`; `resolve` checks it against
the registries and turns it into a `ResolvedQuery` that a dialect compiler
can print. Nothing in here knows SQL.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from footfall.query.daterange import DateRange, resolve_date_range
from footfall.query.errors import QueryError
from footfall.query.registry import (
    BUCKET_PREFIX,
    DIMENSIONS,
    METRICS,
    PROP_PREFIX,
    Dimension,
    Metric,
    bucket_dimension,
    prop_dimension,
)

FilterOp = Literal["is", "is_not", "contains", "contains_not", "matches", "matches_not"]
FILTER_OPS: tuple[str, ...] = FilterOp.__args__  # type: ignore[attr-defined]
MAX_LIMIT = 10_000


class Query(BaseModel):
    """A statistics question, as JSON. See README "Query API"."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "app": "site",
                    "date_range": "7d",
                    "metrics": ["visitors", "pageviews"],
                    "dimensions": ["time:day", "event:page"],
                    "filters": [["is", "event:page", ["/a", "/b"]]],
                    "order_by": [["pageviews", "desc"]],
                    "limit": 100,
                    "offset": 0,
                }
            ]
        },
    )

    app: str = Field("default", description="The site or app to read.")
    date_range: str | list[str] = Field(
        "7d",
        description="A preset (today, 24h, 7d, 30d, month, 12mo, all) or [from, to] as ISO "
        "dates (whole days, inclusive) or ISO timestamps.",
    )
    metrics: list[str] = Field(["visitors"], min_length=1, description="Metric names.")
    dimensions: list[str] = Field([], description="Dimension names to group by.")
    filters: list[list[Any]] = Field(
        [],
        description="Each filter is [op, dimension, [values…]] with op one of "
        f"{', '.join(FILTER_OPS)}; an optional 4th element "
        '{"case_sensitive": false} compares ignoring case.',
    )
    order_by: list[tuple[str, Literal["asc", "desc"]]] = Field(
        [],
        description="[[metric or dimension, asc|desc], …]; default: first metric desc, "
        "or time ascending when grouping by time.",
    )
    limit: int = Field(100, ge=1, le=MAX_LIMIT)
    offset: int = Field(0, ge=0)


@dataclass(frozen=True, slots=True)
class Filter:
    op: str
    dimension: Dimension
    values: tuple[str, ...]
    case_sensitive: bool = True


@dataclass(frozen=True, slots=True)
class ResolvedQuery:
    app: str
    date_range: DateRange
    metrics: tuple[Metric, ...]
    dimensions: tuple[Dimension, ...]
    filters: tuple[Filter, ...]
    order_by: tuple[tuple[str, str], ...]
    limit: int
    offset: int
    extra_where: tuple[Filter, ...] = field(default=())

    @property
    def needs_sessions(self) -> bool:
        return any(metric.level == "session" for metric in self.metrics)


def lookup_dimension(name: str) -> Dimension:
    if name.startswith(PROP_PREFIX):
        return prop_dimension(name)
    if name.startswith(BUCKET_PREFIX):
        return bucket_dimension(name)
    try:
        return DIMENSIONS[name]
    except KeyError:
        raise QueryError(
            f"unknown dimension {name!r}; known: {', '.join(DIMENSIONS)}, {PROP_PREFIX}<key>"
        ) from None


def lookup_metric(name: str) -> Metric:
    try:
        return METRICS[name]
    except KeyError:
        raise QueryError(f"unknown metric {name!r}; known: {', '.join(METRICS)}") from None


def _resolve_filter(raw: list[Any], index: int) -> Filter:
    if len(raw) not in (3, 4):
        raise QueryError(f"filter {index} must be [op, dimension, [values…]], got {raw!r}")
    op, name, values = raw[0], raw[1], raw[2]
    if op not in FILTER_OPS:
        raise QueryError(
            f"unknown filter op {op!r} in filter {index}; known: {', '.join(FILTER_OPS)}"
        )
    if not isinstance(name, str):
        raise QueryError(f"filter {index}: the dimension must be a string, got {name!r}")
    dimension = lookup_dimension(name)
    if dimension.is_time:
        raise QueryError(f"filter {index}: filter time with date_range, not {name!r}")
    if isinstance(values, (str, int, float)):
        values = [values]
    if not isinstance(values, list) or not values:
        raise QueryError(f"filter {index}: values must be a non-empty list")
    if not all(isinstance(v, (str, int, float)) and not isinstance(v, bool) for v in values):
        raise QueryError(f"filter {index}: values must be strings or numbers")
    texts = tuple(str(v) for v in values)
    case_sensitive = True
    if len(raw) == 4:
        modifiers = raw[3]
        if (
            not isinstance(modifiers, dict)
            or set(modifiers) - {"case_sensitive"}
            or not isinstance(modifiers.get("case_sensitive", True), bool)
        ):
            raise QueryError(
                f'filter {index}: the 4th element may only be {{"case_sensitive": true|false}}'
            )
        case_sensitive = modifiers.get("case_sensitive", True)
    if op.startswith("matches") and any(not pattern for pattern in texts):
        raise QueryError(f"filter {index}: a regular expression must not be empty")
    # Patterns are checked by the compiler against the store's own regex engine (RE2):
    # Python's `re` accepts what RE2 refuses (look-arounds) and refuses what it accepts.
    return Filter(op, dimension, texts, case_sensitive)


def resolve(query: Query, now: dt.datetime | None = None) -> ResolvedQuery:
    """Check every name in `query` and bind the date range; raise QueryError naming a problem."""
    metrics = tuple(lookup_metric(name) for name in query.metrics)
    if len({m.name for m in metrics}) != len(metrics):
        raise QueryError("a metric is listed twice")
    dimensions = tuple(lookup_dimension(name) for name in query.dimensions)
    if len({d.name for d in dimensions}) != len(dimensions):
        raise QueryError("a dimension is listed twice")
    if sum(d.is_time for d in dimensions) > 1:
        raise QueryError("group by at most one time dimension")
    filters = tuple(_resolve_filter(raw, i) for i, raw in enumerate(query.filters))
    try:
        date_range = resolve_date_range(query.date_range, now)
    except ValueError as exc:
        raise QueryError(str(exc)) from None
    known = {m.name for m in metrics} | {d.name for d in dimensions}
    for name, _direction in query.order_by:
        if name not in known:
            raise QueryError(
                f"cannot order by {name!r}: it is not one of the query's metrics or dimensions"
            )
    order_by = tuple(query.order_by) or _default_order(metrics, dimensions)
    return ResolvedQuery(
        query.app, date_range, metrics, dimensions, filters, order_by, query.limit, query.offset
    )


def _default_order(
    metrics: tuple[Metric, ...], dimensions: tuple[Dimension, ...]
) -> tuple[tuple[str, str], ...]:
    time_dims = [d for d in dimensions if d.is_time]
    if time_dims:
        return ((time_dims[0].name, "asc"),)
    return ((metrics[0].name, "desc"),)
