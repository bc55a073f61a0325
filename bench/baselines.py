"""Hand-written SQL on the same data: the baseline footfall's queries are priced against.

DuckDB lets one process own a file, so the SQL runs on a byte copy of the
store file, taken after loading and before footfall starts, in a child
process pinned to the cores footfall queries on: same engine, data and CPU.
The harness alternates HTTP query and SQL run by run, so both see the same
noise of a shared machine. Each reply carries the rows, so the harness can
check they are the answer the HTTP query gave.

`python -m bench.baselines DATABASE` reads `{"sql", "params"}` JSON lines on
stdin and answers `{"ms", "rows"}` lines (`SqlRunner` drives it).
"""

from __future__ import annotations

import datetime as dt
import json
import math
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

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


def encode_params(params: dict[str, Any] | list[Any]) -> dict[str, Any] | list[Any]:
    """Parameters as JSON: named ones as they are (`start`/`end` are ISO text), positional
    ones (footfall's compiled SQL) with datetimes tagged."""
    if isinstance(params, dict):
        return params
    return [{"$ts": v.isoformat()} if isinstance(v, dt.datetime) else v for v in params]


def decode_params(params: dict[str, Any] | list[Any]) -> dict[str, Any] | list[Any]:
    if isinstance(params, dict):
        return {k: parse_utc(v) if k in ("start", "end") else v for k, v in params.items()}
    return [
        dt.datetime.fromisoformat(v["$ts"]) if isinstance(v, dict) and "$ts" in v else v
        for v in params
    ]


def serve(database: str) -> None:
    """Answer JSON lines `{"sql", "params"}` on stdin with `{"ms", "rows"}` on stdout."""
    import duckdb

    conn = duckdb.connect(database, read_only=True)
    try:
        for line in sys.stdin:
            request = json.loads(line)
            params = decode_params(request["params"])
            try:
                started = time.perf_counter()
                rows = conn.execute(request["sql"], params).fetchall()
                elapsed = (time.perf_counter() - started) * 1000
                reply: dict[str, Any] = {
                    "ms": elapsed,
                    "rows": [[_json_value(v) for v in row] for row in rows],
                }
            except duckdb.Error as exc:
                reply = {"error": str(exc)}
            sys.stdout.write(json.dumps(reply) + "\n")
            sys.stdout.flush()
    finally:
        conn.close()


class SqlRunner:
    """The child process that runs hand-written SQL on a copy of the store, pinned."""

    def __init__(self, database: Path, cpus: str | None) -> None:
        from bench.servers import REPO_ROOT, pinned

        argv = [sys.executable, "-m", "bench.baselines", str(database)]
        self.proc = subprocess.Popen(
            pinned(argv, cpus),
            cwd=REPO_ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def run(self, sql: str, params: dict[str, Any] | list[Any]) -> tuple[float, list[list[Any]]]:
        """(milliseconds to execute and fetch, rows) of one statement."""
        assert self.proc.stdin is not None and self.proc.stdout is not None
        request = {"sql": sql, "params": encode_params(params)}
        self.proc.stdin.write(json.dumps(request) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"the SQL process exited ({self.proc.poll()})")
        reply = json.loads(line)
        if "error" in reply:
            raise RuntimeError(f"hand-written SQL failed: {reply['error']}\n{sql}")
        return float(reply["ms"]), reply["rows"]

    def close(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def __enter__(self) -> SqlRunner:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 1:
        print("usage: python -m bench.baselines DATABASE  (JSON lines on stdin)", file=sys.stderr)
        return 2
    serve(args[0])
    return 0


if __name__ == "__main__":
    sys.exit(main())
