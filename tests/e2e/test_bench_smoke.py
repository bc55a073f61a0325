"""The benchmark harness works end to end; its timings are not checked here."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import pytest
from bench.datagen import DAYS, generate

ROOT = Path(__file__).resolve().parents[2]
SECTIONS = (
    "## Machine and versions",
    "## Data set",
    "## Single-event ingest",
    "## Batch ingest",
    "## Dashboard queries",
    "## Server resources",
    "## Against the issue 7 targets",
    "## Status",
)


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_smoke_run_writes_every_section_without_errors(tmp_path: Path) -> None:
    output = tmp_path / "RESULTS.md"
    result = subprocess.run(
        [sys.executable, "-m", "bench.run", "--smoke", "--output", str(output)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=110,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    text = output.read_text()
    for heading in SECTIONS:
        assert heading in text, heading
    assert "**ERROR**" not in text, text
    assert "OK: every measurement ran and every check passed." in text
    # Each measurement produced its row, and both ingest checks ran.
    assert "| footfall |" in text
    assert "| bare ASGI ceiling |" in text
    assert "★ KPIs, 30d" in text
    assert "Every acknowledged event is stored." in text
    assert "exactly the generated count per app" in text


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
