"""DuckDB's spelling of the shared SQL primitives."""

from __future__ import annotations


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

    def contains(self, expr: str, case_sensitive: bool) -> str:
        if case_sensitive:
            return f"contains({expr}, ?)"
        return f"contains(lower({expr}), lower(?))"

    def matches(self, expr: str) -> str:
        return f"regexp_matches({expr}, ?)"

    def interval_bucket(self, months: bool, column: str) -> str:
        # DuckDB's time_bucket uses TimescaleDB's origins (2000-01-03 for fixed
        # widths, so weeks start on Monday; 2000-01-01 for months).
        if months:
            return f"time_bucket(to_months(CAST(? AS INTEGER)), {column})"
        return f"time_bucket(to_microseconds(CAST(? AS BIGINT)), {column})"
