"""The one read of contract 004 that the typed Query cannot express: lifecycle events in order.

A `Query` answers aggregates (counts, sums, distincts per group). A session's
state and active time depend on the *sequence* of its lifecycle events — each
pause closes the interval its start or resume opened — so they are computed
by replaying the raw events through `footfall.sessions`, and those raw rows,
ordered within each session, are what this module reads. Values are bound
parameters; the SQL text is built only from the fixed fragments below.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from footfall.sessions import EVENT_NAMES, Action, LifecycleEvent
from footfall.storage.base import Store

_LIFECYCLE_NAMES = tuple(EVENT_NAMES)
_START = Action.START.event_name
_END = Action.END.event_name


def lifecycle_events(
    store: Store,
    app: str,
    *,
    user: str | None = None,
    session_id: str | None = None,
    started_since: dt.datetime | None = None,
    open_only: bool = False,
) -> list[LifecycleEvent]:
    """Lifecycle events of the app's sessions that match, each session's in (ts, seq) order.

    A session matches when its start event is by `user` (any user when None),
    has id `session_id` (any when None), happened at or after `started_since`
    (naive or aware UTC), and — with `open_only` — it has no end event yet.
    """
    selected: list[str] = [
        "SELECT session_id FROM events WHERE app = ? AND name = ? AND session_id IS NOT NULL"
    ]
    params: list[Any] = [app, _START]
    if user is not None:
        selected.append("AND user_id = ?")
        params.append(user)
    if session_id is not None:
        selected.append("AND session_id = ?")
        params.append(session_id)
    if started_since is not None:
        if started_since.tzinfo is not None:
            started_since = started_since.astimezone(dt.UTC).replace(tzinfo=None)
        selected.append("AND ts >= ?")
        params.append(started_since)
    if open_only:
        selected.append(
            "AND session_id NOT IN (SELECT session_id FROM events "
            "WHERE app = ? AND name = ? AND session_id IS NOT NULL)"
        )
        params.extend([app, _END])
    placeholders = ", ".join("?" for _ in _LIFECYCLE_NAMES)
    sql = " ".join(
        [
            "SELECT session_id, user_id, name, ts FROM events",
            f"WHERE app = ? AND name IN ({placeholders}) AND session_id IN (",
            *selected,
            ") ORDER BY session_id, ts, seq",
        ]
    )
    rows = store.query(sql, [app, *_LIFECYCLE_NAMES, *params])
    return [
        LifecycleEvent(
            session_id=str(row[0]),
            user=str(row[1] or ""),
            action=EVENT_NAMES[row[2]],
            at=_as_us(row[3]),
        )
        for row in rows
    ]


_EPOCH = dt.datetime(1970, 1, 1)


def _as_us(value: dt.datetime) -> int:
    """A stored `ts` (naive UTC) as microseconds since the Unix epoch."""
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC).replace(tzinfo=None)
    delta = value - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
