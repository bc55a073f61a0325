"""The embedded default store: one DuckDB file in the data directory.

One process owns the file. The writer thread uses the main connection; every
reading thread gets its own cursor (DuckDB connections are not shared across
threads), and DuckDB's MVCC gives each read a snapshot that includes every
transaction committed before it began: with the read barrier (events
acknowledged from the writer's journal are loaded before a read starts),
that is read-your-writes.

When a write fails (disk full, read-only file system) the connection is
closed and the next use reopens the file, so the store recovers by itself
once the cause is gone. Closing waits for reads in progress (DuckDB refuses
to close a connection one of its cursors is busy with, and a database that
is not closed stays cached, invalidated, in the process).

Checkpoints (folding the WAL into the file) are run here, after a commit,
never inside one: DuckDB's automatic checkpoint runs inside COMMIT and, when
it fails, raises *after* the transaction became durable, which would turn a
stored batch into an error and reuse its `seq`s.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

import duckdb

from footfall.model import Event
from footfall.storage.arrow_batch import events_to_arrow
from footfall.storage.base import Row, StoreUnavailable
from footfall.storage.migrations import DUCKDB_MIGRATIONS, LATEST_VERSION

log = logging.getLogger(__name__)

T = TypeVar("T")

# DuckDB's own automatic checkpoint is switched off (see the module docstring).
_NO_AUTOCHECKPOINT = "1000 TiB"
# How long to wait before trying a checkpoint again after one failed.
_CHECKPOINT_RETRY_SECONDS = 5.0


class _Gate:
    """Many readers at once, or one closer: a connection is closed only when no read uses it."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._readers = 0
        self._closing = False

    @contextlib.contextmanager
    def reading(self) -> Iterator[None]:
        with self._cond:
            while self._closing:
                self._cond.wait()
            self._readers += 1
        try:
            yield
        finally:
            with self._cond:
                self._readers -= 1
                if not self._readers:
                    self._cond.notify_all()

    @contextlib.contextmanager
    def closing(self) -> Iterator[None]:
        with self._cond:
            while self._closing:
                self._cond.wait()
            self._closing = True  # new readers wait from here on
            while self._readers:
                self._cond.wait()
        try:
            yield
        finally:
            with self._cond:
                self._closing = False
                self._cond.notify_all()


