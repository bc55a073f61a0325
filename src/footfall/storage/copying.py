"""Reading a store's tables as Arrow batches and writing them into another store.

`footfall migrate` is an offline copy: the server of neither store runs (a
DuckDB file has one owner process anyway), so this module opens each store
through the factory — which creates or migrates its schema — and then moves
whole Arrow batches with each engine's fastest path: DuckDB's Arrow scan and
one transaction per batch, ClickHouse's Arrow insert. Rows keep their `seq`,
`id` and everything else, so contract 003's ids and client-id retries carry
over unchanged.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import pyarrow as pa

from footfall.storage.arrow_batch import ARROW_SCHEMA
from footfall.storage.base import Store
from footfall.storage.clickhouse_store import ClickHouseStore
from footfall.storage.duckdb_store import DuckDBStore

# What is copied: each table with its columns as Arrow types both engines read back.
TABLES: dict[str, pa.Schema] = {
    "events": ARROW_SCHEMA,
    "client_event_ids": pa.schema([("id", pa.string())]),
    "dropped_counts": pa.schema(
        [("app", pa.string()), ("day", pa.date32()), ("reason", pa.string()), ("n", pa.int64())]
    ),
}
# Text forms of the types Arrow carries differently on each engine (UUID, JSON).
_AS_TEXT = {"id", "props"}


def _select(table: str, dialect: str) -> str:
    columns = [
        f"CAST({name} AS VARCHAR) AS {name}" if name in _AS_TEXT else name
        for name in TABLES[table].names
    ]
    # Read in the ClickHouse sort key's order (streamed, no sort on ClickHouse) so that
    # each written batch spans few partitions and comes out sorted on DuckDB too.
    order = {
        "events": "app, toDate(ts), name, ts, seq" if dialect == "clickhouse" else "app, ts, seq",
        "client_event_ids": "id",
        "dropped_counts": "app, day, reason",
    }[table]
    return f"SELECT {', '.join(columns)} FROM {table} ORDER BY {order}"  # noqa: S608 - fixed names


def _conform(batch: pa.RecordBatch | pa.Table, schema: pa.Schema) -> pa.Table:
    """`batch` with exactly `schema`'s column types (timestamps naive UTC, ids as text)."""
    table = pa.Table.from_batches([batch]) if isinstance(batch, pa.RecordBatch) else batch
    columns = []
    for field in schema:
        column = table.column(field.name)
        if pa.types.is_timestamp(column.type) and column.type.tz is not None:
            column = column.cast(pa.timestamp("us", tz="UTC"))  # the same instants, naive UTC
        columns.append(column.cast(field.type))
    return pa.Table.from_arrays(columns, schema=schema)


def count(store: Store, table: str) -> int:
    rows = store.query(f"SELECT count(*) FROM {table}")  # noqa: S608 - a fixed name
    return int(rows[0][0]) if rows else 0


def read(store: Store, table: str, rows: int) -> Iterator[pa.Table]:
    """`table` of `store` in batches of about `rows` rows."""
    schema = TABLES[table]
    sql = _select(table, store.dialect)
    if isinstance(store, ClickHouseStore):
        for batch in store.batches(sql, (), rows):
            if batch.num_rows:
                yield _conform(batch, schema)
        return
    if isinstance(store, DuckDBStore):
        import duckdb

        # DuckDB refuses a second connection to an open file with other settings: the
        # store lets go of it while this one reads (its next query reopens it).
        store.close()
        with duckdb.connect(str(store.path), read_only=True) as conn:
            reader = conn.sql(sql).to_arrow_reader(rows)
            for batch in reader:
                if batch.num_rows:
                    yield _conform(batch, schema)
        return
    raise TypeError(f"cannot copy from a {type(store).__name__}")


class Writer(contextlib.AbstractContextManager["Writer"]):
    """Appends Arrow batches to one store's tables, each batch stored whole or not at all."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._duck: Any = None
        if isinstance(store, DuckDBStore):
            import duckdb

            store.close()  # the copy writes through a connection of its own
            self._duck = duckdb.connect(str(store.path))
        elif not isinstance(store, ClickHouseStore):
            raise TypeError(f"cannot copy into a {type(store).__name__}")

    def write(self, table: str, batch: pa.Table) -> None:
        if isinstance(self.store, ClickHouseStore):
            self.store.backend.insert(table, batch)
            return
        conn = self._duck
        conn.execute("BEGIN")
        try:
            conn.register("incoming_batch", batch)
            conn.execute(f"INSERT INTO {table} BY NAME SELECT * FROM incoming_batch")  # noqa: S608
            conn.unregister("incoming_batch")
            conn.execute("COMMIT")
        except Exception:
            conn.execute("ROLLBACK")
            raise

    def __exit__(self, *exc: object) -> None:
        if self._duck is not None:
            self._duck.execute("CHECKPOINT")
            self._duck.close()
            self._duck = None
            self.store.open()  # back as it was given: open


def day_counts(store: Store) -> list[tuple[str, str, int]]:
    """Events per (app, UTC day): what a copy is verified by."""
    rows = store.query(
        "SELECT app, CAST(CAST(ts AS DATE) AS VARCHAR) AS day, count(*) FROM events "
        "GROUP BY app, day ORDER BY app, day"
    )
    return [(str(app), str(day), int(n)) for app, day, n in rows]
