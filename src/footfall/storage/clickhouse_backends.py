"""The two ways to reach the ClickHouse engine: chDB in this process, or a server over HTTP.

Both run the very same SQL; they differ only in how a statement travels and
how rows come back. Rows come back as plain Python values the way DuckDB
gives them (naive UTC datetimes, UUIDs, None for NULL), so nothing above this
module can tell the engines apart.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import importlib
import queue
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Protocol

import pyarrow as pa

from footfall.storage.base import Row, StoreUnavailable
from footfall.storage.clickhouse_params import escape, placeholders

# Every read and write runs with these, on both engines (see query/compiler/clickhouse.py).
QUERY_SETTINGS: dict[str, Any] = {
    "join_use_nulls": 1,
    "aggregate_functions_null_for_empty": 1,
    # A cluster's IN/JOIN subqueries over Distributed tables run once, on the initiator.
    "distributed_product_mode": "global",
}


class Backend(Protocol):
    """One ClickHouse engine, reached one way."""

    def command(self, sql: str) -> None:
        """Run a statement without parameters or result (DDL)."""

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        """Run a `?`-parameterised read and return its rows as Python values."""

    def insert(self, table: str, data: pa.Table) -> None:
        """Insert `data` into `table` in one INSERT; return once the engine accepted it."""

    def batches(self, sql: str, params: Sequence[Any], rows: int) -> Iterator[pa.RecordBatch]:
        """Stream a read as Arrow batches of about `rows` rows (for copying a store)."""

    def close(self) -> None: ...


def _plain(value: Any) -> Any:
    """DuckDB's Python shape for a value: naive UTC timestamps, everything else as is."""
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        return value.astimezone(dt.UTC).replace(tzinfo=None)
    return value


def _plain_rows(table: pa.Table) -> list[Row]:
    columns = [table.column(i).to_pylist() for i in range(table.num_columns)]
    return [tuple(_plain(v) for v in row) for row in zip(*columns, strict=True)]


def _arrow_stream(data: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, data.schema) as writer:
        writer.write_table(data)
    return bytes(sink.getvalue().to_pybytes())


# -- chDB -------------------------------------------------------------------------


class _Engine:
    """chDB hosts one engine per process, bound to one data path; count who uses it."""

    lock = threading.Lock()
    path: str | None = None
    users = 0


