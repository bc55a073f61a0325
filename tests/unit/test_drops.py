"""The drop ledger: counts of events dropped on purpose, kept in the store across restarts."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from footfall.app import create_app
from footfall.drops import DropLedger
from footfall.settings import Settings
from footfall.storage.duckdb_store import DuckDBStore
from tests.support.tmpfs import fill, mounted_tmpfs

TODAY = dt.datetime.now(dt.UTC).date()
GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[DuckDBStore]:
    db = DuckDBStore(tmp_path / "drops.duckdb")
    db.open()
    yield db
    db.close()


def test_counts_are_summed_over_flushes_and_include_what_is_pending(store: DuckDBStore) -> None:
    ledger = DropLedger(store)
    ledger.add("a.com", "bot")
    ledger.add("a.com", "bot", 2)
    ledger.flush()
    ledger.add("a.com", "bot")  # pending, not yet in the store
    ledger.add("b.com", "unknown_app")
    assert ledger.counts() == [("a.com", TODAY, "bot", 4), ("b.com", TODAY, "unknown_app", 1)]
    assert ledger.counts(app="b.com") == [("b.com", TODAY, "unknown_app", 1)]
    tomorrow = TODAY + dt.timedelta(days=1)
    assert ledger.counts(start=tomorrow) == []
    assert ledger.counts(end=TODAY) == []
    assert store.query("SELECT sum(n) FROM dropped_counts")[0][0] == 3


def test_an_unknown_reason_is_a_programming_error(store: DuckDBStore) -> None:
    with pytest.raises(ValueError, match="unknown drop reason 'tired'"):
        DropLedger(store).add("a.com", "tired")


def test_stop_stores_what_is_pending(tmp_path: Path, store: DuckDBStore) -> None:
    ledger = DropLedger(store, flush_seconds=3600)
    ledger.start()
    ledger.add("a.com", "spam_referrer", 5)
    ledger.stop()
    assert DropLedger(store).counts() == [("a.com", TODAY, "spam_referrer", 5)]


def test_counts_wait_in_memory_while_the_disk_is_full(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with mounted_tmpfs(tmp_path / "tmpfs", "4m") as mountpoint:
        db = DuckDBStore(mountpoint / "f.duckdb")
        db.open()
        try:
            ledger = DropLedger(db)
            filler = fill(mountpoint)
            for i in range(300):
                ledger.add(f"site-{i:03d}.example.com", "bot", i + 1)
            ledger.flush()  # fails: kept for the next try, not lost
            assert "could not store 300 drop counts" in caplog.text
            filler.unlink()
            assert sum(row[3] for row in ledger.counts()) == sum(range(1, 301))
            ledger.flush()
            assert db.query("SELECT sum(n), count(DISTINCT app) FROM dropped_counts")[0] == (
                sum(range(1, 301)),
                300,
            )
        finally:
            db.close()


def test_bot_drops_survive_a_restart_and_are_served(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    body = {"n": "pageview", "u": "https://a.com/", "d": "a.com"}
    with TestClient(create_app(settings)) as client:
        for _ in range(3):
            answer = client.post("/api/event", json=body, headers={"user-agent": GOOGLEBOT})
            assert answer.status_code == 202 and answer.headers["x-plausible-dropped"] == "1"
    with TestClient(create_app(settings)) as client:
        answer = client.get("/api/v1/dropped", params={"app": "a.com", "date_range": "7d"})
        assert answer.status_code == 200, answer.text
        payload = answer.json()
        assert payload["dropped"] == [
            {"app": "a.com", "day": TODAY.isoformat(), "reason": "bot", "events": 3}
        ]
        assert payload["totals"] == {"bot": 3}
        assert "bot" in payload["reasons"]
        assert client.get("/api/v1/dropped", params={"app": "b.com"}).json()["dropped"] == []
        since = client.get("/api/trackers/dropped").json()
        assert since["dropped"] == [{"app": "a.com", "reason": "bot", "events": 3}]
        # None of it is a visitor.
        query = {"app": "a.com", "metrics": ["visitors", "events"], "date_range": "all"}
        results = client.post("/api/v1/query", json=query).json()["results"]
        assert results == [{"dimensions": [], "metrics": [0, 0]}]


def test_a_bad_date_range_is_a_400_naming_it(tmp_path: Path) -> None:
    with TestClient(create_app(Settings(data_dir=tmp_path / "data"))) as client:
        answer = client.get("/api/v1/dropped", params={"date_range": "fortnight"})
        assert answer.status_code == 400
        assert "fortnight" in answer.text
