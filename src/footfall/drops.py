"""Events dropped on purpose — bots, unlisted apps, referrer spam — counted by app, day, reason.

Plausible and Umami answer such requests as if they were stored (so a bot
learns nothing) and keep them out of every statistic. footfall does the same,
and keeps the count: it is the "bots filtered" figure a site owner asks for,
and the first thing to check when numbers look low.

Counting happens on the request path (one dict increment). A background thread
appends the counts to the store's `dropped_counts` table every few seconds and
at shutdown; rows are summed when read, so appends never conflict and the
table works the same on DuckDB and ClickHouse (a SummingMergeTree there). A
dropped event was never acknowledged as stored, so a crash can lose at most
the last few seconds of these counts, never an event.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections import Counter
from typing import Any

from footfall.storage.base import Store, StoreUnavailable

log = logging.getLogger(__name__)

# (app, UTC day, reason)
DropKey = tuple[str, dt.date, str]

# Why an event was dropped; the values are part of the API (/api/v1/dropped).
REASONS: dict[str, str] = {
    "bot": "crawlers, headless browsers and HTTP libraries (by user agent)",
    "unknown_app": "an app that FOOTFALL_APPS does not list",
    "invalid_app": "a domain or website id that is not a valid app name",
    "spam_referrer": "a referrer on Matomo's referrer-spam list",
    "no_visit": "an engagement event with no visit open for its visitor",
}


_COUNTS_SQL = (
    "SELECT app, day, reason, sum(n) FROM dropped_counts "
    "WHERE {app}day >= ? AND day < ? GROUP BY app, day, reason"
)


_EPOCH = dt.date(1970, 1, 1)


def _today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


class DropLedger:
    def __init__(self, store: Store, *, flush_seconds: float = 5.0) -> None:
        self.store = store
        self.flush_seconds = flush_seconds
        self._pending: Counter[DropKey] = Counter()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- counting ------------------------------------------------------------

    def add(self, app: str, reason: str, n: int = 1) -> None:
        if reason not in REASONS:
            raise ValueError(f"unknown drop reason {reason!r}")
        with self._lock:
            self._pending[(app, _today(), reason)] += n

    def flush(self) -> None:
        """Append the pending counts to the store; kept for the next try if it cannot."""
        with self._lock:
            batch, self._pending = self._pending, Counter()
        if not batch:
            return
        rows = [(app, day, reason, n) for (app, day, reason), n in batch.items()]
        try:
            self.store.add_drop_counts(rows)
        except StoreUnavailable as exc:
            log.warning("could not store %d drop counts, will retry: %s", len(rows), exc)
            with self._lock:
                self._pending.update(batch)

    # -- lifecycle -----------------------------------------------------------

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="footfall-drops", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.flush_seconds):
            self.flush()

    def stop(self) -> None:
        """Stop the thread and store what is pending (call before the store closes)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        self.flush()

    # -- reading -------------------------------------------------------------

    def counts(
        self, app: str | None = None, start: dt.date | None = None, end: dt.date | None = None
    ) -> list[tuple[str, dt.date, str, int]]:
        """(app, day, reason, events) for days in [start, end), stored and pending, sorted."""
        # One small store query the Query model cannot express: this table is not events.
        # Counts are only ever made for today, so these bounds cover everything (and
        # stay inside every engine's date type, unlike date.min/max).
        params: list[Any] = [start or _EPOCH, end or _today() + dt.timedelta(days=1)]
        sql = _COUNTS_SQL.format(app="" if app is None else "app = ? AND ")
        rows = self.store.query(sql, params if app is None else [app, *params])
        totals: Counter[DropKey] = Counter({(r[0], _as_date(r[1]), r[2]): int(r[3]) for r in rows})
        with self._lock:
            pending = list(self._pending.items())
        for (p_app, day, reason), n in pending:
            if (app is None or p_app == app) and _in(day, start, end):
                totals[(p_app, day, reason)] += n
        return sorted((a, d, r, n) for (a, d, r), n in totals.items())

    def snapshot(self) -> dict[str, Any]:
        """Totals by app and reason over everything kept, and the first day they cover."""
        rows = self.counts()
        by_app_reason: Counter[tuple[str, str]] = Counter()
        for app, _day, reason, n in rows:
            by_app_reason[(app, reason)] += n
        since = min((day for _a, day, _r, _n in rows), default=_today())
        return {
            "since": f"{since.isoformat()}T00:00:00Z",
            "dropped": [
                {"app": app, "reason": reason, "events": n}
                for (app, reason), n in sorted(by_app_reason.items())
            ],
        }


def _as_date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))


def _in(day: dt.date, start: dt.date | None, end: dt.date | None) -> bool:
    return (start is None or day >= start) and (end is None or day < end)
