"""DuckDB beside chDB on this machine: the writer's commits, a bulk load, the dashboard queries.

    python -m bench.stores                       # 1 M events, ~2 min; Markdown on stdout
    python -m bench.stores --events 200000 --runs 3 --output /tmp/stores.md

Both stores are created by footfall's own factory (`duckdb:///…`, `chdb:///…`),
so they have the schema and settings a server uses (chDB: fsync per insert).
Three measurements, each taken on both stores in the same run:

1. **Writer commits**: `store.append` — exactly what the writer thread calls —
   with batches of 1, 100, 1,000 and 10,000 events: the cost of one durable
   commit and the events per second one node can store.
2. **Bulk load**: bench/datagen.py's data set (8 apps, 90 days, visits,
   referrers, UTM, props) as one Arrow insert per 100,000 events.
3. **Queries**: every dashboard query of bench/queries.py through footfall's
   query runner (the compiled SQL of each dialect), median of `--runs`.

The report gives times and the chDB/DuckDB ratio; docs/scaling.md sizes
nodes from it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import platform
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa

from bench import datagen
from bench.direct_load import arrow_events
from bench.queries import DASHBOARD
from footfall.model import EVENT_COLUMNS, Event
from footfall.query.model import Query
from footfall.query.runner import run_query
from footfall.storage.base import Store
from footfall.storage.clickhouse_store import ClickHouseStore
from footfall.storage.duckdb_store import DuckDBStore
from footfall.storage.factory import create_store

BATCHES = (1, 100, 1_000, 10_000)
LOAD_CHUNK = 100_000


def _median_ms(run: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        run()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def _events(n: int, offset: int) -> list[Event]:
    return [
        Event(app="bench", path=f"/p{(offset + i) % 50}", session_id=f"s{(offset + i) // 5}")
        for i in range(n)
    ]


def commits(store: Store, runs: int) -> dict[int, float]:
    """Median ms of one `append` per batch size."""
    out: dict[int, float] = {}
    for size in BATCHES:
        times = []
        for _ in range(max(3, runs if size < 10_000 else 3)):
            events = _events(size, 0)
            first = store.max_seq() + 1
            started = time.perf_counter()
            store.append(events, first)
            times.append((time.perf_counter() - started) * 1000)
        out[size] = statistics.median(times)
    return out


def bulk_load(store: Store, table: pa.Table) -> float:
    """Seconds to insert `table` as 100,000-row Arrow inserts (seq kept as generated)."""
    started = time.perf_counter()
    if isinstance(store, ClickHouseStore):
        for start in range(0, table.num_rows, LOAD_CHUNK):
            store.backend.insert("events", table.slice(start, LOAD_CHUNK))
    elif isinstance(store, DuckDBStore):
        import duckdb

        store.close()
        conn = duckdb.connect(str(store.path))
        try:
            for start in range(0, table.num_rows, LOAD_CHUNK):
                conn.register("chunk", table.slice(start, LOAD_CHUNK))
                conn.execute("INSERT INTO events BY NAME SELECT * FROM chunk")
                conn.unregister("chunk")
            conn.execute("CHECKPOINT")
        finally:
            conn.close()
        store.open()
    return time.perf_counter() - started


def _size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5, help="runs per query (median)")
    parser.add_argument("--output", type=Path, help="write the Markdown here (default: stdout)")
    args = parser.parse_args(argv)

    now = dt.datetime.now(dt.UTC).replace(second=0, microsecond=0) - dt.timedelta(hours=1)
    print(f"generating {args.events:,} events…", file=sys.stderr)
    table = arrow_events(datagen.simulate(args.events, now=now))
    ids = pa.array([str(uuid.uuid4()) for _ in range(table.num_rows)], pa.string())
    table = table.append_column("id", ids).select(list(EVENT_COLUMNS))
    # Offset the loaded seqs past the commit probe's, as a store that kept running would.
    table = table.set_column(
        EVENT_COLUMNS.index("seq"),
        "seq",
        pa.array(range(1_000_001, 1_000_001 + table.num_rows), pa.int64()),
    )
    work = Path(tempfile.mkdtemp(prefix="footfall-bench-stores-"))
    paths = {"duckdb": work / "bench.duckdb", "chdb": work / "chdb"}
    results: dict[str, dict[str, Any]] = {}
    try:
        for name, path in paths.items():
            print(f"{name}: commits…", file=sys.stderr)
            store = create_store(f"{name}://{path}", work)
            store.open()
            try:
                found: dict[str, Any] = {"commits": commits(store, args.runs)}
                print(f"{name}: loading…", file=sys.stderr)
                found["load"] = bulk_load(store, table)
                print(f"{name}: queries…", file=sys.stderr)
                queries: dict[str, float] = {}
                for case in DASHBOARD:
                    query = Query.model_validate(case.body)
                    run_query(store, query)  # warm-up
                    queries[case.name] = _median_ms(
                        functools.partial(run_query, store, query), args.runs
                    )
                found["queries"] = queries
            finally:
                store.close()
            found["bytes"] = _size(path)
            results[name] = found
    finally:
        shutil.rmtree(work, ignore_errors=True)
    report = render(results, args.events, args.runs)
    if args.output:
        args.output.write_text(report)
    else:
        print(report)
    return 0


def render(results: dict[str, dict[str, Any]], events: int, runs: int) -> str:
    duck, ch = results["duckdb"], results["chdb"]
    lines = [
        f"### DuckDB and chDB on this machine ({events:,} events)",
        "",
        f"`python -m bench.stores --events {events} --runs {runs}`, "
        f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, "
        f"{platform.processor() or platform.machine()}, "
        f"Python {platform.python_version()}; both stores in one run, one after the other.",
        "",
        "Writer commits (`store.append`, what the writer thread calls; median):",
        "",
        "| events per commit | DuckDB ms | chDB ms | DuckDB events/s | chDB events/s |",
        "|---|---|---|---|---|",
    ]
    for size in BATCHES:
        d, c = duck["commits"][size], ch["commits"][size]
        lines.append(
            f"| {size:,} | {d:.1f} | {c:.1f} | {size / d * 1000:,.0f} | {size / c * 1000:,.0f} |"
        )
    lines += [
        "",
        f"Bulk load of {events:,} events (100,000 per Arrow insert): DuckDB "
        f"{duck['load']:.1f} s, chDB {ch['load']:.1f} s; on disk after the run: DuckDB "
        f"{duck['bytes'] / 1e6:.0f} MB, chDB {ch['bytes'] / 1e6:.0f} MB.",
        "",
        f"Dashboard queries (bench/queries.py, footfall's compiled SQL; median of {runs}, ms):",
        "",
        "| query | DuckDB | chDB | chDB / DuckDB |",
        "|---|---|---|---|",
    ]
    total_d = total_c = 0.0
    for name, d in duck["queries"].items():
        c = ch["queries"][name]
        total_d, total_c = total_d + d, total_c + c
        lines.append(f"| {name} | {d:.1f} | {c:.1f} | {c / d:.1f}× |")
    lines.append(
        f"| **all of them** | **{total_d:.0f}** | **{total_c:.0f}** "
        f"| **{total_c / total_d:.1f}×** |"
    )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    raise SystemExit(main())
