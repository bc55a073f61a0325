"""Schema versions: a fresh file starts at the latest, an old one migrates, a newer one fails."""

from __future__ import annotations

import uuid
from pathlib import Path

import duckdb
import pytest

from footfall.model import Event
from footfall.storage.base import StoreUnavailable
from footfall.storage.duckdb_store import DuckDBStore
from footfall.storage.migrations import DUCKDB_MIGRATIONS, LATEST_VERSION


def _versions(path: Path) -> list[int]:
    with duckdb.connect(str(path)) as conn:
        rows = conn.execute("SELECT version FROM footfall_schema ORDER BY version").fetchall()
    return [int(version) for (version,) in rows]


def _schema_table(conn: duckdb.DuckDBPyConnection) -> None:
    conn.execute(
        "CREATE TABLE footfall_schema "
        "(version INTEGER NOT NULL, description VARCHAR, applied_at TIMESTAMP NOT NULL)"
    )


def test_versions_are_numbered_1_to_latest() -> None:
    assert [m.version for m in DUCKDB_MIGRATIONS] == list(range(1, LATEST_VERSION + 1))


def test_a_fresh_file_records_the_latest_schema_version(tmp_path: Path) -> None:
    path = tmp_path / "fresh.duckdb"
    store = DuckDBStore(path)
    store.open()
    assert store.query("SELECT max(version) FROM footfall_schema") == [(LATEST_VERSION,)]
    store.close()
    assert _versions(path) == list(range(1, LATEST_VERSION + 1))
    # Opening it again migrates nothing twice.
    store = DuckDBStore(path)
    store.open()
    store.close()
    assert _versions(path) == list(range(1, LATEST_VERSION + 1))


def test_a_file_at_version_1_is_migrated_forward_and_keeps_its_rows(tmp_path: Path) -> None:
    path = tmp_path / "v1.duckdb"
    first = DUCKDB_MIGRATIONS[0]
    with duckdb.connect(str(path)) as conn:
        for statement in first.statements:
            conn.execute(statement)
        _schema_table(conn)
        conn.execute(
            "INSERT INTO footfall_schema VALUES (1, ?, now()::TIMESTAMP)", [first.description]
        )
        conn.execute(
            "INSERT INTO events (app, seq, id, ts, name, visitor_id, path, props) VALUES "
            "('site', 1, uuid(), now()::TIMESTAMP, 'pageview', 7, '/old', '{}'), "
            "('site', 2, uuid(), now()::TIMESTAMP, 'Signup', 7, '/old', '{\"plan\": \"pro\"}')"
        )
        conn.execute("INSERT INTO client_event_ids VALUES ('00000000-0000-4000-8000-000000000001')")

    store = DuckDBStore(path)
    store.open()
    try:
        assert store.query("SELECT max(version) FROM footfall_schema") == [(LATEST_VERSION,)]
        rows = store.query("SELECT seq, name, path, props, interactive FROM events ORDER BY seq")
        assert rows == [
            (1, "pageview", "/old", "{}", True),
            (2, "Signup", "/old", '{"plan": "pro"}', True),
        ]
        # The migrated file takes new events, seq going on, client ids still known.
        known = Event(id=uuid.UUID("00000000-0000-4000-8000-000000000001"))
        known.client_id = True
        assert store.append([Event(path="/new", interactive=False), known], 3) == [3, None]
        assert store.query("SELECT seq, path, interactive FROM events WHERE seq = 3") == [
            (3, "/new", False)
        ]
    finally:
        store.close()
    assert _versions(path) == list(range(1, LATEST_VERSION + 1))


def test_a_file_newer_than_this_footfall_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "future.duckdb"
    store = DuckDBStore(path)
    store.open()
    store.close()
    with duckdb.connect(str(path)) as conn:
        conn.execute(
            "INSERT INTO footfall_schema VALUES (?, 'from the future', now()::TIMESTAMP)",
            [LATEST_VERSION + 1],
        )

    store = DuckDBStore(path)
    with pytest.raises(StoreUnavailable) as refused:
        store.open()
    message = str(refused.value)
    assert str(path) in message
    assert f"schema version {LATEST_VERSION + 1} is newer than this footfall" in message
    assert "upgrade footfall" in message
    assert _versions(path)[-1] == LATEST_VERSION + 1
