"""Visits for traffic that carries no session id: 30 minutes of inactivity end one.

Kept in memory like Plausible's session cache: a restart starts new visits for
visitors seen just before it, which is the same as a short pause.
"""

from __future__ import annotations

from footfall.model import new_event_id

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

    def _sweep(self) -> None:
        """Forget visits that have ended, so memory follows the live audience only."""
        cutoff = self._newest_ts - self.timeout_us
        self._open = {key: value for key, value in self._open.items() if value[0] >= cutoff}
        self._since_sweep = 0

    def __len__(self) -> int:
        return len(self._open)
