"""Hand-written SQL on the same DuckDB file: the baseline footfall's queries are priced against.

DuckDB lets one process own a file, so the harness stops footfall and runs
this module as a child process pinned to the same core(s) the server had:
same engine, same file, same CPU. Each SQL runs `warmup` untimed times, then
`runs` timed times (execute + fetch all rows). The rows come back with the
timings so the harness can check they are the answer the HTTP query gave.

`python -m bench.baselines SPEC.json OUT.json` reads a list of
`{"name", "sql", "params", "runs", "warmup"}` and the database path from the
spec; the harness writes the spec (bench/run.py).
"""

from __future__ import annotations

import datetime as dt
import json
import math
import sys
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

from bench.loadgen import percentile

FLOAT_TOLERANCE = 0.011  # both sides round to 2 decimals; summation order may differ


def where_clause(end: dt.datetime | None) -> str:
    clause = "app = $app AND ts >= $start"
    return clause + (" AND ts < $end" if end is not None else "")


def parse_utc(text: str | None) -> dt.datetime | None:
    """An ISO timestamp (with Z) as naive UTC, as the event table stores it."""
    if text is None:
        return None
    value = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value.astimezone(dt.UTC).replace(tzinfo=None) if value.tzinfo else value


def _plain(value: Any) -> Any:
    """One SQL or JSON value in a form both sides share."""
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat() + "T00:00:00"
    if isinstance(value, str) and len(value) >= 10 and value[4] == "-" and value[7] == "-":
        if len(value) == 10:
            return value + "T00:00:00"
        if value.endswith("Z") and "T" in value:
            return value[:-1]
    return value


def normalise(rows: list[list[Any]]) -> list[list[Any]]:
    return [[_plain(v) for v in row] for row in rows]


def same_answer(http_rows: list[list[Any]], sql_rows: list[list[Any]]) -> str | None:
    """None when both hold the same values in the same order; else the first difference."""
    left, right = normalise(http_rows), normalise(sql_rows)
    if len(left) != len(right):
        return f"{len(left)} rows over HTTP, {len(right)} from SQL"
    for index, (a, b) in enumerate(zip(left, right, strict=True)):
        if len(a) != len(b):
            return f"row {index}: {a!r} over HTTP, {b!r} from SQL"
        for x, y in zip(a, b, strict=True):
            if isinstance(x, float) or isinstance(y, float):
                if x is None or y is None:
                    if x != y:
                        return f"row {index}: {a!r} over HTTP, {b!r} from SQL"
                elif not math.isclose(float(x), float(y), abs_tol=FLOAT_TOLERANCE):
                    return f"row {index}: {a!r} over HTTP, {b!r} from SQL"
            elif x != y:
                return f"row {index}: {a!r} over HTTP, {b!r} from SQL"
    return None


def http_rows(results: list[dict[str, list[Any]]]) -> list[list[Any]]:
    """`/api/v1/query` results as rows: dimensions, then metrics."""
    return [[*row["dimensions"], *row["metrics"]] for row in results]


def _json_value(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dt.datetime | dt.date):
        return _plain(value)
    return value


def run_spec(spec: dict[str, Any]) -> list[dict[str, Any]]:
    import duckdb

    conn = duckdb.connect(spec["database"], read_only=True)
    out: list[dict[str, Any]] = []
    try:
        for case in spec["cases"]:
            params = {
                k: parse_utc(v) if k in ("start", "end") else v for k, v in case["params"].items()
            }
            timings: list[float] = []
            rows: list[tuple[Any, ...]] = []
            for attempt in range(case["warmup"] + case["runs"]):
                started = time.perf_counter()
                rows = conn.execute(case["sql"], params).fetchall()
                elapsed = (time.perf_counter() - started) * 1000
                if attempt >= case["warmup"]:
                    timings.append(elapsed)
            out.append(
                {
                    "name": case["name"],
                    "median_ms": percentile(timings, 50),
                    "p90_ms": percentile(timings, 90),
                    "min_ms": min(timings),
                    "rows": [[_json_value(v) for v in row] for row in rows],
                }
            )
    finally:
        conn.close()
    return out


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 2:
        print("usage: python -m bench.baselines SPEC.json OUT.json", file=sys.stderr)
        return 2
    spec = json.loads(Path(args[0]).read_text())
    Path(args[1]).write_text(json.dumps(run_spec(spec)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