class ChdbBackend:
    """chDB in this process: a small pool of connections to the process's one engine.

    chDB runs queries of different connections in parallel, but one connection
    at a time per query: a reading thread borrows a connection, never shares it.
    """

    def __init__(self, path: Path, database: str) -> None:
        self.path = str(path.resolve())
        self.database = database
        self._idle: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._closed = False
        with _Engine.lock:
            if _Engine.users and _Engine.path != self.path:
                raise StoreUnavailable(
                    f"chDB runs one data path per process and {_Engine.path} is open here; "
                    f"close it before opening {self.path}"
                )
            path.mkdir(parents=True, exist_ok=True)
            _Engine.path, _Engine.users = self.path, _Engine.users + 1
        try:
            with self._connection(use_database=False) as conn:
                conn.query(f"CREATE DATABASE IF NOT EXISTS {database}")
        except Exception:
            self.close()
            raise

    def _connect(self, use_database: bool) -> Any:
        chdb = _optional("chdb")

        try:
            conn = chdb.connect(self.path)
            for name, value in QUERY_SETTINGS.items():
                conn.query(f"SET {name} = '{value}'")
            if use_database:
                conn.query(f"USE {self.database}")
        except Exception as exc:
            raise StoreUnavailable(f"cannot open chDB at {self.path}: {exc}") from exc
        return conn

    @contextlib.contextmanager
    def _connection(self, use_database: bool = True) -> Iterator[Any]:
        if self._closed:
            raise StoreUnavailable(f"the chDB store at {self.path} is closed")
        if not use_database:
            conn = self._connect(use_database=False)
            try:
                yield conn
            finally:
                self._forget(conn)
            return
        try:
            conn = self._idle.get_nowait()
        except queue.Empty:
            conn = self._connect(use_database=True)
        try:
            yield conn
        finally:
            with self._lock:
                closed = self._closed
                if not closed:
                    self._idle.put(conn)
            if closed:
                self._forget(conn)  # closed while in use: let go of it now

    @staticmethod
    def _forget(conn: Any) -> None:
        with contextlib.suppress(Exception):
            conn.close()

    def command(self, sql: str) -> None:
        with self._connection() as conn:
            conn.query(sql)

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        text, values = placeholders(sql, params)
        escaped = {k: "\\N" if v is None else escape(v) for k, v in values.items()}
        with self._connection() as conn:
            table = conn.query(text, "arrowtable", params=escaped)
        return _plain_rows(table)

    def insert(self, table: str, data: pa.Table) -> None:
        columns = ", ".join(data.schema.names)
        payload = _arrow_stream(data)
        with (
            self._connection() as conn,
            conn.send_insert(f"INSERT INTO {table} ({columns})", "ArrowStream") as inserter,
        ):
            inserter.append(payload)
            inserter.finish()

    def batches(self, sql: str, params: Sequence[Any], rows: int) -> Iterator[pa.RecordBatch]:
        text, values = placeholders(sql, params)
        escaped = {k: "\\N" if v is None else escape(v) for k, v in values.items()}
        # A connection of its own: a streaming result blocks its connection until done.
        conn = self._connect(use_database=True)
        try:
            with conn.send_query(text, "Arrow", params=escaped) as stream:
                yield from stream.record_batch(rows_per_batch=rows)
        finally:
            self._forget(conn)

    def close(self) -> None:
        """Close the idle connections now and each busy one as its query returns."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        while True:
            try:
                conn = self._idle.get_nowait()
            except queue.Empty:
                break
            self._forget(conn)
        with _Engine.lock:
            _Engine.users -= 1
            if not _Engine.users:
                _Engine.path = None


# -- a ClickHouse server --------------------------------------------------------------


class HttpBackend:
    """A ClickHouse server through clickhouse-connect (HTTP, thread-safe without sessions)."""

    def __init__(
        self,
        *,
        host: str,
        port: int,
        username: str,
        password: str,
        database: str,
        secure: bool,
        cluster: str | None,
    ) -> None:
        clickhouse_connect = _optional("clickhouse_connect")

        self.where = f"{host}:{port}"
        try:
            client = clickhouse_connect.get_client(
                host=host,
                port=port,
                username=username,
                password=password,
                secure=secure,
                autogenerate_session_id=False,
                settings=QUERY_SETTINGS,
            )
            on_cluster = f" ON CLUSTER {cluster}" if cluster else ""
            client.command(f"CREATE DATABASE IF NOT EXISTS {database}{on_cluster}")
        except Exception as exc:
            raise StoreUnavailable(f"cannot reach ClickHouse at {self.where}: {exc}") from exc
        client.database = database
        self._client = client

    def command(self, sql: str) -> None:
        self._client.command(sql)

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        text, values = placeholders(sql, params)
        result = self._client.query(text, parameters=values)
        return [tuple(_plain(v) for v in row) for row in result.result_rows]

    def insert(self, table: str, data: pa.Table) -> None:
        # Synchronous (no async_insert): it returns once the part is written; through a
        # Distributed table, once every shard has its rows (not queued on this node).
        self._client.insert_arrow(
            table, data, settings={"async_insert": 0, "distributed_foreground_insert": 1}
        )

    def batches(self, sql: str, params: Sequence[Any], rows: int) -> Iterator[pa.RecordBatch]:
        text, values = placeholders(sql, params)
        with self._client.query_arrow_stream(text, parameters=values) as stream:
            for block in stream:  # RecordBatches (or Tables, by version), one per block
                if isinstance(block, pa.Table):
                    yield from block.to_batches(max_chunksize=rows)
                else:
                    yield block

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._client.close()


def _optional(module: str) -> Any:
    """Import a ClickHouse client library, which only the `clickhouse` extra installs."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise StoreUnavailable(
            f"this store needs the Python package {module!r}: pip install 'footfall[clickhouse]'"
        ) from None
