"""The few reads the Query model cannot express: fetching raw events, not aggregates.

Each is one small, named, parameterised query in SQL that DuckDB and
ClickHouse both accept. Aggregates never belong here: they go through Query.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from footfall.storage.base import Store

RAW_COLUMNS = (
    "seq, id, ts, name, user_id, session_id, path, url, referrer, ip, user_agent, "
    "duration, description, props"
)


@dataclass(frozen=True, slots=True)
class RawEvent:
    seq: int
    id: uuid.UUID
    ts: dt.datetime
    name: str
    user_id: str | None
    session_id: str | None
    path: str | None
    url: str | None
    referrer: str | None
    ip: str | None
    user_agent: str | None
    duration: float | None
    description: str | None
    props: str


def _raw(row: tuple[Any, ...]) -> RawEvent:
    seq, id_, ts, name, user_id, session_id, path, url, referrer, ip, user_agent = row[:11]
    duration, description, props = row[11:14]
    return RawEvent(
        seq=seq,
        id=id_,
        ts=ts,
        name=name,
        user_id=user_id,
        session_id=session_id,
        path=path,
        url=url,
        referrer=referrer,
        ip=ip,
        user_agent=user_agent,
        duration=duration,
        description=description,
        props=str(props),
    )


def list_events(
    store: Store,
    app: str,
    *,
    skip: int,
    limit: int,
    user_id: str | None = None,
    name: str | None = None,
) -> list[RawEvent]:
    """Events of `app` in ascending `seq` (contract 003's `GET /events/`): a listing, not a
    statistic, which is why it is not a Query."""
    where = ["app = ?"]
    params: list[Any] = [app]
    if user_id is not None:
        where.append("user_id = ?")
        params.append(user_id)
    if name is not None:
        where.append("name = ?")
        params.append(name)
    sql = (
        f"SELECT {RAW_COLUMNS} FROM events WHERE {' AND '.join(where)} "  # noqa: S608 - fixed text, values bound
        "ORDER BY seq LIMIT ? OFFSET ?"
    )
    return [_raw(row) for row in store.query(sql, [*params, limit, skip])]


def event_by_id(store: Store, app: str, event_id: uuid.UUID) -> RawEvent | None:
    """One event by its UUID (contract 002's `GET /api/events/{id}`)."""
    rows = store.query(
        f"SELECT {RAW_COLUMNS} FROM events WHERE app = ? AND id = ? LIMIT 1",  # noqa: S608
        [app, str(event_id)],
    )
    return _raw(rows[0]) if rows else None


def app_names(store: Store, limit: int = 500) -> list[str]:
    """The apps that have events, by name (the dashboard's app picker)."""
    rows = store.query("SELECT DISTINCT app FROM events ORDER BY app LIMIT ?", [limit])
    return [str(row[0]) for row in rows]
