"""`footfall migrate` as a user runs it: DuckDB → chDB → DuckDB gives back the very same store."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from footfall.model import Event
from footfall.query.registry import DIMENSIONS
from footfall.storage.duckdb_store import DuckDBStore
from tests.storage import crossstore_data as data

pytestmark = pytest.mark.slow

CLIENT_ID = uuid.UUID("0190a4f0-0000-7000-8000-00000000c0de")
NOW = dt.datetime(2024, 7, 1, 12, tzinfo=dt.UTC)


def _migrate(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FOOTFALL_")}
    return subprocess.run(
        [sys.executable, "-m", "footfall", "migrate", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        cwd=cwd,
        check=False,
    )


def _dump(store: DuckDBStore, table: str, order: str) -> list[tuple[object, ...]]:
    return store.query(f"SELECT * FROM {table} ORDER BY {order}")


@pytest.fixture(scope="module")
def original(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("migrate") / "original.duckdb"
    store = DuckDBStore(path)
    store.open()
    events = data.generate(20_000, seed=9)
    data.load(store, events)
    retried = Event(app="shop", id=CLIENT_ID, client_id=True, path="/retried")
    assert store.append([retried], len(events) + 1) == [len(events) + 1]
    store.add_drop_counts(
        [("shop", dt.date(2024, 5, 1), "bot", 7), ("blog", dt.date(2024, 6, 2), "spam_referrer", 2)]
    )
    store.close()
    return path


def test_duckdb_to_chdb_to_duckdb_round_trip(original: Path, tmp_path: Path) -> None:
    chdb_dir, copy = tmp_path / "chdb", tmp_path / "copy.duckdb"
    there = _migrate(
        "--from",
        f"duckdb://{original}",
        "--to",
        f"chdb://{chdb_dir}",
        "--batch",
        "5000",
        cwd=tmp_path,
    )
    assert there.returncode == 0, there.stderr
    assert "copied 20001 events of 4 apps" in there.stdout and "counts match" in there.stdout
    assert "events" in there.stderr  # the progress bar
    back = _migrate("--from", f"chdb://{chdb_dir}", "--to", f"duckdb://{copy}", cwd=tmp_path)
    assert back.returncode == 0, back.stderr
    assert "copied 20001 events" in back.stdout

    before, after = DuckDBStore(original), DuckDBStore(copy)
    before.open()
    after.open()
    try:
        # Row for row: seq, id, microseconds, NULLs, the props text exactly as sent.
        assert _dump(after, "events", "seq") == _dump(before, "events", "seq")
        assert _dump(after, "client_event_ids", "id") == _dump(before, "client_event_ids", "id")
        drops = "SELECT app, day, reason, sum(n) FROM dropped_counts GROUP BY ALL ORDER BY ALL"
        assert after.query(drops) == before.query(drops)
        # The same answers to every metric by every dimension.
        queries = [q for q in data.questions(sorted(DIMENSIONS)) if not q.filters][:60]
        assert data.differences({"original": before, "copy": after}, queries, NOW) == []
        # Writing goes on where it stopped: a retried client id is still known.
        assert after.max_seq() == 20_001
        again = Event(app="shop", id=CLIENT_ID, client_id=True, path="/retried")
        assert after.append([again], 20_002) == [None]
    finally:
        before.close()
        after.close()


def test_a_target_that_holds_events_is_refused(original: Path, tmp_path: Path) -> None:
    result = _migrate(
        "--from", f"duckdb://{original}", "--to", f"duckdb://{original}", cwd=tmp_path
    )
    assert result.returncode == 1
    assert "already holds 20001 events" in result.stderr


@pytest.mark.parametrize(
    ("url", "named"),
    [
        ("postgres://db", "unknown store"),
        ("chdb://relative", "three slashes"),
        ("clickhouse://h/db?colour=red", "colour"),
        ("clickhouse://h:port/db", "port"),
    ],
)
def test_a_bad_store_url_is_a_usage_error_naming_it(
    original: Path, tmp_path: Path, url: str, named: str
) -> None:
    result = _migrate("--from", f"duckdb://{original}", "--to", url, cwd=tmp_path)
    assert result.returncode == 2
    assert "--to" in result.stderr and named in result.stderr


def test_events_left_in_a_killed_servers_journal_are_copied_too(tmp_path: Path) -> None:
    # A server killed before its bulk load acknowledged these events from its journal
    # (docs/durability.md): migrate loads them into the source before copying.
    from footfall.journal import Journal

    source = tmp_path / "source.duckdb"
    store = DuckDBStore(source)
    store.open()
    assert store.append([Event(app="shop", path="/stored")], 1) == [1]
    store.close()
    journal = Journal(source.with_name(source.name + ".journal"))
    journal.open()
    journal.append(2, [Event(app="shop", path=f"/journaled/{i}") for i in range(3)])
    journal.close()

    result = _migrate(
        "--from", f"duckdb://{source}", "--to", f"duckdb://{tmp_path / 'copy.duckdb'}",
        cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "loaded 3 journaled events" in result.stderr
    copy = DuckDBStore(tmp_path / "copy.duckdb")
    copy.open()
    try:
        rows = copy.query("SELECT seq, path FROM events ORDER BY seq")
    finally:
        copy.close()
    assert rows == [(1, "/stored"), (2, "/journaled/0"), (3, "/journaled/1"), (4, "/journaled/2")]
