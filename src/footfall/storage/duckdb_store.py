"""The embedded default store: one DuckDB file in the data directory.

One process owns the file. The writer thread uses the main connection; every
reading thread gets its own cursor (DuckDB connections are not shared across
threads), and DuckDB's MVCC gives each read a snapshot that includes every
transaction committed before it began: that is read-your-writes.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import duckdb

from footfall.model import Event
from footfall.storage.arrow_batch import events_to_arrow
from footfall.storage.base import Row, StoreUnavailable
from footfall.storage.migrations import DUCKDB_MIGRATIONS, LATEST_VERSION

log = logging.getLogger(__name__)


class DuckDBStore:
    dialect = "duckdb"

    def __init__(self, path: Path) -> None:
        self.path = path
        self._conn: duckdb.DuckDBPyConnection | None = None
        self._local = threading.local()
        # Bumped on every reconnect so threads drop cursors of a dead connection.
        self._generation = 0
        self._lock = threading.Lock()

    # -- lifecycle -----------------------------------------------------------

    def open(self) -> None:
        with self._lock:
            self._connect()

    def _connect(self) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = duckdb.connect(str(self.path))
        except (OSError, duckdb.Error) as exc:
            raise StoreUnavailable(f"cannot open the DuckDB file {self.path}: {exc}") from exc
        try:
            self._migrate(conn)
        except duckdb.Error as exc:
            conn.close()
            raise StoreUnavailable(f"cannot migrate {self.path}: {exc}") from exc
        self._conn = conn
        self._generation += 1

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                try:
                    self._conn.close()
                except duckdb.Error:  # closing an invalidated database
                    log.exception("closing DuckDB failed")
                self._conn = None
                self._generation += 1

    @staticmethod
    def schema_version(conn: duckdb.DuckDBPyConnection) -> int:
        conn.execute(
            "CREATE TABLE IF NOT EXISTS footfall_schema "
            "(version INTEGER NOT NULL, description VARCHAR, applied_at TIMESTAMP NOT NULL)"
        )
        row = conn.execute("SELECT coalesce(max(version), 0) FROM footfall_schema").fetchone()
        return int(row[0]) if row else 0

    def _migrate(self, conn: duckdb.DuckDBPyConnection) -> None:
        current = self.schema_version(conn)
        if current > LATEST_VERSION:
            raise duckdb.Error(
                f"schema version {current} is newer than this footfall ({LATEST_VERSION}); "
                "upgrade footfall"
            )
        for migration in DUCKDB_MIGRATIONS:
            if migration.version <= current:
                continue
            log.info("migrating %s to schema %d: %s", self.path, migration.version,
                     migration.description)
            conn.execute("BEGIN")
            try:
                for statement in migration.statements:
                    conn.execute(statement)
                conn.execute(
                    "INSERT INTO footfall_schema VALUES (?, ?, now()::TIMESTAMP)",
                    [migration.version, migration.description],
                )
                conn.execute("COMMIT")
            except duckdb.Error:
                conn.execute("ROLLBACK")
                raise

    def _writer_connection(self) -> duckdb.DuckDBPyConnection:
        if self._conn is None:
            # The previous commit failed and dropped the connection; try again,
            # so ingest recovers by itself once the cause (full disk…) is gone.
            self._connect()
        assert self._conn is not None
        return self._conn

    # -- writing -------------------------------------------------------------

    def max_seq(self) -> int:
        row = self._cursor().execute("SELECT coalesce(max(seq), 0) FROM events").fetchone()
        return int(row[0]) if row else 0

    def append(self, events: Sequence[Event], first_seq: int) -> list[int | None]:
        with self._lock:
            conn = self._writer_connection()
            try:
                conn.execute("BEGIN")
                fresh_ids = self._claim_client_ids(conn, events)
                seqs: list[int | None] = []
                stored: list[Event] = []
                next_seq = first_seq
                for event in events:
                    if event.client_id:
                        if event.id not in fresh_ids:
                            seqs.append(None)  # stored before, or earlier in this batch
                            continue
                        fresh_ids.discard(event.id)
                    seqs.append(next_seq)
                    stored.append(event)
                    next_seq += 1
                if stored:
                    incoming = events_to_arrow(stored, range(first_seq, next_seq))
                    conn.register("incoming_events", incoming)
                    try:
                        conn.execute("INSERT INTO events BY NAME SELECT * FROM incoming_events")
                    finally:
                        conn.unregister("incoming_events")
                conn.execute("COMMIT")
                return seqs
            except (duckdb.Error, OSError) as exc:
                self._abandon(conn)
                raise StoreUnavailable(f"cannot write to {self.path}: {exc}") from exc

    @staticmethod
    def _claim_client_ids(
        conn: duckdb.DuckDBPyConnection, events: Sequence[Event]
    ) -> set[uuid.UUID]:
        """Record the batch's client-supplied ids; return those never seen before."""
        client_ids = {str(event.id) for event in events if event.client_id}
        if not client_ids:
            return set()
        rows = conn.execute(
            "INSERT OR IGNORE INTO client_event_ids SELECT unnest(?::UUID[]) RETURNING id",
            [list(client_ids)],
        ).fetchall()
        return {row[0] for row in rows}

    def _abandon(self, conn: duckdb.DuckDBPyConnection) -> None:
        """After a failed commit: roll back and drop the connection so the next try reopens."""
        try:
            conn.execute("ROLLBACK")
        except duckdb.Error:
            pass
        try:
            conn.close()
        except duckdb.Error:
            pass
        self._conn = None
        self._generation += 1

    # -- reading -------------------------------------------------------------

    def _cursor(self) -> duckdb.DuckDBPyConnection:
        local = self._local
        if getattr(local, "generation", None) != self._generation or local.cursor is None:
            with self._lock:
                conn = self._writer_connection()
                local.cursor = conn.cursor()
                local.generation = self._generation
        cursor: duckdb.DuckDBPyConnection = local.cursor
        return cursor

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        try:
            return self._cursor().execute(sql, list(params)).fetchall()
        except StoreUnavailable:
            raise
        except duckdb.IOException as exc:
            raise StoreUnavailable(f"cannot read {self.path}: {exc}") from exc

    def ping(self) -> None:
        try:
            self._cursor().execute("SELECT 1").fetchall()
        except duckdb.Error as exc:
            raise StoreUnavailable(f"DuckDB at {self.path} does not answer: {exc}") from exc
