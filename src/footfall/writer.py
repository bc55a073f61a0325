"""The one writer: a durable group-commit queue in front of the store.

Requests hand their events to `Writer.write` and wait. A single thread takes
everything queued, commits it in one transaction, and only then wakes every
request of the batch. While one commit runs (~2 ms on DuckDB whatever its
size), the next batch fills up by itself, so throughput grows with load
without any request waiting for a timer. `linger` can add a deliberate wait.

A request's events always commit together (never split across batches), so
a request is stored whole or not at all. `seq` is assigned here, in commit
order, and only advances when a commit succeeds.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from footfall.model import Event
from footfall.storage.base import Store, StoreUnavailable

log = logging.getLogger(__name__)

Seqs = list[int | None]
# Called on the writer thread after each successful commit, before any request
# of the batch is woken: (events of the batch, their seqs).
CommitObserver = Callable[[Sequence[Event], Seqs], None]


@dataclass(slots=True)
class _Pending:
    events: Sequence[Event]
    future: asyncio.Future[Seqs] | concurrent.futures.Future[Seqs]
    # The loop that awaits `future`; None for a thread blocked in `write_sync`.
    loop: asyncio.AbstractEventLoop | None = None


@dataclass
class WriterHealth:
    """What /health reports about writing."""

    ok: bool = True
    last_error: str | None = None
    batches: int = 0
    events: int = 0
    failed_batches: int = 0
    last_batch_events: int = 0
    last_failure_at: float = 0.0  # time.time() of the latest failed commit
    started_at: float = field(default_factory=time.time)


_STOP = object()


# A batch of at least this many requests means the server is busy (see `busy_linger`).
BUSY_REQUESTS = 4


class Writer:
    def __init__(
        self,
        store: Store,
        *,
        max_batch: int = 10_000,
        linger: float = 0.0,
        busy_linger: float = 0.002,
    ) -> None:
        self.store = store
        self.max_batch = max_batch
        self.linger = linger
        # While busy (the last batch held BUSY_REQUESTS requests or more), wait this
        # long for more before committing. A commit costs ~4 ms of CPU on DuckDB
        # whatever its size, and under a closed loop of 64 clients the batches
        # otherwise settle at two alternating halves of 32: waiting merges them.
        # A lone request never waits.
        self.busy_linger = busy_linger
        self._last_requests = 0
        self.health = WriterHealth()
        self._queue: queue.SimpleQueue[_Pending | object] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._next_seq = 1
        # Set after a failed commit: a store may fail *after* making a batch
        # durable, so the next commit first asks it where `seq` stands.
        self._seq_unsure = False
        self._accepting = False
        # Taking the flag and queueing happen together, so that nothing can be
        # queued behind the stop marker once the thread has drained and left.
        self._submit_lock = threading.Lock()
        self.observers: list[CommitObserver] = []

    # -- lifecycle -----------------------------------------------------------

    def start(self) -> None:
        self._next_seq = self.store.max_seq() + 1
        self._accepting = True
        self._thread = threading.Thread(target=self._run, name="footfall-writer", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop taking writes, commit everything already queued, then return."""
        with self._submit_lock:
            self._accepting = False
            if self._thread is not None:
                self._queue.put(_STOP)
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    # -- submitting ----------------------------------------------------------

    async def write(self, events: Sequence[Event]) -> Seqs:
        """Queue `events`, wait until they are durable, return their `seq`s.

        A `None` seq marks an event whose client id was stored before. Raises
        StoreUnavailable when the batch could not be committed.
        """
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Seqs] = loop.create_future()
        self._submit(_Pending(events, future, loop))
        return await future

    def write_sync(self, events: Sequence[Event]) -> Seqs:
        """Blocking variant of `write` for threads (CLI, sync handlers)."""
        future: concurrent.futures.Future[Seqs] = concurrent.futures.Future()
        self._submit(_Pending(events, future))
        return future.result()

    def _submit(self, pending: _Pending) -> None:
        with self._submit_lock:
            if not self._accepting:
                raise StoreUnavailable("the server is shutting down and takes no more writes")
            self._queue.put(pending)

    # -- the writer thread ---------------------------------------------------

    def _run(self) -> None:
        stopping = False
        while not stopping:
            first = self._queue.get()
            if first is _STOP:
                break
            assert isinstance(first, _Pending)
            batch = [first]
            size = len(first.events)
            linger = self.linger
            if self._last_requests >= BUSY_REQUESTS:
                linger = max(linger, self.busy_linger)
            deadline = time.monotonic() + linger
            while size < self.max_batch:
                try:
                    remaining = deadline - time.monotonic()
                    item = (
                        self._queue.get(timeout=remaining)
                        if remaining > 0
                        else self._queue.get_nowait()
                    )
                except queue.Empty:
                    break
                if item is _STOP:
                    stopping = True  # commit what we hold, then leave
                    break
                assert isinstance(item, _Pending)
                batch.append(item)
                size += len(item.events)
            self._last_requests = len(batch)
            self._commit(batch, size)
        # Anything queued after the stop marker gets a clear refusal, never silence.
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if isinstance(item, _Pending):
                _resolve([item], [StoreUnavailable("the server shut down before this write")])

    def _commit(self, batch: list[_Pending], size: int) -> None:
        events: list[Event] = [event for pending in batch for event in pending.events]
        try:
            if self._seq_unsure:
                self._next_seq = max(self._next_seq, self.store.max_seq() + 1)
                self._seq_unsure = False
            seqs = self.store.append(events, self._next_seq)
        except StoreUnavailable as exc:
            self._failed(batch, exc)
            return
        except Exception as exc:  # never leave a request hanging
            log.exception("unexpected error while committing %d events", size)
            self._failed(batch, StoreUnavailable(f"unexpected store error: {exc}"))
            return
        stored = sum(1 for seq in seqs if seq is not None)
        self._next_seq += stored
        health = self.health
        health.ok, health.last_error = True, None
        health.batches += 1
        health.events += stored
        health.last_batch_events = size
        for observe in self.observers:
            try:
                observe(events, seqs)
            except Exception:  # an observer must never turn a durable write into an error
                log.exception("commit observer failed")
        outcomes: list[Seqs | BaseException] = []
        offset = 0
        for pending in batch:
            count = len(pending.events)
            outcomes.append(seqs[offset : offset + count])
            offset += count
        _resolve(batch, outcomes)

    def _failed(self, batch: list[_Pending], exc: StoreUnavailable) -> None:
        log.error("commit of %d requests failed: %s", len(batch), exc)
        self.health.ok, self.health.last_error = False, str(exc)
        self.health.failed_batches += 1
        self.health.last_failure_at = time.time()
        self._seq_unsure = True
        _resolve(batch, [exc] * len(batch))


Settlement = tuple["asyncio.Future[Seqs]", "Seqs | BaseException"]


def _resolve(batch: Sequence[_Pending], outcomes: Sequence[Seqs | BaseException]) -> None:
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
