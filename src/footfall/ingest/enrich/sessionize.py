"""Visits: the session of traffic that carries no session id (30 minutes of inactivity
end one), and the attributes every event of a visit carries (`VisitStamper`).

Kept in memory like Plausible's session cache: a restart starts new visits for
visitors seen just before it, which is the same as a short pause.
"""

from __future__ import annotations

from typing import Any

from footfall.model import Event, new_event_id

VISIT_TIMEOUT_US = 30 * 60 * 1_000_000


class Sessionizer:
    def __init__(self, timeout_us: int = VISIT_TIMEOUT_US, sweep_every: int = 50_000) -> None:
        self.timeout_us = timeout_us
        self._open: dict[tuple[str, int], tuple[int, str]] = {}
        self._sweep_every = sweep_every
        self._since_sweep = 0
        self._newest_ts = 0

    def session_for(self, app: str, visitor_id: int, ts: int) -> str:
        """The visit this event belongs to: the visitor's open one, or a new one."""
        key = (app, visitor_id)
        current = self._open.get(key)
        if current is not None and 0 <= ts - current[0] <= self.timeout_us:
            session_id = current[1]
        elif current is not None and 0 <= current[0] - ts <= self.timeout_us:
            return current[1]  # a slightly late event of the open visit; keep its last_ts
        else:
            session_id = str(new_event_id())
        self._open[key] = (ts, session_id)
        self._newest_ts = max(self._newest_ts, ts)
        self._since_sweep += 1
        if self._since_sweep >= self._sweep_every:
            self._sweep()
        return session_id

    def open_session(self, app: str, visitor_id: int, ts: int) -> str | None:
        """The visitor's visit that `ts` falls in, if one is open; changes nothing."""
        current = self._open.get((app, visitor_id))
        if current is not None and abs(ts - current[0]) <= self.timeout_us:
            return current[1]
        return None

    def _sweep(self) -> None:
        """Forget visits that have ended, so memory follows the live audience only."""
        cutoff = self._newest_ts - self.timeout_us
        self._open = {key: value for key, value in self._open.items() if value[0] >= cutoff}
        self._since_sweep = 0

    def __len__(self) -> int:
        return len(self._open)


# What a visit's first received event fixes for all its events (footfall.model:
# VISIT_ORIGIN_COLUMNS, then VISIT_CLIENT_COLUMNS), in the order `_attributes` reads them.
Attributes = tuple[
    str | None, str | None, str | None, str | None, str | None, str | None, str | None,
    str | None, str | None, str | None, str | None, str | None, str | None,
]  # fmt: skip


def _attributes(event: Event) -> Attributes:
    """The visit attributes `event` would give a visit it opens: its origin and client."""
    return (
        event.referrer_domain,
        event.source,
        event.utm_source,
        event.utm_medium,
        event.utm_campaign,
        event.utm_term,
        event.utm_content,
        event.browser,
        event.browser_version,
        event.os,
        event.os_version,
        event.device,
        event.country,
    )


class VisitStamper:
    """Stamps every event with its visit's attributes: those of the visit's first event
    this process received, as Plausible's session cache fixes a session's attributes
    from the event that opens it.

    Where the visit came from (referrer domain, source, UTM) overwrites the event's own
    origin columns: only a visit's first event says so (later pageviews have the site
    itself as referrer), and no statistic reads an event's own origin (the raw
    `referrer` keeps it). The visit's client goes to the `visit_*` columns, next to the
    event's own `browser`, `os`, ... that `event:` dimensions read. An event without a
    session id is a visit of its own. A visit idle for more than `timeout_us` (or one
    this process never saw: a restart, another node) starts over from the next event;
    an event that arrives late with an earlier timestamp takes the attributes of the
    events already stamped, never the other way round.
    """

    def __init__(self, timeout_us: int = VISIT_TIMEOUT_US, sweep_every: int = 50_000) -> None:
        self.timeout_us = timeout_us
        # (app, session id) -> [newest ts seen, the visit's attributes]; a list, so that
        # a known visit's newest ts is updated in place.
        self._visits: dict[tuple[str, str], list[Any]] = {}
        self._sweep_every = sweep_every
        self._since_sweep = 0
        self._newest_ts = 0

    def stamp(self, event: Event) -> None:
        # Runs for every event on the single-event hot path: one dict lookup, and the
        # fields read and written by name, never through getattr/setattr over a list.
        session_id = event.session_id
        ts = event.ts
        if session_id is not None:
            key = (event.app, session_id)
            visit = self._visits.get(key)
            if visit is not None and -self.timeout_us <= ts - visit[0] <= self.timeout_us:
                (
                    event.referrer_domain,
                    event.source,
                    event.utm_source,
                    event.utm_medium,
                    event.utm_campaign,
                    event.utm_term,
                    event.utm_content,
                    event.visit_browser,
                    event.visit_browser_version,
                    event.visit_os,
                    event.visit_os_version,
                    event.visit_device,
                    event.visit_country,
                ) = visit[1]
                if ts > visit[0]:
                    visit[0] = ts
                return
            self._visits[key] = [ts, _attributes(event)]
            if ts > self._newest_ts:
                self._newest_ts = ts
            self._since_sweep += 1
            if self._since_sweep >= self._sweep_every:
                self._sweep()
        # The first event of its visit (or one without a visit): its own client is the visit's.
        event.visit_browser = event.browser
        event.visit_browser_version = event.browser_version
        event.visit_os = event.os
        event.visit_os_version = event.os_version
        event.visit_device = event.device
        event.visit_country = event.country

    def _sweep(self) -> None:
        """Forget visits that have ended, so memory follows the live audience only."""
        cutoff = self._newest_ts - self.timeout_us
        self._visits = {k: v for k, v in self._visits.items() if v[0] >= cutoff}
        self._since_sweep = 0

    def __len__(self) -> int:
        return len(self._visits)
