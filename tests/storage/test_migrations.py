"""Schema versions: a fresh file starts at the latest, an old one migrates, a newer one fails."""

from __future__ import annotations

import uuid
from pathlib import Path

import duckdb
import pytest

from footfall.model import Event
from footfall.query.model import Query
from footfall.query.runner import run_query
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


def _file_at(path: Path, version: int) -> duckdb.DuckDBPyConnection:
    """A file migrated by hand to `version`, as an older footfall left it."""
    conn = duckdb.connect(str(path))
    _schema_table(conn)
    for migration in DUCKDB_MIGRATIONS[:version]:
        for statement in migration.statements:
            conn.execute(statement)
        conn.execute(
            "INSERT INTO footfall_schema VALUES (?, ?, now()::TIMESTAMP)",
            [migration.version, migration.description],
        )
    return conn


# (seq, app, session, time, path, referrer_domain, source, utm_campaign, browser, device,
# country): as version 3 stored them.
V3_ROWS = [
    # A visit whose landing was stored after the page it led to (an import out of order),
    # then an event back from another site mid-visit, on a third device.
    (1, "site", "a", "10:05", "/next", None, None, None, "Chrome", "desktop", "DE"),
    (
        2,
        "site",
        "a",
        "10:00",
        "/landing",
        "google.com",
        "Google",
        "spring",
        "Safari",
        "mobile",
        "FR",
    ),
    (3, "site", "a", "10:10", "/back", "t.co", "Twitter", None, None, "tablet", None),
    # The same session id in another app is another visit.
    (4, "other", "a", "09:00", "/", "bing.com", "Bing", None, "Edge", "desktop", "US"),
    # No session id: a visit of its own.
    (5, "site", None, "10:01", "/alone", "t.co", "Twitter", None, "Firefox", "mobile", None),
    # Two events in the same microsecond: the first by seq is the entry.
    (6, "site", "t", "11:00", "/", None, None, None, "Chrome", "desktop", None),
    (7, "site", "t", "11:00", "/x", "google.com", "Google", None, "Chrome", "mobile", "DE"),
]


def test_version_4_stamps_stored_events_with_their_visits_attributes(tmp_path: Path) -> None:
    """Every stored event of a visit gets the visit's origin and client: its first event's
    by (ts, seq); the event's own client stays in browser, device, …"""
    path = tmp_path / "v3.duckdb"
    with _file_at(path, 3) as conn:
        for seq, app, session, at, *values in V3_ROWS:
            conn.execute(
                "INSERT INTO events (app, seq, id, ts, name, session_id, visitor_id, path, "
                "referrer_domain, source, utm_campaign, browser, device, country, props) "
                "VALUES (?, ?, uuid(), ?, 'pageview', ?, 1, ?, ?, ?, ?, ?, ?, ?, '{}')",
                [app, seq, f"2024-03-01 {at}:00", session, *values],
            )

    store = DuckDBStore(path)
    store.open()
    try:
        assert store.query("SELECT max(version) FROM footfall_schema") == [(4,)]
        rows = store.query(
            "SELECT seq, referrer_domain, source, utm_campaign, visit_browser, visit_device, "
            "visit_country, browser, device, country FROM events ORDER BY seq"
        )
    finally:
        store.close()
    assert rows == [
        # The landing's origin and client (the earliest event), each event's own client kept.
        (1, "google.com", "Google", "spring", "Safari", "mobile", "FR", "Chrome", "desktop", "DE"),
        (2, "google.com", "Google", "spring", "Safari", "mobile", "FR", "Safari", "mobile", "FR"),
        (3, "google.com", "Google", "spring", "Safari", "mobile", "FR", None, "tablet", None),
        (4, "bing.com", "Bing", None, "Edge", "desktop", "US", "Edge", "desktop", "US"),
        (5, "t.co", "Twitter", None, "Firefox", "mobile", None, "Firefox", "mobile", None),
        # A visit without an origin gives none to its events, even one that had its own.
        (6, None, None, None, "Chrome", "desktop", None, "Chrome", "desktop", None),
        (7, None, None, None, "Chrome", "desktop", None, "Chrome", "mobile", "DE"),
    ]
    # What footfall answers on the migrated file: visit: values are the visit's.
    store = DuckDBStore(path)
    store.open()
    try:
        answer = run_query(
            store,
            Query(
                app="site",
                date_range="all",
                metrics=["events", "visits"],
                dimensions=["visit:device"],
            ),
        )
    finally:
        store.close()
    assert answer["results"] == [
        {"dimensions": ["mobile"], "metrics": [4, 1]},  # 5 has no visit to count
        {"dimensions": ["desktop"], "metrics": [2, 1]},
    ]


def test_a_migration_that_fails_leaves_the_file_at_its_version(tmp_path: Path) -> None:
    """Each migration is one transaction: version 4 cut short changes nothing."""
    path = tmp_path / "v3.duckdb"
    with _file_at(path, 3) as conn:
        # A column version 4 adds, already there: its ALTER fails after earlier ones ran.
        conn.execute("ALTER TABLE events ADD COLUMN visit_os VARCHAR")
    store = DuckDBStore(path)
    with pytest.raises(StoreUnavailable):
        store.open()
    assert _versions(path) == [1, 2, 3]
    with duckdb.connect(str(path)) as conn:
        columns = [row[0] for row in conn.execute("DESCRIBE events").fetchall()]
    assert "visit_browser" not in columns and "visit_os" in columns
