"""A write waiting for the writer thread, and how the thread wakes its requester.

A request hands its events to the writer as a `PendingWrite` and waits on its
future; the writer thread settles the futures of a whole group at once with
`resolve` (see writer.py).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from footfall.model import Event

log = logging.getLogger(__name__)

# Each event's `seq`, in the request's order; None: its client id was stored before.
Seqs = list[int | None]


@dataclass(slots=True)
class PendingWrite:
    events: Sequence[Event]
    future: asyncio.Future[Seqs] | concurrent.futures.Future[Seqs]
    # The loop that awaits `future`; None for a thread blocked in `write_sync`.
    loop: asyncio.AbstractEventLoop | None = None


Settlement = tuple["asyncio.Future[Seqs]", "Seqs | BaseException"]


def resolve(batch: Sequence[PendingWrite], outcomes: Sequence[Seqs | BaseException]) -> None:
    """Wake every request of a batch: one wake-up per event loop, not one per request.

    `call_soon_threadsafe` writes to the loop's self-pipe each time; with 64
    requests a batch that was 64 syscalls and 64 loop iterations per commit.
    """
    per_loop: dict[asyncio.AbstractEventLoop, list[Settlement]] = {}
    for pending, outcome in zip(batch, outcomes, strict=True):
        future = pending.future
        if pending.loop is None:
            assert isinstance(future, concurrent.futures.Future)
            if isinstance(outcome, BaseException):
                future.set_exception(outcome)
            else:
                future.set_result(outcome)
        else:
            assert isinstance(future, asyncio.Future)
            per_loop.setdefault(pending.loop, []).append((future, outcome))
    for loop, settlements in per_loop.items():
        try:
            loop.call_soon_threadsafe(_settle, settlements)
        except RuntimeError:  # the loop is closed: nobody is waiting any more
            log.warning("%d writes finished after their event loop closed", len(settlements))


def _settle(settlements: list[Settlement]) -> None:
    for future, outcome in settlements:
        if future.done():  # the request was cancelled (client went away)
            continue
        if isinstance(outcome, BaseException):
            future.set_exception(outcome)
        else:
            future.set_result(outcome)
