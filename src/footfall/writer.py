"""The one writer: a durable group-commit queue in front of the store.

Requests hand their events to `Writer.write` and wait. A single thread takes
everything queued as one group, makes it durable, and only then wakes every
request of the group. While one group is made durable the next fills up by
itself, so throughput grows with load without any request waiting for a
timer. `linger` can add a deliberate wait.

Two ways to make a group durable:

- **Journal** (with a `Journal`, the default for DuckDB and chDB): the group
  is appended to footfall's own journal as one record and fdatasync'd (~0.3 ms,
  ~0.07 ms of CPU), then acknowledged. The store is loaded later, in bulk:
  when enough events are pending, when the oldest has waited `load_seconds`,
  when a read needs them (the read barrier), before a commit that bypasses
  the journal, and at stop. A store commit costs ~4 ms of CPU whatever its
  size, so one load per few thousand events instead of one commit per group
  of a few dozen is what lets single-event ingest scale. Loads run on a
  thread of their own (one at a time), so acknowledgements go on meanwhile:
  a load of 4,096 events takes ~30 ms, DuckDB's part of it without the GIL.
- **Commit** (no journal, and always for requests the store must decide):
  events with a client-supplied id (only the store knows whether it holds it
  already) and big requests (`direct_events` or more: a commit is amortised
  there already, and journaling them would write them twice) are committed to
  the store before they are acknowledged. Pending journaled events are loaded
  in the same transaction, first, so `seq` order is commit order.

A request's events are always made durable together (never split across
groups), so a request is stored whole or not at all. `seq` is assigned here, in
the order groups become durable, and only advances when they do.

Read-your-writes: a read that starts after an acknowledgement must see its
events. The store calls `read_barrier` before every read; while journaled
events are not loaded yet, it asks the writer thread to load them now and
waits (and costs one comparison otherwise). See docs/durability.md.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

from footfall.journal import Journal
from footfall.journal_replay import replay_journal
from footfall.model import Event
from footfall.storage.base import Store, StoreUnavailable
from footfall.writes import PendingWrite, Seqs, resolve

log = logging.getLogger(__name__)

# Called on the writer thread once a group is durable, before any request of it
# is woken: (events of the group, their seqs).
CommitObserver = Callable[[Sequence[Event], Seqs], None]

# Load the store once this many journaled events are pending…
LOAD_EVENTS = 4096
# …or they take this many bytes in the journal (big events: a bounded load, and
# a store's log that grows in steps of at most about this much)…
LOAD_BYTES = 1 << 20
# …or once the oldest of them has waited this long (seconds).
LOAD_SECONDS = 0.5
# A request of at least this many events is committed to the store, not journaled.
DIRECT_EVENTS = 1000
# Waits between time-driven retries of a failed load (a write or a read retries at once).
_RETRY_FIRST, _RETRY_MAX = 0.05, 5.0


@dataclass(slots=True)
class _LoadRequest:
    """A reader on another thread waits until every journaled event is in the store."""

    future: concurrent.futures.Future[None]
    target: int = 0  # the journaled seq when the writer thread took the request


# The loader thread's word to the writer thread: the load in flight is over.
_LOADED = object()


@dataclass
class WriterHealth:
    """What /health reports about writing."""

    ok: bool = True
    last_error: str | None = None
    batches: int = 0  # groups made durable (committed or journaled)
    events: int = 0  # events made durable
    failed_batches: int = 0
    last_batch_events: int = 0
    last_failure_at: float = 0.0  # time.time() of the latest failure (write or load)
    started_at: float = field(default_factory=time.time)
    # The journal (zero without one).
    journaled_events: int = 0  # acknowledged from the journal
    pending_events: int = 0  # journaled, not loaded into the store yet
    loads: int = 0  # successful bulk loads
    failed_loads: int = 0
    last_load_error: str | None = None  # set while loading fails; None once a load succeeds


_STOP = object()

# A journaled group not loaded yet: (first seq, event count, its journal record's size,
# journaled at, the events). The events stay in memory for the loader: decoding them
# back from the record cost ~4 us per event of the writer's one core.
_Group = tuple[int, int, int, float, list[Event]]


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
        journal: Journal | None = None,
        load_events: int = LOAD_EVENTS,
        load_bytes: int = LOAD_BYTES,
        load_seconds: float = LOAD_SECONDS,
        direct_events: int = DIRECT_EVENTS,
    ) -> None:
        self.store = store
        self.max_batch = max_batch
        self.linger = linger
        # While busy (the last batch held BUSY_REQUESTS requests or more), wait this
        # long for more before committing. A commit costs ~4 ms of CPU on DuckDB
        # whatever its size, and under a closed loop of 64 clients the batches
        # otherwise settle at two alternating halves of 32: waiting merges them.
        # A lone request never waits. Not for journaled groups: an fdatasync costs
        # ~0.07 ms of CPU, and waiting only leaves the core idle while every client
        # waits for its ack (64 clients, one core: 3,220-3,322 req/s at 2 ms,
        # 4,564-6,504 without, alternating runs).
        self.busy_linger = busy_linger
        self.journal = journal
        self.load_events = load_events
        self.load_bytes = load_bytes
        self.load_seconds = load_seconds
        self.direct_events = direct_events
        self._last_requests = 0
        self.health = WriterHealth()
        self._queue: queue.SimpleQueue[PendingWrite | _LoadRequest | object] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._thread_id: int | None = None
        self._next_seq = 1
        # Set after a failed commit: a store may fail *after* making a batch
        # durable, so `seq` is unsure until the store is asked where it stands.
        self._seq_unsure = False
        self._accepting = False
        # Taking the flag and queueing happen together, so that nothing can be
        # queued behind the stop marker once the thread has drained and left.
        self._submit_lock = threading.Lock()
        self.observers: list[CommitObserver] = []
        # Journaled events not loaded into the store yet, group by group (see `_Group`).
        # Their seqs are consecutive and end at `_next_seq - 1`. Kept as the Event
        # objects themselves: Events are not tracked by the garbage collector (gc=False),
        # so living on until the load costs it nothing.
        self._groups: list[_Group] = []
        self._pending_count = 0
        self._pending_bytes = 0
        # Set after a failed load: the store may have stored it all the same, so
        # which pending events it holds is unsure until it is asked.
        self._pending_unsure = False
        # The read barrier compares these two; both only grow. Every seq up to
        # `_journaled_seq` is durable, every one up to `_loaded_seq` in the store too.
        self._journaled_seq = 0
        self._loaded_seq = 0
        self._write_error: str | None = None
        self._load_error: str | None = None
        self._retry_wait = 0.0
        self._retry_at = 0.0
        # True while the writer thread reads the store for itself (no barrier then).
        self._own_read = False
        # The loader thread: one load at a time, of the first `_in_flight` pending groups.
        self._loader: threading.Thread | None = None
        self._loader_id: int | None = None
        self._jobs: queue.SimpleQueue[tuple[list[_Group], int] | object] = queue.SimpleQueue()
        self._in_flight = 0
        self._job_done = threading.Event()
        self._job_result: Seqs | StoreUnavailable = []
        self._readers: list[_LoadRequest] = []  # waiting for a load to reach their target

    # -- lifecycle -----------------------------------------------------------

    def start(self) -> None:
        """Replay the journal into the store (if any), then take writes."""
        self.store.read_barrier = None  # a new writer takes the store over
        if self.journal is not None:
            self.journal.open()
            try:
                replay_journal(self.store, self.journal)
            except BaseException:
                self.journal.close()
                raise
        self._next_seq = self.store.max_seq() + 1
        self._journaled_seq = self._loaded_seq = self._next_seq - 1
        if self.journal is not None:
            self.store.read_barrier = self.read_barrier
            self._loader = threading.Thread(
                target=self._load_loop, name="footfall-loader", daemon=True
            )
            self._loader.start()
        self._accepting = True
        self._thread = threading.Thread(target=self._run, name="footfall-writer", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop taking writes, make everything queued durable, load the store, then return."""
        with self._submit_lock:
            self._accepting = False
            if self._thread is not None:
                self._queue.put(_STOP)
        thread = self._thread
        if thread is not None:
            thread.join()
            self._thread = None
        if self.journal is not None:
            self.journal.close()

    # -- submitting ----------------------------------------------------------

    async def write(self, events: Sequence[Event]) -> Seqs:
        """Queue `events`, wait until they are durable, return their `seq`s.

        A `None` seq marks an event whose client id was stored before. Raises
        StoreUnavailable when the events could not be made durable.
        """
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Seqs] = loop.create_future()
        self._submit(PendingWrite(events, future, loop))
        return await future

    def write_sync(self, events: Sequence[Event]) -> Seqs:
        """Blocking variant of `write` for threads (CLI, sync handlers)."""
        future: concurrent.futures.Future[Seqs] = concurrent.futures.Future()
        self._submit(PendingWrite(events, future))
        return future.result()

    def _submit(self, pending: PendingWrite) -> None:
        with self._submit_lock:
            if not self._accepting:
                raise StoreUnavailable("the server is shutting down and takes no more writes")
            self._queue.put(pending)

    # -- the read barrier ----------------------------------------------------

    def read_barrier(self) -> None:
        """Return once every acknowledged event is in the store (the store calls this
        before each read). StoreUnavailable when they cannot be loaded now."""
        if self._journaled_seq <= self._loaded_seq:
            return  # nothing pending: the common case, one comparison
        me = threading.get_ident()
        if me == self._thread_id:
            # The writer thread itself: its own bookkeeping reads go straight to the
            # store; anything else it reads (a commit observer) gets a load right here.
            if not self._own_read:
                self._load_or_raise()
            return
        if me == self._loader_id:
            return  # a store reading for itself while it loads
        future: concurrent.futures.Future[None] = concurrent.futures.Future()
        with self._submit_lock:
            accepting = self._accepting
            if accepting:
                self._queue.put(_LoadRequest(future))
        if accepting:
            future.result()
            return
        # Stopping or stopped: the thread loads everything before it leaves.
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join()
        if self._journaled_seq > self._loaded_seq:
            raise StoreUnavailable(
                f"{self._journaled_seq - self._loaded_seq} acknowledged events are not in the "
                f"store yet ({self._load_error}); they are kept in the journal and loaded "
                "when footfall starts again"
            )

    def _load_or_raise(self) -> None:
        self._load_now()
        if self._journaled_seq > self._loaded_seq:
            raise StoreUnavailable(
                f"cannot load acknowledged events into the store: {self._load_error}"
            )

    @contextlib.contextmanager
    def _reading_for_myself(self) -> Iterator[None]:
        self._own_read = True
        try:
            yield
        finally:
            self._own_read = False

    # -- the writer thread ---------------------------------------------------

    def _run(self) -> None:
        self._thread_id = threading.get_ident()
        stopping = False
        while not stopping:
            try:
                first = self._queue.get(timeout=self._idle_timeout())
            except queue.Empty:
                self._load_step(after_write=False)  # the oldest pending event waited enough
                continue
            if first is _STOP:
                break
            batch: list[PendingWrite] = []
            readers: list[_LoadRequest] = []
            stopping = self._collect(first, batch, readers)
            if batch:
                self._write(batch)
            for reader in readers:
                reader.target = self._journaled_seq
            self._readers.extend(readers)
            self._finish_load(block=False)
            self._load_step(after_write=bool(batch))
        # Stopping: everything journaled goes into the store (one more try if it failed).
        self._finish_load(block=True)
        self._load_now()
        if self._loader is not None:
            self._jobs.put(_STOP)
            self._loader.join()
        if self._pending_count:
            log.error(
                "%d acknowledged events could not be loaded into the store at shutdown "
                "(%s); they stay in the journal %s and are loaded at the next start",
                self._pending_count,
                self._load_error,
                self.journal.path if self.journal is not None else "",
            )
        # Anything queued after the stop marker gets a clear refusal, never silence.
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if isinstance(item, PendingWrite):
                resolve([item], [StoreUnavailable("the server shut down before this write")])
            elif isinstance(item, _LoadRequest):
                item.target = self._journaled_seq
                self._readers.append(item)
        self._release_readers(final=True)

    def _collect(
        self, first: object, batch: list[PendingWrite], readers: list[_LoadRequest]
    ) -> bool:
        """Take `first` and whatever else is queued (lingering while busy) into one group.

        Returns True when the stop marker was seen (what was taken is still written)."""
        size = 0
        if isinstance(first, PendingWrite):
            batch.append(first)
            size = len(first.events)
        elif isinstance(first, _LoadRequest):
            readers.append(first)
        linger = self.linger
        if batch and self.journal is None and self._last_requests >= BUSY_REQUESTS:
            linger = max(linger, self.busy_linger)
        deadline = time.monotonic() + (linger if batch else 0.0)
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
                return True  # write what we hold, then leave
            if isinstance(item, _LoadRequest):
                readers.append(item)
            elif isinstance(item, PendingWrite):
                batch.append(item)
                size += len(item.events)
            # else _LOADED: only here to wake the thread; the caller reaps the load
        return False

    def _idle_timeout(self) -> float | None:
        """How long the thread may wait for work before a pending load is due."""
        if not self._groups or self._in_flight:
            return None  # nothing to load, or the loader's word wakes the thread
        due = self._groups[0][3] + self.load_seconds
        if self._load_error is not None:
            due = max(due, self._retry_at)
        return max(0.0, due - time.monotonic())

    def _load_due(self) -> bool:
        if self._load_error is not None:
            return time.monotonic() >= self._retry_at  # wait out the backoff
        return (
            self._pending_count >= self.load_events
            or self._pending_bytes >= self.load_bytes
            or time.monotonic() - self._groups[0][3] >= self.load_seconds
        )

    def _write(self, batch: list[PendingWrite]) -> None:
        self._last_requests = len(batch)
        if self.journal is None:
            self._commit(batch)
            return
        journaled: list[PendingWrite] = []
        committed: list[PendingWrite] = []
        for pending in batch:
            events = pending.events
            if len(events) >= self.direct_events or any(event.client_id for event in events):
                committed.append(pending)
            else:
                journaled.append(pending)
        if journaled:
            self._journal(journaled)
        if committed:
            self._commit(committed)

    def _journal(self, group: list[PendingWrite]) -> None:
        assert self.journal is not None
        events: list[Event] = [event for pending in group for event in pending.events]
        count = len(events)
        try:
            if self._seq_unsure:
                self._settle_seq()
            first = self._next_seq
            size = self.journal.append(first, events) if count else 0
        except StoreUnavailable as exc:
            self._failed(group, exc, store=False)
            return
        except Exception as exc:  # never leave a request hanging
            log.exception("unexpected error while journaling %d events", count)
            self._failed(group, StoreUnavailable(f"unexpected journal error: {exc}"), store=False)
            return
        if count:
            self._groups.append((first, count, size, time.monotonic(), events))
            self._pending_count += count
            self._pending_bytes += size
            self._next_seq = first + count
            # Before any request is woken: a read that starts after the acknowledgement
            # finds this seq ahead of `_loaded_seq` and waits for the load.
            self._journaled_seq = first + count - 1
        seqs: Seqs = list(range(first, first + count))
        health = self.health
        health.journaled_events += count
        health.pending_events = self._pending_count
        self._write_error = None
        self._durable(group, events, seqs)

    def _commit(self, batch: list[PendingWrite]) -> None:
        """Commit `batch` to the store (loading every pending event first, in the same
        transaction), then acknowledge it."""
        events: list[Event] = [event for pending in batch for event in pending.events]
        self._finish_load(block=True)  # the loader must be idle: this commit loads the rest
        try:
            if self._seq_unsure or self._pending_unsure:
                self._settle_seq()
            pending = _pending_events(self._groups)
            loading = len(pending)
            first = self._groups[0][0] if loading else self._next_seq
            seqs = self.store.append([*pending, *events] if loading else events, first)
        except StoreUnavailable as exc:
            self._failed(batch, exc, store=True)
            return
        except Exception as exc:  # never leave a request hanging
            log.exception("unexpected error while committing %d events", len(events))
            self._failed(batch, StoreUnavailable(f"unexpected store error: {exc}"), store=True)
            return
        if loading:
            self._loaded(seqs[:loading])
            seqs = seqs[loading:]
        self._next_seq += sum(1 for seq in seqs if seq is not None)
        self._write_error = None
        self._durable(batch, events, seqs)

    def _durable(self, batch: list[PendingWrite], events: list[Event], seqs: Seqs) -> None:
        """`events` of `batch` are durable: tell the observers, then wake the requests."""
        health = self.health
        health.batches += 1
        health.events += sum(1 for seq in seqs if seq is not None)
        health.last_batch_events = len(events)
        self._update_health()
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
        resolve(batch, outcomes)

    def _failed(self, batch: list[PendingWrite], exc: StoreUnavailable, *, store: bool) -> None:
        """Nothing of `batch` was acknowledged. After a failed store commit, `seq` (and
        which pending events the store holds) is unsure until the store is asked."""
        log.error("writing %d requests failed: %s", len(batch), exc)
        self._write_error = str(exc)
        self.health.failed_batches += 1
        self.health.last_failure_at = time.time()
        if store:
            self._seq_unsure = True
            if self._groups:
                self._pending_unsure = True
                self._load_failed(exc)
        self._update_health()
        resolve(batch, [exc] * len(batch))

    def _settle_seq(self) -> None:
        """Ask the store where `seq` stands after a failure: drop the pending events it
        stored all the same, and never hand out a seq it holds."""
        self._finish_load(block=True)  # no load may run while the store is asked
        with self._reading_for_myself():
            top = self.store.max_seq()
        if self._groups and top >= self._groups[0][0]:
            first = self._groups[0][0]
            stored = min(self._pending_count, top - first + 1)
            log.warning("the store holds %d pending events after all (a failed load)", stored)
            self._loaded(list(range(first, first + stored)))
        self._next_seq = max(self._next_seq, top + 1)
        self._seq_unsure = self._pending_unsure = False

    # -- loading the store ---------------------------------------------------

    def _load_step(self, *, after_write: bool) -> None:
        """Start a load if none runs and one is due (or a reader waits for one)."""
        if self._load_error is not None and after_write and self._groups:
            # Loading fails, and a write just succeeded: try again now, and finish
            # before the next write is acknowledged (as a commit would have been
            # tried), so that the next answer and /health say how it went.
            self._load_now()
            self._release_readers()
            return
        if self._in_flight:
            return  # one at a time; its end wakes the thread
        waiting = any(reader.target > self._loaded_seq for reader in self._readers)
        if self._groups and (waiting or self._load_due()):
            self._start_load()
        self._release_readers()

    def _start_load(self) -> None:
        """Hand every pending event to the loader thread."""
        if self._pending_unsure or self._seq_unsure:
            try:
                self._settle_seq()
            except StoreUnavailable as exc:
                self._load_failed(exc)
                return
        if not self._groups:
            return
        assert self.journal is not None and not self._in_flight
        self._in_flight = len(self._groups)
        self.journal.rotate()  # appends go on in the other file, if it is empty
        self._job_done.clear()
        self._jobs.put((self._groups[: self._in_flight], self._groups[0][0]))

    def _finish_load(self, *, block: bool) -> None:
        """Take in the result of the load in flight, if any (waiting for it if `block`)."""
        if not self._in_flight or (not block and not self._job_done.is_set()):
            return
        self._job_done.wait()
        result, self._in_flight = self._job_result, 0
        if isinstance(result, StoreUnavailable):
            self._load_failed(result)
        else:
            self._loaded(result)
        self._release_readers()

    def _load_now(self) -> None:
        """Load every pending event and wait for it (one try, whatever the backoff)."""
        self._finish_load(block=True)
        if self._groups:
            self._start_load()
            self._finish_load(block=True)

    def _load_loop(self) -> None:
        """The loader thread: runs the writer thread's loads, one at a time."""
        self._loader_id = threading.get_ident()
        while True:
            job = self._jobs.get()
            if job is _STOP:
                return
            assert isinstance(job, tuple)
            groups, first = job
            result: Seqs | StoreUnavailable
            try:
                result = self.store.append(_pending_events(groups), first)
            except StoreUnavailable as exc:
                result = exc
            except Exception as exc:  # never leave the writer thread waiting
                log.exception("unexpected error while loading %d groups", len(groups))
                result = StoreUnavailable(f"unexpected store error: {exc}")
            self._job_result = result
            self._job_done.set()
            self._queue.put(_LOADED)  # wake the writer thread if it waits for work

    def _loaded(self, seqs: Seqs) -> None:
        """The first len(seqs) pending events are in the store now."""
        count = len(seqs)
        first = self._groups[0][0] if self._groups else 0
        expected = list(range(first, first + count))
        if seqs != expected:  # journaled events carry no client id: never skipped
            log.error("the store numbered loaded events %s…, expected %s…", seqs[:3], expected[:3])
        self._drop_pending(count)
        self._loaded_seq = self._groups[0][0] - 1 if self._groups else self._journaled_seq
        if self._load_error is not None:
            log.info("loading the store works again")
        self._load_error = None
        self._retry_wait = 0.0
        if self.journal is not None:
            self.journal.release(self._loaded_seq)
        health = self.health
        health.loads += 1
        health.last_load_error = None
        self._update_health()
        health.pending_events = self._pending_count  # last: a poller sees the rest settled

    def _drop_pending(self, count: int) -> None:
        """Forget the first `count` pending events (they are in the store)."""
        groups = self._groups
        dropped = 0
        while groups and dropped + groups[0][1] <= count:
            _first, size, nbytes, _at, _events = groups.pop(0)
            dropped += size
            self._pending_bytes -= nbytes
        if groups and dropped < count:  # part of a group (never from a load: whole groups)
            first, size, nbytes, at, events = groups[0]
            skip = count - dropped
            rest = nbytes * (size - skip) // size  # what it would take in a record, roughly
            groups[0] = (first + skip, size - skip, rest, at, events[skip:])
            self._pending_bytes += rest - nbytes
        self._pending_count -= count

    def _load_failed(self, exc: StoreUnavailable) -> None:
        if self._load_error is None:
            log.error(
                "loading %d journaled events into the store failed (they are safe in the "
                "journal; retrying): %s",
                self._pending_count,
                exc,
            )
        self._load_error = str(exc)
        self._pending_unsure = True
        self._retry_wait = min(max(2 * self._retry_wait, _RETRY_FIRST), _RETRY_MAX)
        self._retry_at = time.monotonic() + self._retry_wait
        health = self.health
        health.failed_loads += 1
        health.last_load_error = self._load_error
        health.last_failure_at = time.time()
        self._update_health()

    def _release_readers(self, *, final: bool = False) -> None:
        """Wake the readers whose events are in the store; after a failed load (or at
        the end) also those whose events are not: with the reason."""
        if not self._readers:
            return
        failing = final or (self._load_error is not None and not self._in_flight)
        waiting: list[_LoadRequest] = []
        for reader in self._readers:
            if reader.target <= self._loaded_seq:
                reader.future.set_result(None)
            elif failing:
                reason = self._load_error or "the writer stopped"
                reader.future.set_exception(
                    StoreUnavailable(f"cannot load acknowledged events into the store: {reason}")
                )
            else:
                waiting.append(reader)
        self._readers = waiting

    def _update_health(self) -> None:
        health = self.health
        error = self._write_error
        if error is None and self._load_error is not None:
            error = f"loading acknowledged events into the store fails: {self._load_error}"
        health.ok = error is None
        health.last_error = error


def _pending_events(groups: Sequence[_Group]) -> list[Event]:
    return [event for group in groups for event in group[4]]
