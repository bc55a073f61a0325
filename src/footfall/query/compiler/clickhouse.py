"""ClickHouse's spelling of the shared SQL primitives (a ClickHouse server and chDB alike).

The store runs every query with `join_use_nulls = 1` (an unmatched LEFT JOIN
row is NULL, as in standard SQL) and `aggregate_functions_null_for_empty = 1`
(an aggregate over no rows is NULL, not 0, nan or 1970-01-01, as in DuckDB),
so the shared SQL means the same on both engines.
"""

from __future__ import annotations

from footfall.query.compiler.duckdb import DuckDBDialect

# ClickHouse and DuckDB both compile patterns with RE2: DuckDB's checker serves both,
# and needs no second ClickHouse engine (chDB allows one database path per process).
_RE2 = DuckDBDialect()

# DuckDB's time_bucket origins, which TimescaleDB's (and contract 002's) buckets follow:
# fixed widths count from Monday 2000-01-03, months from 2000-01-01.
_FIXED_ORIGIN_US = 946_857_600_000_000  # 2000-01-03T00:00:00Z in microseconds
_MONTH_ORIGIN = "toRelativeMonthNum(toDate('2000-01-01'))"


class ClickHouseDialect:
    name = "clickhouse"

    def count_distinct(self, expr: str) -> str:
        # count(DISTINCT) is uniqExact too, but only by a server setting: say it.
        return f"uniqExact({expr})"

    def count_if(self, condition: str) -> str:
        return f"countIf({condition})"

    def time_bucket(self, unit: str, column: str) -> str:
        # dateTrunc gives a Date32 for day, week (Monday, as DuckDB) and month and a
        # DateTime64(0) below: one type for every unit keeps the answer's shape the same.
        return f"toDateTime64(dateTrunc('{unit}', {column}), 6, 'UTC')"

    def seconds_between(self, start: str, end: str) -> str:
        return f"(toUnixTimestamp64Micro({end}) - toUnixTimestamp64Micro({start})) / 1e6"

    def json_string(self, column: str) -> str:
        # As DuckDB's json_extract_string: strings unquoted, other values as JSON text,
        # a missing key or a JSON null is NULL, and a whole double keeps its ".0" (2.0,
        # not ClickHouse's 2). The lambda reads the one bound key several times
        # without binding it several times.
        kind = f"JSONType({column}, k)"
        raw = f"JSONExtractRaw({column}, k)"
        return (
            f"arrayElement(arrayMap(k -> multiIf({kind} = 'Null', NULL, "
            f"{kind} = 'String', JSONExtractString({column}, k), "
            f"{kind} = 'Double' AND NOT match({raw}, '[.eE]'), concat({raw}, '.0'), "
            f"{raw}), [?]), 1)"
        )

    def prop_key_param(self, key: str) -> str:
        # JSONExtract* take a key, not a JSON path: `a.b` is the key "a.b", as DuckDB's $."a.b".
        return key

    def lower(self, expr: str) -> str:
        # ClickHouse's lower() is ASCII-only; DuckDB's folds every letter.
        return f"lowerUTF8({expr})"

    def contains(self, expr: str, case_sensitive: bool) -> str:
        if case_sensitive:
            return f"position({expr}, ?) > 0"
        return f"position(lowerUTF8({expr}), lowerUTF8(?)) > 0"

    def matches(self, expr: str) -> str:
        return f"match({expr}, ?)"

    def regex_error(self, pattern: str) -> str | None:
        return _RE2.regex_error(pattern)

    def entry_value(self, column: str) -> str:
        # argMin skips NULL values; a tuple is never NULL, so the entry's NULL is kept.
        return f"argMin(tuple({column}), (ts, seq)).1"

    def exit_value(self, column: str) -> str:
        return f"argMax(tuple({column}), (ts, seq)).1"

    def interval_bucket(self, months: bool, column: str) -> str:
        if months:
            month = f"(toRelativeMonthNum({column}) - {_MONTH_ORIGIN})"
            return (
                "toDateTime64(addMonths(toDate('2000-01-01'), "
                f"{month} - positiveModulo({month}, toInt64(?))), 6, 'UTC')"
            )
        since = f"(toUnixTimestamp64Micro({column}) - {_FIXED_ORIGIN_US})"
        return (
            f"fromUnixTimestamp64Micro(toUnixTimestamp64Micro({column}) - "
            f"positiveModulo({since}, toInt64(?)), 'UTC')"
        )
