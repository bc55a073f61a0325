"""The benchmark harness works end to end; its timings are not checked here."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import pytest
from bench import datagen, direct_load
from bench.baselines import same_answer
from bench.datagen import DAYS, generate
from bench.equivalence import differences

ROOT = Path(__file__).resolve().parents[2]
SECTIONS = (
    "## Machine and versions",
    "## Data set",
    "## Single-event ingest (target 1)",
    "## Batch ingest (target 2)",
    "## Dashboard queries (target 3)",
    "## Contract endpoints (target 3)",
    "## Contract replicas as baselines (target 4)",
    "## Server resources (target 5)",
    "## Scaling (target 6)",
    "## Against the issue 7 targets",
    "## Status",
)


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_smoke_run_writes_every_section_without_errors(tmp_path: Path) -> None:
    output = tmp_path / "RESULTS.md"
    result = subprocess.run(
        [sys.executable, "-m", "bench.run", "--smoke", "--output", str(output)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=230,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    text = output.read_text()
    for heading in SECTIONS:
        assert heading in text, heading
    assert "**ERROR**" not in text, text
    assert "OK: every measurement ran and every check passed." in text
    # Every measurement produced its row, next to its baselines.
    for row in (
        "| bare ASGI ceiling |",
        "| contract 001 replica (POST /visit) |",
        "| footfall POST /api/v1/events (one event) |",
        "| footfall POST /visit |",
        "| footfall POST /api/event (Plausible) |",
        "| ★ KPIs, 30d |",
        "| 003 GET /stats/total |",
        "| 004 GET /api/v1/session_heatmap |",
        "| GET /stats/by-event-type |",
        "| contract 003 replica |",
        "| peak RSS serving queries |",
    ):
        assert row in text, row
    assert "Every acknowledged event is stored." in text
    assert "exactly the generated count per app" in text
    assert "footfall and the replica give the same answer" in text
    # Each hand-written SQL ran and gave the HTTP answer (a mismatch is an ERROR above).
    query_rows = [line for line in text.splitlines() if line.startswith("| ★ ")]
    assert query_rows and all("| yes |" in line for line in query_rows), query_rows


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_direct_load_stores_what_http_ingest_stores() -> None:
    """Every dashboard query answers the same on a store loaded over HTTP and directly."""
    assert differences(3_000) == []


def test_direct_load_rows_follow_the_generated_events(tmp_path: Path) -> None:
    now = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)
    sim = datagen.simulate(2_000, seed=3, now=now)
    table = direct_load.arrow_events(sim)
    loaded = direct_load.load_footfall_store(table, tmp_path / "footfall.duckdb")
    assert loaded.events == 2_000
    events = [
        json.loads(line)
        for body in generate(2_000, seed=3, now=now).bodies
        for line in body.splitlines()
    ]
    assert loaded.per_app == {
        app: sum(1 for e in events if e["app"] == app) for app in loaded.per_app
    }
    replica = direct_load.load_contract003(table, tmp_path / "c003.sqlite")
    assert replica.events == loaded.per_app[datagen.MAIN_APP]


def test_same_answer_reads_dates_timestamps_and_rounding_alike() -> None:
    http = [["2026-11-01", 3, 41.67], ["2026-11-02T10:00:00Z", None, 0.5]]
    sql = [["2026-11-01T00:00:00", 3, 41.666], ["2026-11-02T10:00:00", None, 0.5]]
    assert same_answer(http, sql) is None
    assert same_answer(http, sql[:1]) == "2 rows over HTTP, 1 from SQL"
    assert same_answer([["a", 1]], [["a", 2]]) is not None


def test_datagen_is_deterministic_and_valid() -> None:
    now = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)
    first = generate(3_000, seed=7, now=now, batch_size=1_000)
    again = generate(3_000, seed=7, now=now, batch_size=1_000)
    other = generate(3_000, seed=8, now=now, batch_size=1_000)
    assert first.bodies == again.bodies
    assert first.bodies != other.bodies
    assert first.body_events == [1_000, 1_000, 1_000]
    assert sum(first.per_app.values()) == 3_000
    events = [json.loads(line) for body in first.bodies for line in body.splitlines()]
    assert len(events) == 3_000
    stamps = [dt.datetime.fromisoformat(e["ts"]) for e in events]
    assert stamps == sorted(stamps)
    assert now - dt.timedelta(days=DAYS) <= stamps[0]
    assert stamps[-1] <= now - dt.timedelta(hours=1)
    names = {e["name"] for e in events}
    assert "pageview" in names and len(names) > 3
    assert all(e["url"].startswith(f"https://{e['app']}/") for e in events)
    assert any("user_id" in e for e in events) and any("referrer" in e for e in events)
    assert any("utm_campaign=" in e["url"] for e in events)


def test_datagen_respects_the_body_size_limit() -> None:
    data = generate(2_000, seed=1, batch_size=10_000, max_body_bytes=100_000)
    assert all(len(body) <= 100_000 for body in data.bodies)
    assert sum(data.body_events) == 2_000 and len(data.bodies) > 1


@pytest.mark.timeout(120)
def test_asgi_probe_prices_each_thread_of_footfall_against_the_ceiling() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bench.asgi_probe", "--requests", "600", "--concurrency", "8"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=110,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert any(line.startswith("bare-ASGI ceiling:") and "{202: 600}" in line for line in lines)
    assert any(
        line.startswith("footfall /api/v1/events:") and "{202: 600}" in line for line in lines
    )
    # footfall's own threads are priced: the loop's, the writer's, the loader's.
    for thread in ("MainThread", "footfall-writer"):
        assert any(line.strip().startswith(thread) for line in lines), result.stdout
