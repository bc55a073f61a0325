"""The store protocol: what the writer, the query layer and the CLI need from an event store."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from footfall.model import Event

Row = tuple[Any, ...]


class StoreUnavailable(Exception):
    """The store cannot do what was asked right now (disk full, read-only, down).

    Always carries a message a person can act on; ingest turns it into a 503
    with `Retry-After`, reads into a 503 as well.
    """


class Store(Protocol):
    """An event store. Only the writer calls `append`; anyone may call `query`."""

    dialect: str
    # Called at the start of every read (`query`, and what is built on it: max_seq,
    # lookups, exports). The writer installs one while it acknowledges events before
    # the store holds them (its journal): it returns once they are loaded, so a read
    # that starts after an acknowledgement sees the event. None: nothing to wait for.
    read_barrier: Callable[[], None] | None

    def open(self) -> None:
        """Connect, create the schema and run pending migrations."""

    def close(self) -> None:
        """Flush and release everything; safe to call twice."""

    def max_seq(self) -> int:
        """The highest `seq` stored so far, 0 for an empty store."""

    def append(self, events: Sequence[Event], first_seq: int) -> list[int | None]:
        """Store `events` atomically and durably, all or none.

        Events whose client-supplied id was stored before are skipped. The
        others get consecutive `seq` values from `first_seq`, in order. Returns
        each event's `seq`, or None for a skipped duplicate. Raises
        StoreUnavailable when nothing could be stored.
        """

    def add_drop_counts(self, rows: Sequence[tuple[str, dt.date, str, int]]) -> None:
        """Append (app, day, reason, n) rows to `dropped_counts`, all or none.

        Raises StoreUnavailable when nothing could be stored."""

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        """Run one compiled, parameterised read query and return its rows."""

    def ping(self) -> None:
        """Raise StoreUnavailable unless the store answers a trivial query."""
