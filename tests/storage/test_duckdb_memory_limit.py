"""FOOTFALL_DUCKDB_MEMORY_LIMIT caps what the embedded store may take (a small VPS)."""

from __future__ import annotations

from pathlib import Path

from footfall.services import open_store
from footfall.settings import Settings


def _limit(settings: Settings) -> str:
    store = open_store(settings)
    try:
        rows = store.query("SELECT current_setting('memory_limit')")
    finally:
        store.close()
    return str(rows[0][0])


def test_the_store_runs_under_the_configured_memory_limit(tmp_path: Path) -> None:
    assert _limit(Settings(data_dir=tmp_path / "a", duckdb_memory_limit="256MB")) == "244.1 MiB"
    assert _limit(Settings(data_dir=tmp_path / "b", duckdb_memory_limit="1GiB")) == "1.0 GiB"
    # Unset: DuckDB's own default (80 % of RAM), whatever the machine has.
    assert _limit(Settings(data_dir=tmp_path / "c")) not in ("244.1 MiB", "1.0 GiB")
