"""The scaling curve (issue 7, target 6): one summary per run size, one table of all.

Every full run saves its headline numbers as `bench/results/scaling-<store>-<events>.json`;
the report's scaling table reads every such file, so `make bench` (1 M) and
`make bench-full` (10 M) together fill it, and a 100 M run on a bigger machine
adds a row. `--store chdb` runs add the chDB rows.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from bench.report import Section, fmt_bytes, fmt_int, fmt_ms


@dataclass
class Summary:
    events: int
    date: str
    store: str = "duckdb"
    load_s: float | None = None
    single_rps: float | None = None
    single_vs_ceiling: float | None = None
    batch_events_per_s: float | None = None
    page_ms: float | None = None
    slowest_query: str | None = None
    slowest_ms: float | None = None
    worst_sql_ratio: float | None = None
    worst_sql_query: str | None = None
    peak_rss: int | None = None
    disk_bytes: int | None = None
    query_medians: dict[str, float] = field(default_factory=dict)


def save(summary: Summary, directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"scaling-{summary.store}-{summary.events}.json"
    path.write_text(json.dumps(asdict(summary), indent=1, sort_keys=True) + "\n")
    return path


def load_all(directory: Path) -> list[Summary]:
    found: list[Summary] = []
    for path in sorted(directory.glob("scaling-*.json")):
        try:
            found.append(Summary(**json.loads(path.read_text())))
        except (OSError, ValueError, TypeError):
            continue
    return sorted(found, key=lambda s: (s.events, s.store))


def _opt(value: float | None, fmt: str = "int") -> str:
    if value is None:
        return "n/a"
    if fmt == "ms":
        return fmt_ms(value)
    if fmt == "pct":
        return f"{value:.0%}"
    if fmt == "ratio":
        return f"{value:.2f}×"
    if fmt == "bytes":
        return fmt_bytes(value)
    return fmt_int(value)


def describe(section: Section, summaries: list[Summary]) -> None:
    section.text(
        "One row per run size and store, from `bench/results/scaling-*.json` (each full "
        "run writes its own; the date says when). Same machine, so rows compare, but each "
        "was measured in its own run: the ratios inside a run are the firmer numbers. "
        "chDB rows come from `python -m bench.run --store chdb` (the data set copied into "
        "chDB; worst HTTP/SQL is n/a there, the hand-written SQL being DuckDB's). 100 M "
        "needs the bigger machine."
    )
    table = section.table(
        ["events", "store", "run (UTC)", "load s (direct)", "single-event req/s",
         "vs ceiling", "batch events/s", "dashboard page ms", "slowest query ms",
         "worst HTTP/SQL", "peak RSS", "store on disk"]
    )  # fmt: skip
    for s in summaries:
        table.add(
            fmt_int(s.events), s.store, s.date, _opt(s.load_s, "ms"), _opt(s.single_rps),
            _opt(s.single_vs_ceiling, "pct"), _opt(s.batch_events_per_s),
            _opt(s.page_ms, "ms"),
            f"{_opt(s.slowest_ms, 'ms')} ({s.slowest_query})" if s.slowest_query else "n/a",
            f"{_opt(s.worst_sql_ratio, 'ratio')} ({s.worst_sql_query})"
            if s.worst_sql_query else "n/a",
            _opt(s.peak_rss, "bytes"), _opt(s.disk_bytes, "bytes"),
        )  # fmt: skip
    if not summaries:
        section.text("No run summaries yet.")
