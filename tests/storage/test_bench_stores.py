"""`python -m bench.stores` (the sizing numbers of docs/scaling.md) keeps running: a tiny run."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow


def test_bench_stores_writes_its_markdown(tmp_path: Path) -> None:
    output = tmp_path / "stores.md"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.stores",
            "--events",
            "5000",
            "--runs",
            "1",
            "--output",
            str(output),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert result.returncode == 0, result.stderr
    report = output.read_text()
    assert "### DuckDB and chDB on this machine (5,000 events)" in report
    for size in ("| 1 |", "| 10,000 |"):
        assert size in report
    assert "Bulk load of 5,000 events" in report
    assert "| **all of them** |" in report
