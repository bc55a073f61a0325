"""Time the queries through HTTP, then their hand-written SQL twins on the same file.

`measure_http` runs every dashboard and contract query on a live footfall and
keeps, with each timing, the answer and the exact range footfall used;
`measure_sql` (after footfall stopped: DuckDB lets one process own the file)
runs each twin in a child process pinned like the server, with that range,
and `compare` checks the two answers are the same.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.baselines import http_rows, parse_utc, same_answer, where_clause
from bench.loadgen import JsonClient, percentile
from bench.queries import CONTRACTS, DASHBOARD
from bench.servers import REPO_ROOT, pinned

QUERY_PATH = "/api/v1/query"


@dataclass
class Timed:
    name: str
    on_page: bool
    sql: str
    params: dict[str, Any]
    timings: list[float] = field(default_factory=list)
    rows: list[list[Any]] = field(default_factory=list)
    error: str | None = None
    # Filled by measure_sql / compare:
    sql_median: float | None = None
    sql_p90: float | None = None
    mismatch: str | None = None

    @property
    def median(self) -> float:
        return percentile(self.timings, 50)

    @property
    def p90(self) -> float:
        return percentile(self.timings, 90)

    @property
    def ratio(self) -> float | None:
        if self.sql_median is None or self.error or not self.sql_median:
            return None
        return self.median / self.sql_median


def _used(sql: str, params: dict[str, Any]) -> dict[str, Any]:
    """Only the parameters the SQL names (DuckDB refuses extra named parameters)."""
    return {k: v for k, v in params.items() if f"${k}" in sql}


def measure_http(
    host: str,
    port: int,
    *,
    runs: int,
    warmup: int,
    token: str | None,
    app: str,
    after_each: Callable[[], None] = lambda: None,
) -> list[Timed]:
    """Every query of bench/queries.py through HTTP, one at a time on one connection."""
    client = JsonClient(host, port)
    out: list[Timed] = []
    try:
        for case in DASHBOARD:
            timed = Timed(case.name, case.on_page, case.sql, {})
            for attempt in range(warmup + runs):
                status, body, elapsed = client.post(QUERY_PATH, case.body)
                if status != 200:
                    timed.error = f"HTTP {status}: {str(body)[:300]}"
                    break
                if attempt >= warmup:
                    timed.timings.append(elapsed)
                timed.rows = http_rows(body["results"])
                start, end = body["meta"]["date_range"]
                timed.params = {"app": app, "start": start, "end": end}
            if timed.params:
                end_value = timed.params["end"]
                timed.sql = case.sql.replace("{where}", where_clause(parse_utc(end_value)))
            out.append(timed)
            after_each()
        now = dt.datetime.now(dt.UTC).replace(tzinfo=None, second=0, microsecond=0)
        window = {"start": (now - dt.timedelta(days=30)).isoformat(), "end": now.isoformat()}
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        for contract in CONTRACTS:
            timed = Timed(contract.name, False, contract.sql, {"app": app, **window})
            path = contract.path.format(**window)
            for attempt in range(warmup + runs):
                status, body, elapsed = client.get(path, headers if contract.needs_token else None)
                if status != 200:
                    timed.error = f"HTTP {status}: {str(body)[:300]}"
                    break
                if attempt >= warmup:
                    timed.timings.append(elapsed)
                timed.rows = contract.shape(body)
            out.append(timed)
            after_each()
    finally:
        client.close()
    return out


def measure_sql(
    database: Path, timed: list[Timed], *, runs: int, warmup: int, cpus: str | None
) -> None:
    """Run the SQL twins in a child process pinned to `cpus`; fill in their timings."""
    cases = [
        {
            "name": t.name,
            "sql": t.sql,
            "params": _used(t.sql, t.params),
            "runs": runs,
            "warmup": warmup,
        }
        for t in timed
        if t.error is None
    ]
    with tempfile.TemporaryDirectory(prefix="footfall-bench-sql-") as tmp:
        spec, result = Path(tmp) / "spec.json", Path(tmp) / "out.json"
        spec.write_text(json.dumps({"database": str(database), "cases": cases}))
        argv = [sys.executable, "-m", "bench.baselines", str(spec), str(result)]
        done = subprocess.run(
            pinned(argv, cpus), cwd=REPO_ROOT, capture_output=True, text=True, check=False
        )
        if done.returncode != 0:
            raise RuntimeError(f"hand-written SQL run failed:\n{done.stderr[-3000:]}")
        answers = {item["name"]: item for item in json.loads(result.read_text())}
    for t in timed:
        answer = answers.get(t.name)
        if answer is None:
            continue
        t.sql_median, t.sql_p90 = answer["median_ms"], answer["p90_ms"]
        t.mismatch = same_answer(t.rows, answer["rows"])


def dashboard_names() -> set[str]:
    return {case.name for case in DASHBOARD}


def is_dashboard(name: str) -> bool:
    return name in dashboard_names()
