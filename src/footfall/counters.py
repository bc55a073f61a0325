"""Running pageview totals per app, in commit order: the N of contract 000/001's `/visit`.

The writer calls `observe` after each commit, before it wakes the batch's
requests, so a request finds its own number ready: distinct under any
concurrency, and equal to the app's total pageviews including this one,
whichever API wrote the others.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence

from footfall.model import PAGEVIEW, Event
from footfall.storage.base import Store


class PageviewCounter:
    def __init__(self, store: Store, remember: int = 100_000) -> None:
        self.store = store
        self._totals: dict[str, int] = {}
        # seq → the app's pageview total at that event; only the newest are kept
        # (a request reads its own entry microseconds after the commit).
        self._at_seq: OrderedDict[int, int] = OrderedDict()
        self._remember = remember

    def observe(self, events: Sequence[Event], seqs: Sequence[int | None]) -> None:
        new_apps: dict[str, int] = {}
        for event, seq in zip(events, seqs, strict=True):
            if seq is not None and event.name == PAGEVIEW and event.app not in self._totals:
                new_apps[event.app] = new_apps.get(event.app, 0) + 1
        for app, in_batch in new_apps.items():
            # The count already includes this batch; start from just before it.
            rows = self.store.query(
                "SELECT count(*) FROM events WHERE app = ? AND name = ?", [app, PAGEVIEW]
            )
            self._totals[app] = int(rows[0][0]) - in_batch
        for event, seq in zip(events, seqs, strict=True):
            if seq is None or event.name != PAGEVIEW:
                continue
            total = self._totals[event.app] + 1
            self._totals[event.app] = total
            self._at_seq[seq] = total
        while len(self._at_seq) > self._remember:
            self._at_seq.popitem(last=False)

    def total_at(self, seq: int) -> int | None:
        """The app's pageview total right after the event with `seq` was committed."""
        return self._at_seq.get(seq)
