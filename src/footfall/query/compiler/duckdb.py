"""DuckDB's spelling of the shared SQL primitives."""

from __future__ import annotations

import threading
from functools import lru_cache

import duckdb

# A private in-memory database that compiles regular expressions with the
# store's own engine (RE2), so a pattern it refuses is a 400, not a 500.
_REGEX_CHECK = duckdb.connect(":memory:")
_REGEX_LOCK = threading.Lock()


class DuckDBDialect:
    name = "duckdb"

    def count_distinct(self, expr: str) -> str:
        return f"count(DISTINCT {expr})"

    def count_if(self, condition: str) -> str:
        return f"count_if({condition})"

    def time_bucket(self, unit: str, column: str) -> str:
        # `unit` comes from the registry's fixed list, never from a request.
        return f"date_trunc('{unit}', {column})"

    def seconds_between(self, start: str, end: str) -> str:
        return f"(epoch_us({end}) - epoch_us({start})) / 1e6"

    def json_string(self, column: str) -> str:
        return f"json_extract_string({column}, ?)"

    def prop_key_param(self, key: str) -> str:
        return f'$."{key}"'

    def lower(self, expr: str) -> str:
        return f"lower({expr})"

    def contains(self, expr: str, case_sensitive: bool) -> str:
        if case_sensitive:
            return f"contains({expr}, ?)"
        return f"contains(lower({expr}), lower(?))"

    def matches(self, expr: str) -> str:
        return f"regexp_matches({expr}, ?)"

    def regex_error(self, pattern: str) -> str | None:
        return _regex_error(pattern)

    def entry_value(self, column: str) -> str:
        # arg_min would skip rows whose value is NULL; a visit without a source has none.
        return f"arg_min_null({column}, (ts, seq))"

    def exit_value(self, column: str) -> str:
        return f"arg_max_null({column}, (ts, seq))"

    def interval_bucket(self, months: bool, column: str) -> str:
        # DuckDB's time_bucket uses TimescaleDB's origins (2000-01-03 for fixed
        # widths, so weeks start on Monday; 2000-01-01 for months).
        if months:
            return f"time_bucket(to_months(CAST(? AS INTEGER)), {column})"
        return f"time_bucket(to_microseconds(CAST(? AS BIGINT)), {column})"


@lru_cache(maxsize=1024)
def _regex_error(pattern: str) -> str | None:
    with _REGEX_LOCK:
        try:
            _REGEX_CHECK.execute("SELECT regexp_matches('', ?)", [pattern]).fetchall()
        except duckdb.Error as exc:
            return str(exc).removeprefix("Invalid Input Error: ")
    return None
