"""Time every query through HTTP next to its hand-written SQL twin, run by run.

`measure` runs each dashboard and contract query on a live footfall and,
after each HTTP run, the query's SQL twin in the pinned child process of
bench/baselines.py (on a byte copy of the store: DuckDB lets one process own
a file), with the exact range footfall reported; the two answers must match.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from bench.baselines import SqlRunner, http_rows, parse_utc, same_answer, where_clause
from bench.loadgen import JsonClient, percentile
from bench.queries import CONTRACTS, DASHBOARD, QueryCase

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
    # The hand-written SQL's numbers and whether its answer differs:
    sql_median: float | None = None
    sql_p90: float | None = None
    mismatch: str | None = None
    # footfall's own compiled SQL for the query, run the same way (dashboard queries):
    # splits the gap into the compiler's share and the HTTP/Python layer's.
    compiled: tuple[str, list[Any]] | None = None
    compiled_median: float | None = None

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


def _time_both(
    timed: Timed,
    request: Callable[[], tuple[int, Any, float]],
    answer: Callable[[Any], list[list[Any]]],
    sql: SqlRunner,
    *,
    runs: int,
    warmup: int,
    on_first: Callable[[Any], None] = lambda body: None,
) -> None:
    """Warm both up, then alternate one HTTP request and one SQL run, `runs` times."""
    sql_timings: list[float] = []
    compiled_timings: list[float] = []
    sql_rows: list[list[Any]] = []
    for attempt in range(warmup + runs):
        status, body, elapsed = request()
        if status != 200:
            timed.error = f"HTTP {status}: {str(body)[:300]}"
            return
        if attempt == 0:
            on_first(body)
        timed.rows = answer(body)
        ms, sql_rows = sql.run(timed.sql, _used(timed.sql, timed.params))
        if timed.compiled is not None:
            compiled_ms, _ = sql.run(*timed.compiled)
            if attempt >= warmup:
                compiled_timings.append(compiled_ms)
        if attempt >= warmup:
            timed.timings.append(elapsed)
            sql_timings.append(ms)
    if compiled_timings:
        timed.compiled_median = percentile(compiled_timings, 50)
    timed.sql_median = percentile(sql_timings, 50)
    timed.sql_p90 = percentile(sql_timings, 90)
    timed.mismatch = same_answer(timed.rows, sql_rows)


def compiled_sql(
    body: dict[str, Any],
    start: dt.datetime | None,
    end: dt.datetime | None,
    *,
    own_range: bool = False,
) -> tuple[str, list[Any]]:
    """The SQL and parameters footfall's compiler makes of `body`, for [start, end)
    (or for the body's own date range with `own_range`)."""
    import dataclasses

    from footfall.query.compiler.duckdb import DuckDBDialect
    from footfall.query.compiler.sql import compile_query
    from footfall.query.daterange import DateRange
    from footfall.query.model import Query, resolve

    resolved = resolve(Query(**body))
    if not own_range:
        resolved = dataclasses.replace(resolved, date_range=DateRange(start, end))
    compiled = compile_query(DuckDBDialect(), resolved)
    return compiled.sql, list(compiled.params)


def measure(
    host: str,
    port: int,
    sql: SqlRunner,
    *,
    runs: int,
    warmup: int,
    token: str | None,
    app: str,
) -> list[Timed]:
    """Every query of bench/queries.py through HTTP (one connection, one at a time), each
    run followed by its hand-written SQL on the copy of the store."""
    client = JsonClient(host, port)
    out: list[Timed] = []
    try:
        for case in DASHBOARD:
            timed = Timed(case.name, case.on_page, case.sql, {})

            def use_range(body: Any, timed: Timed = timed, case: QueryCase = case) -> None:
                # The SQL gets exactly the range footfall resolved "30d" etc. to.
                start, end = body["meta"]["date_range"]
                timed.params = {"app": app, "start": start, "end": end}
                timed.sql = case.sql.replace("{where}", where_clause(parse_utc(end)))
                timed.compiled = compiled_sql(case.body, parse_utc(start), parse_utc(end))

            _time_both(
                timed,
                partial(client.post, QUERY_PATH, case.body),
                lambda body: http_rows(body["results"]),
                sql,
                runs=runs,
                warmup=warmup,
                on_first=use_range,
            )
            out.append(timed)
        now = dt.datetime.now(dt.UTC).replace(tzinfo=None, second=0, microsecond=0)
        window = {"start": (now - dt.timedelta(days=30)).isoformat(), "end": now.isoformat()}
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        for contract in CONTRACTS:
            timed = Timed(contract.name, False, contract.sql, {"app": app, **window})
            path = contract.path.format(**window)
            if contract.query is not None:
                text = json.dumps(contract.query)
                text = text.replace("{start}", window["start"]).replace("{end}", window["end"])
                query = json.loads(text)
                if contract.since_days is not None:
                    since = now - dt.timedelta(days=contract.since_days)
                    timed.params["start"] = since.isoformat()
                    timed.compiled = compiled_sql(query, since, None)
                else:
                    timed.compiled = compiled_sql(query, None, None, own_range=True)
            _time_both(
                timed,
                partial(client.get, path, headers if contract.needs_token else None),
                contract.shape,
                sql,
                runs=runs,
                warmup=warmup,
            )
            out.append(timed)
    finally:
        client.close()
    return out


def dashboard_names() -> set[str]:
    return {case.name for case in DASHBOARD}


def is_dashboard(name: str) -> bool:
    return name in dashboard_names()
