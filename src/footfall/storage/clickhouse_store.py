"""The ClickHouse event store, on a ClickHouse server or in-process on chDB.

Writes. The writer hands over one batch at a time; it becomes one INSERT (an
Arrow table), acknowledged once ClickHouse has accepted it: written as a part
(fsync'd on chDB; on a cluster, as durable as the server's insert settings,
e.g. `insert_quorum`, make it). Never one insert per event.

Client ids. ClickHouse has no unique constraint. Before inserting, the batch's
client-supplied ids are looked up in `client_event_ids` (sorted by id, so a
point lookup); the events found are skipped, the rest inserted, and then their
ids recorded. The guarantee, stated honestly: a retry of an acknowledged
request stores nothing twice. A crash in the milliseconds between the event
insert and the id insert (before the acknowledgement) can let that request's
retry store its events twice; no order of the two inserts can lose an event
instead. Two nodes that receive the same client id at the same instant may
both store it; the id table is a ReplacingMergeTree, so the ids themselves
converge.

`seq`. One node: 1, 2, 3… in commit order, as on DuckDB. Several nodes (`node=N`
in the URL, 0 ≤ N < 1024): seq = counter × 1024 + N, where each node's counter
starts after the highest counter in the store, so seqs are unique without
coordination and increase within each node (docs/scaling.md).
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import pyarrow as pa

from footfall.model import Event
from footfall.storage.arrow_batch import events_to_arrow
from footfall.storage.base import Row, StoreUnavailable
from footfall.storage.clickhouse_backends import Backend
from footfall.storage.clickhouse_schema import CLICKHOUSE_MIGRATIONS, LATEST_VERSION, Layout

log = logging.getLogger(__name__)

NODE_BITS = 10
MAX_NODES = 1 << NODE_BITS


class ClickHouseStore:
    dialect = "clickhouse"

    def __init__(
        self, backend: Backend, layout: Layout, *, node: int | None = None, label: str = ""
    ) -> None:
        if node is not None and not 0 <= node < MAX_NODES:
            raise ValueError(f"node must be 0 to {MAX_NODES - 1}, got {node}")
        self.backend = backend
        self.layout = layout
        self.node = node
        self.label = label or layout.database
        self._lock = threading.Lock()  # one append at a time (the writer's thread anyway)
        self._opened = False
        self.read_barrier: Callable[[], None] | None = None  # see Store.read_barrier

    # -- lifecycle -----------------------------------------------------------

    def open(self) -> None:
        try:
            self._migrate()
        except StoreUnavailable:
            raise
        except Exception as exc:
            raise StoreUnavailable(f"cannot migrate ClickHouse {self.label}: {exc}") from exc
        self._opened = True

    def close(self) -> None:
        self.backend.close()

    def schema_version(self) -> int:
        for statement in self.layout.schema_table():
            self.backend.command(statement)
        rows = self.backend.rows("SELECT max(version) FROM footfall_schema")
        return int(rows[0][0] or 0) if rows else 0

    def _migrate(self) -> None:
        current = self.schema_version()
        if current > LATEST_VERSION:
            raise StoreUnavailable(
                f"ClickHouse {self.label} has schema version {current}, newer than this "
                f"footfall ({LATEST_VERSION}); upgrade footfall"
            )
        for migration in CLICKHOUSE_MIGRATIONS:
            if migration.version <= current:
                continue
            log.info(
                "migrating ClickHouse %s to schema %d: %s",
                self.label,
                migration.version,
                migration.description,
            )
            for statement in self.layout.statements(migration):
                self.backend.command(statement)
            self.backend.insert(
                "footfall_schema",
                pa.table(
                    {
                        "version": pa.array([migration.version], pa.uint32()),
                        "description": [migration.description],
                        "applied_at": pa.array([dt.datetime.now(dt.UTC)], pa.timestamp("us")),
                    }
                ),
            )

    # -- writing -------------------------------------------------------------

    def max_seq(self) -> int:
        rows = self.query("SELECT max(seq) FROM events")
        top = int(rows[0][0] or 0) if rows else 0
        # The writer counts in counters; a node's seqs carry its number in the low bits.
        return top >> NODE_BITS if self.node is not None else top

    def _stored_seq(self, counter: int) -> int:
        return counter if self.node is None else (counter << NODE_BITS) | self.node

    def append(self, events: Sequence[Event], first_seq: int) -> list[int | None]:
        with self._lock:
            try:
                return self._append(events, first_seq)
            except StoreUnavailable:
                raise
            except Exception as exc:
                raise StoreUnavailable(f"cannot write to ClickHouse {self.label}: {exc}") from exc

    def _append(self, events: Sequence[Event], first_seq: int) -> list[int | None]:
        claimed = {str(e.id) for e in events if e.client_id}
        seen: set[str] = set()
        if claimed:
            # One String parameter, split server-side: the same text on chDB and over HTTP,
            # however many ids (an Array parameter is escaped differently by each client).
            rows = self.backend.rows(
                "SELECT DISTINCT toString(id) FROM client_event_ids "
                "WHERE id IN (SELECT toUUID(arrayJoin(splitByChar(',', ?))))",
                [",".join(sorted(claimed))],
            )
            seen = {row[0] for row in rows}
        seqs: list[int | None] = []
        stored: list[Event] = []
        fresh: list[str] = []
        counter = first_seq
        for event in events:
            if event.client_id:
                key = str(event.id)
                if key in seen:
                    seqs.append(None)  # stored before, or earlier in this batch
                    continue
                seen.add(key)
                fresh.append(key)
            seqs.append(self._stored_seq(counter))
            stored.append(event)
            counter += 1
        if stored:
            stored_seqs = [s for s in seqs if s is not None]
            self.backend.insert("events", events_to_arrow(stored, stored_seqs))
        if fresh:
            self._record_client_ids(pa.table({"id": fresh}))
        return seqs

    def _record_client_ids(self, ids: pa.Table, attempts: int = 3) -> None:
        """The events are stored already: try hard to record their ids too, since a
        failure here (reported as one, so the request is retried) lets the retry
        store them a second time."""
        for attempt in range(attempts):
            try:
                self.backend.insert("client_event_ids", ids)
                return
            except Exception:
                if attempt == attempts - 1:
                    raise
                log.warning("recording %d client ids failed, trying again", ids.num_rows)
                time.sleep(0.05 * (attempt + 1))

    def add_drop_counts(self, rows: Sequence[tuple[str, dt.date, str, int]]) -> None:
        if not rows:
            return
        app, day, reason, n = zip(*rows, strict=True)
        table = pa.table(
            {
                "app": pa.array(app, pa.string()),
                "day": pa.array(day, pa.date32()),
                "reason": pa.array(reason, pa.string()),
                "n": pa.array(n, pa.int64()),
            }
        )
        try:
            self.backend.insert("dropped_counts", table)
        except Exception as exc:
            raise StoreUnavailable(f"cannot write to ClickHouse {self.label}: {exc}") from exc

    # -- reading -------------------------------------------------------------

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        if self.read_barrier is not None:
            self.read_barrier()
        return self.backend.rows(sql, params)

    def batches(
        self, sql: str, params: Sequence[Any] = (), rows: int = 50_000
    ) -> Iterator[pa.RecordBatch]:
        if self.read_barrier is not None:
            self.read_barrier()
        return self.backend.batches(sql, params, rows)

    def ping(self) -> None:
        try:
            self.backend.rows("SELECT 1")
        except StoreUnavailable:
            raise
        except Exception as exc:
            raise StoreUnavailable(f"ClickHouse {self.label} does not answer: {exc}") from exc