class DuckDBStore:
    dialect = "duckdb"

    def __init__(
        self, path: Path, *, checkpoint_bytes: int = 16 * 1024 * 1024, memory_limit: str = ""
    ) -> None:
        self.path = path
        # DuckDB's memory_limit (e.g. "512MB"); empty: its default, 80 % of RAM.
        self.memory_limit = memory_limit
        # Fold the WAL into the file once it is this big (DuckDB's own default).
        self.checkpoint_bytes = checkpoint_bytes
        self._wal = path.with_name(path.name + ".wal")
        self._checkpoint_after = 0.0
        self._conn: duckdb.DuckDBPyConnection | None = None
        self._local = threading.local()
        # Bumped whenever the connection is closed or replaced, so that threads
        # drop their cursors of the old one. Changed only under the gate.
        self._generation = 0
        self._lock = threading.Lock()  # the writer connection: appends, (re)connecting
        self._gate = _Gate()  # closing the connection versus reads in progress
        self.read_barrier: Callable[[], None] | None = None  # see Store.read_barrier

    # -- lifecycle -----------------------------------------------------------

    def open(self) -> None:
        with self._lock:
            self._connect()

    def _connect(self) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            config: dict[str, str | bool | int | float | list[str]] = {
                "checkpoint_threshold": _NO_AUTOCHECKPOINT
            }
            if self.memory_limit:
                config["memory_limit"] = self.memory_limit
            conn = duckdb.connect(str(self.path), config=config)
        except (OSError, duckdb.Error) as exc:
            raise StoreUnavailable(f"cannot open the DuckDB file {self.path}: {exc}") from exc
        try:
            # No progress bars on the server's stderr (a long migration drew them).
            conn.execute("SET enable_progress_bar = false")
            self._migrate(conn)
        except duckdb.Error as exc:
            conn.close()
            raise StoreUnavailable(f"cannot migrate {self.path}: {exc}") from exc
        with self._gate.closing():
            self._conn = conn
            self._generation += 1

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._drop(self._conn, rollback=False)

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
            log.info(
                "migrating %s to schema %d: %s", self.path, migration.version, migration.description
            )
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
        rows = self.query("SELECT coalesce(max(seq), 0) FROM events")
        return int(rows[0][0]) if rows else 0

    def append(self, events: Sequence[Event], first_seq: int) -> list[int | None]:
        with self._lock:
            conn = self._writer_connection()
            # Without client ids there is nothing to check and the INSERT alone is the
            # transaction: no BEGIN/COMMIT calls (with the replacement scan below, a
            # 32-event commit costs 3.6 instead of 5.5 ms of CPU).
            checked = any(event.client_id for event in events)
            try:
                if checked:
                    conn.execute("BEGIN")
                fresh_ids = self._claim_client_ids(conn, events) if checked else set()
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
                    # DuckDB finds this local by name (a replacement scan): one call
                    # instead of register/INSERT/unregister, ~0.8 of ~4 ms per commit.
                    incoming_events = events_to_arrow(
                        stored, range(first_seq, next_seq), uuid_ids=True
                    )
                    conn.execute("INSERT INTO events BY NAME SELECT * FROM incoming_events")
                    del incoming_events
                if checked:
                    conn.execute("COMMIT")
            except (duckdb.Error, OSError) as exc:
                self._drop(conn, rollback=checked)
                raise StoreUnavailable(f"cannot write to {self.path}: {exc}") from exc
            # Durable from here on: whatever happens next, the batch is stored.
            self._maybe_checkpoint(conn)
            return seqs

    def add_drop_counts(self, rows: Sequence[tuple[str, dt.date, str, int]]) -> None:
        with self._lock:
            conn = self._writer_connection()
            try:
                conn.execute("BEGIN")
                conn.executemany("INSERT INTO dropped_counts VALUES (?, ?, ?, ?)", rows)
                conn.execute("COMMIT")
            except (duckdb.Error, OSError) as exc:
                self._drop(conn, rollback=True)
                raise StoreUnavailable(f"cannot write to {self.path}: {exc}") from exc

    def _maybe_checkpoint(self, conn: duckdb.DuckDBPyConnection) -> None:
        """Fold a big WAL into the file. A failure costs nothing already committed."""
        try:
            wal_bytes = self._wal.stat().st_size
        except OSError:
            return
        if wal_bytes < self.checkpoint_bytes or time.monotonic() < self._checkpoint_after:
            return
        try:
            conn.execute("CHECKPOINT")
        except (duckdb.Error, OSError) as exc:
            # The WAL still holds every commit. DuckDB may have invalidated the
            # database: drop it; the next use reopens it and replays the WAL.
            log.warning("checkpoint of %s failed, retrying later: %s", self.path, exc)
            self._checkpoint_after = time.monotonic() + _CHECKPOINT_RETRY_SECONDS
            self._drop(conn, rollback=False)

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

    def _drop(self, conn: duckdb.DuckDBPyConnection, *, rollback: bool) -> None:
        """Close `conn` (with `self._lock` held) so that the next use reopens the file.

        After a failed commit this is what makes ingest recover by itself once
        the disk has room again: a fresh database instance, WAL replayed.
        """
        if rollback:
            with contextlib.suppress(duckdb.Error):
                conn.execute("ROLLBACK")
        with self._gate.closing():
            try:
                conn.close()  # also closes every reader's cursor of it
            except duckdb.Error:
                log.exception("closing %s failed", self.path)
            if self._conn is conn:
                self._conn = None
            self._generation += 1

    # -- reading -------------------------------------------------------------

    def _cursor(self) -> tuple[duckdb.DuckDBPyConnection, int]:
        """This thread's cursor and the generation of the connection it belongs to."""
        local = self._local
        if getattr(local, "generation", None) != self._generation or local.cursor is None:
            with self._lock:
                conn = self._writer_connection()
                local.cursor = conn.cursor()
                local.generation = self._generation
        cursor: duckdb.DuckDBPyConnection = local.cursor
        generation: int = local.generation
        return cursor, generation

    def _read(self, run: Callable[[duckdb.DuckDBPyConnection], T]) -> T:
        """Run `run` on this thread's cursor while its connection cannot be closed."""
        for _ in range(3):
            cursor, generation = self._cursor()
            with self._gate.reading():
                if generation != self._generation:
                    continue  # closed since we took the cursor: take a fresh one
                try:
                    return run(cursor)
                except duckdb.FatalException as exc:
                    fatal = exc
                except duckdb.IOException as exc:
                    raise StoreUnavailable(f"cannot read {self.path}: {exc}") from exc
            # The database was invalidated: drop it, the next use reopens it.
            with self._lock:
                if self._conn is not None and self._generation == generation:
                    self._drop(self._conn, rollback=False)
            raise StoreUnavailable(f"cannot read {self.path}: {fatal}") from fatal
        raise StoreUnavailable(f"cannot read {self.path}: its connection keeps being reset")

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        if self.read_barrier is not None:
            self.read_barrier()  # before the snapshot is taken: it then holds the events
        values = list(params)
        return self._read(lambda cursor: cursor.execute(sql, values).fetchall())

    def ping(self) -> None:
        try:
            self._read(lambda cursor: cursor.execute("SELECT 1").fetchall())
        except duckdb.Error as exc:
            raise StoreUnavailable(f"DuckDB at {self.path} does not answer: {exc}") from exc
