"""The group-commit writer on a real DuckDB store: `seq`, duplicates, failures, draining."""

from __future__ import annotations

import bisect
import contextlib
import json
import os
import random
import shutil
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from footfall.journal import Journal
from footfall.model import Event
from footfall.storage.base import StoreUnavailable
from footfall.storage.duckdb_store import DuckDBStore
from footfall.writer import Writer
from tests.support.tmpfs import fill, mounted_tmpfs


@contextlib.contextmanager
def _running(
    path: Path, *, journal: bool = False, **options: Any
) -> Iterator[tuple[DuckDBStore, Writer]]:
    store = DuckDBStore(path)
    store.open()
    writer = Writer(
        store,
        journal=Journal(path.with_name(path.name + ".journal")) if journal else None,
        **options,
    )
    writer.start()
    try:
        yield store, writer
    finally:
        writer.stop()
        store.close()


def _events(count: int, *, client_ids: bool = False, pad: int = 0) -> list[Event]:
    props = json.dumps({"pad": random.randbytes(pad // 2).hex()}) if pad else "{}"
    events = [Event(url=f"/p/{uuid.uuid4()}", props=props) for _ in range(count)]
    if client_ids:
        for event in events:
            event.client_id = True
    return events


def _stored(store: DuckDBStore) -> list[tuple[int, uuid.UUID]]:
    return [(int(seq), uid) for seq, uid in store.query("SELECT seq, id FROM events ORDER BY seq")]


@dataclass
class _Call:
    submitted: float
    returned: float
    events: list[Event]
    seqs: list[int | None]


@pytest.mark.parametrize("journal", [False, True], ids=["commit", "journal"])
def test_seq_is_store_wide_from_1_without_gaps_and_in_commit_order(
    tmp_path: Path, journal: bool
) -> None:
    """With the journal, events without a client id are journaled and the others
    committed: one sequence all the same, in the order they became durable."""
    calls: list[_Call] = []
    lock = threading.Lock()
    options = {"load_events": 40, "load_seconds": 0.05} if journal else {}
    with _running(tmp_path / "f.duckdb", journal=journal, **options) as (store, writer):

        def work(worker: int) -> None:
            rng = random.Random(worker)
            mine: list[list[Event]] = []
            for i in range(60):
                if i % 7 == 6:  # a retry: the same client ids once more
                    events = rng.choice(mine)
                else:
                    events = _events(rng.randint(1, 5), client_ids=rng.random() < 0.5)
                    mine.append(events)
                submitted = time.monotonic()
                seqs = writer.write_sync(events)
                call = _Call(submitted, time.monotonic(), events, seqs)
                with lock:
                    calls.append(call)

        threads = [threading.Thread(target=work, args=(w,)) for w in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        rows = _stored(store)

    fresh = [call for call in calls if any(seq is not None for seq in call.seqs)]
    total = sum(seq is not None for call in calls for seq in call.seqs)
    # Store-wide, from 1, no gaps, no repeats.
    assert [seq for seq, _ in rows] == list(range(1, total + 1))
    # Each returned seq is the row of that very event.
    by_seq = dict(rows)
    for call in calls:
        for event, seq in zip(call.events, call.seqs, strict=True):
            if seq is not None:
                assert by_seq[seq] == event.id
    # A request's events get consecutive seqs, in order; a retry gets none at all.
    for call in fresh:
        assert call.seqs == list(range(call.seqs[0] or 0, (call.seqs[0] or 0) + len(call.seqs)))
    retried = [call for call in calls if call not in fresh]
    assert retried and all(call.seqs == [None] * len(call.events) for call in retried)
    # Commit order: a request sent after another one returned gets higher seqs.
    by_return = sorted(fresh, key=lambda call: call.returned)
    returned_at = [call.returned for call in by_return]
    highest_so_far: list[int] = []
    for call in by_return:
        top = max(seq for seq in call.seqs if seq is not None)
        highest_so_far.append(max(top, highest_so_far[-1]) if highest_so_far else top)
    for call in fresh:
        before = bisect.bisect_left(returned_at, call.submitted)
        if before:
            lowest = min(seq for seq in call.seqs if seq is not None)
            assert lowest > highest_so_far[before - 1], "a later request got an earlier seq"


def test_a_client_id_is_stored_once_even_twice_in_one_batch(tmp_path: Path) -> None:
    with _running(tmp_path / "f.duckdb") as (store, writer):
        [event] = _events(1, client_ids=True)
        twin = Event(id=event.id, client_id=True, url="/twin")
        assert writer.write_sync([event, twin]) == [1, None]
        assert writer.write_sync([twin]) == [None]
        assert writer.write_sync(_events(1)) == [2]
        assert _stored(store)[0] == (1, event.id)


def test_seq_goes_on_from_the_highest_stored_after_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "f.duckdb"
    kept = _events(3, client_ids=True)
    with _running(path) as (_, writer):
        assert writer.write_sync(kept) == [1, 2, 3]
        assert writer.write_sync(_events(2)) == [4, 5]
    with _running(path) as (store, writer):
        assert writer.write_sync(kept) == [None, None, None]  # duplicates get no seq
        assert writer.write_sync(_events(1)) == [6]
        assert [seq for seq, _ in _stored(store)] == [1, 2, 3, 4, 5, 6]


@pytest.mark.parametrize("journal", [False, True], ids=["commit", "journal"])
def test_stop_commits_everything_queued_and_refuses_what_comes_after(
    tmp_path: Path, journal: bool
) -> None:
    path = tmp_path / "f.duckdb"
    outcomes: list[list[int | None] | str] = []
    lock = threading.Lock()
    with _running(path, journal=journal) as (store, writer):
        started = threading.Barrier(9)

        def work() -> None:
            started.wait()
            for _ in range(200):
                try:
                    result: list[int | None] | str = writer.write_sync(_events(2))
                except StoreUnavailable as exc:
                    result = str(exc)
                with lock:
                    outcomes.append(result)

        threads = [threading.Thread(target=work) for _ in range(8)]
        for thread in threads:
            thread.start()
        started.wait()
        time.sleep(0.05)
        writer.stop()
        for thread in threads:
            thread.join(timeout=30)
        assert not any(thread.is_alive() for thread in threads), "a write hangs after stop()"
        stored = len(_stored(store))
    assert len(outcomes) == 8 * 200
    acked = [seqs for seqs in outcomes if isinstance(seqs, list)]
    refused = [reason for reason in outcomes if isinstance(reason, str)]
    assert acked and refused
    assert stored == 2 * len(acked)
    assert all("shut" in reason for reason in refused)


# -- failures on a real full disk -------------------------------------------


@pytest.fixture
def tmpfs(tmp_path: Path) -> Iterator[Path]:
    with mounted_tmpfs(tmp_path / "tmpfs", "4m") as mountpoint:
        yield mountpoint


def _open_files(path: Path) -> list[str]:
    found = []
    for fd in os.listdir("/proc/self/fd"):
        with contextlib.suppress(OSError):
            target = os.readlink(f"/proc/self/fd/{fd}")
            if target.startswith(str(path)):
                found.append(target)
    return found


def test_a_failed_commit_uses_no_seq_and_the_writer_recovers(tmpfs: Path) -> None:
    with _running(tmpfs / "f.duckdb") as (store, writer):
        assert writer.write_sync(_events(3)) == [1, 2, 3]
        filler = fill(tmpfs)
        for _ in range(3):
            with pytest.raises(StoreUnavailable, match="No space left on device"):
                writer.write_sync(_events(20, pad=400))
        assert not writer.health.ok and "No space" in (writer.health.last_error or "")
        filler.unlink()
        assert writer.write_sync(_events(2)) == [4, 5]
        assert writer.health.ok
        assert [seq for seq, _ in _stored(store)] == [1, 2, 3, 4, 5]


def test_a_full_disk_refuses_journal_appends_and_the_writer_recovers(tmpfs: Path) -> None:
    with _running(tmpfs / "f.duckdb", journal=True, **_LAZY) as (store, writer):
        assert writer.write_sync(_events(3)) == [1, 2, 3]
        filler = fill(tmpfs)
        for _ in range(3):
            with pytest.raises(StoreUnavailable, match=r"journal.*No space left on device"):
                writer.write_sync(_events(20, pad=400))
        assert not writer.health.ok and "No space" in (writer.health.last_error or "")
        filler.unlink()
        assert writer.write_sync(_events(2)) == [4, 5]
        assert writer.health.ok
        assert [seq for seq, _ in _stored(store)] == [1, 2, 3, 4, 5]


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs /proc")
def test_a_failed_commit_during_a_long_read_lets_go_of_the_database(tmpfs: Path) -> None:
    """The read still answers, and the store really closes the failed database.

    DuckDB refuses to close a connection whose cursor is busy; closing anyway
    (and ignoring the error) would keep the old, possibly invalidated, database
    open in the process, and every reconnect would get that one back.
    """
    path = tmpfs / "f.duckdb"
    with _running(path) as (store, writer):
        writer.write_sync(_events(3))
        answer: list[object] = []
        reading, done = threading.Event(), threading.Event()

        def long_read() -> None:  # on a thread that lives on, like a server's thread pool
            reading.set()
            answer.extend(store.query("SELECT count(*) FROM range(400000000) t(i) WHERE i % 7 = 0"))
            done.wait(timeout=60)

        reader = threading.Thread(target=long_read)
        reader.start()
        try:
            reading.wait()
            time.sleep(0.1)  # the query is running
            filler = fill(tmpfs)
            with pytest.raises(StoreUnavailable):
                writer.write_sync(_events(20, pad=400))
            deadline = time.monotonic() + 60
            while not answer and time.monotonic() < deadline:
                time.sleep(0.01)
            assert answer == [(57142858,)]
            assert _open_files(path) == [], "the failed database is still open"
        finally:
            done.set()
            reader.join(timeout=60)
        filler.unlink()
        assert writer.write_sync(_events(1)) == [4]
        assert store.query("SELECT count(*) FROM events") == [(4,)]


def test_a_failed_checkpoint_loses_nothing_committed(
    tmpfs: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Folding the WAL into the file fails on a full disk; what was committed stays stored."""
    path = tmpfs / "f.duckdb"
    store = DuckDBStore(path, checkpoint_bytes=256 * 1024)
    store.open()
    writer = Writer(store)
    writer.start()
    acked: list[Event] = []
    try:
        for _ in range(3):  # about 150 KiB of WAL
            batch = _events(50, pad=1000)
            writer.write_sync(batch)
            acked += batch
        filler = fill(tmpfs)
        filler_size = filler.stat().st_size
        os.truncate(filler, filler_size - 600 * 1024)  # room for the WAL, not a checkpoint
        for _ in range(40):
            batch = _events(50, pad=1000)
            try:
                writer.write_sync(batch)
            except StoreUnavailable:
                break
            acked += batch
        assert "checkpoint" in caplog.text and "failed" in caplog.text
        filler.unlink()
        batch = _events(5)
        writer.write_sync(batch)
        acked += batch
    finally:
        writer.stop()
        store.close()
    store = DuckDBStore(path)
    store.open()
    try:
        rows = _stored(store)
    finally:
        store.close()
    assert [seq for seq, _ in rows] == list(range(1, len(acked) + 1))
    assert [uid for _, uid in rows] == [event.id for event in acked]


def test_a_busy_writer_lets_requests_close_together_share_one_commit(tmp_path: Path) -> None:
    with _running(tmp_path / "f.duckdb") as (_, writer):
        writer.busy_linger = 0.5
        writer.write_sync(_events(1))  # the first commit of a process pays for imports
        started = time.monotonic()
        writer.write_sync(_events(1))  # idle: a lone request never waits
        assert time.monotonic() - started < 0.25

        def wave(spacing: float) -> int:
            before = writer.health.batches
            threads = [
                threading.Thread(target=writer.write_sync, args=(_events(1),)) for _ in range(8)
            ]
            for thread in threads:
                thread.start()
                time.sleep(spacing)
            for thread in threads:
                thread.join()
            return writer.health.batches - before

        writer.linger = 0.3  # eight at once, committed together: the writer is busy now
        assert wave(0.0) == 1
        writer.linger = 0.0
        # Requests 10 ms apart would be eight commits on an idle writer; busy, it waits
        # for them (the first may still go alone if the last batch was small).
        assert wave(0.01) <= 2


def test_a_busy_journaled_writer_acknowledges_without_waiting(tmp_path: Path) -> None:
    # An fdatasync is cheap: waiting for more requests would only leave the core idle.
    with _running(tmp_path / "f.duckdb", journal=True, busy_linger=0.5) as (_, writer):
        writer.write_sync(_events(1))
        writer.linger = 0.3  # eight at once, journaled together: the writer is busy now
        threads = [threading.Thread(target=writer.write_sync, args=(_events(1),)) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert writer.health.last_batch_events == 8
        writer.linger = 0.0
        started = time.monotonic()
        writer.write_sync(_events(1))
        assert time.monotonic() - started < 0.25


# -- the journal ---------------------------------------------------------------

# A writer that loads the store only when asked to (by a read, a commit, stop).
_LAZY = {"load_events": 10**9, "load_seconds": 3600.0}


def _wait_for(condition: Any, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.005)


def test_a_journaled_event_is_acknowledged_before_it_is_loaded_and_a_read_loads_it(
    tmp_path: Path,
) -> None:
    with _running(tmp_path / "f.duckdb", journal=True, **_LAZY) as (store, writer):
        assert writer.write_sync(_events(3)) == [1, 2, 3]
        assert writer.write_sync(_events(1)) == [4]
        assert (writer.health.loads, writer.health.pending_events) == (0, 4)
        assert writer.health.journaled_events == 4
        assert store.query("SELECT count(*) FROM events") == [(4,)]  # the barrier loaded them
        assert (writer.health.loads, writer.health.pending_events) == (1, 0)
        store.query("SELECT count(*) FROM events")
        assert writer.health.loads == 1  # nothing pending: a read costs no load


def test_the_store_is_loaded_in_bulk_once_enough_events_wait_or_the_oldest_is_old(
    tmp_path: Path,
) -> None:
    with _running(tmp_path / "f.duckdb", journal=True, load_events=50, load_seconds=3600) as (
        _,
        writer,
    ):
        for _ in range(49):
            writer.write_sync(_events(1))
        assert writer.health.loads == 0
        writer.write_sync(_events(1))
        _wait_for(lambda: writer.health.loads == 1)
        assert writer.health.pending_events == 0
    with _running(tmp_path / "g.duckdb", journal=True, load_events=10**9, load_seconds=0.05) as (
        _,
        writer,
    ):
        writer.write_sync(_events(1))
        _wait_for(lambda: writer.health.loads == 1)


def test_a_read_on_the_writer_thread_itself_loads_there_and_sees_the_group(
    tmp_path: Path,
) -> None:
    """A commit observer that reads the store (the /visit counter does) must neither
    deadlock nor miss the group it observes."""
    seen: list[int] = []
    with _running(tmp_path / "f.duckdb", journal=True, **_LAZY) as (store, writer):
        writer.observers.append(
            lambda events, seqs: seen.append(store.query("SELECT count(*) FROM events")[0][0])
        )
        writer.write_sync(_events(1))
        writer.write_sync(_events(2))
    assert seen == [1, 3]


def test_reads_never_hang_after_stop_and_see_every_acknowledged_event(tmp_path: Path) -> None:
    path = tmp_path / "f.duckdb"
    with _running(path, journal=True, **_LAZY) as (store, writer):
        writer.write_sync(_events(5))
        writer.stop()  # loads what is pending
        assert store.query("SELECT count(*) FROM events") == [(5,)]
        with pytest.raises(StoreUnavailable, match="shutting down"):
            writer.write_sync(_events(1))


def test_client_ids_and_big_requests_commit_after_the_pending_events(tmp_path: Path) -> None:
    with _running(tmp_path / "f.duckdb", journal=True, **_LAZY) as (store, writer):
        journaled = _events(3)
        assert writer.write_sync(journaled) == [1, 2, 3]
        with_ids = _events(2, client_ids=True)
        assert writer.write_sync(with_ids) == [4, 5]  # one transaction: 1-3, then these
        assert writer.health.loads == 1 and writer.health.pending_events == 0
        assert writer.write_sync(with_ids) == [None, None]
        assert writer.write_sync(_events(1)) == [6]
        big = _events(writer.direct_events)
        seqs = writer.write_sync(big)
        assert seqs == list(range(7, 7 + len(big)))
        assert writer.health.journaled_events == 4
        rows = _stored(store)
    expected = [e.id for e in [*journaled, *with_ids]] + [rows[5][1]] + [e.id for e in big]
    assert [seq for seq, _ in rows] == list(range(1, len(expected) + 1))
    assert [uid for _, uid in rows] == expected


class _FlakyStore(DuckDBStore):
    """A DuckDB store whose appends fail on demand, before or after storing."""

    fail: str | None = None  # "before": nothing stored; "after": stored, reported failed

    def append(self, events: Any, first_seq: int) -> list[int | None]:
        if self.fail == "before":
            raise StoreUnavailable("the disk is on fire")
        seqs = super().append(events, first_seq)
        if self.fail == "after":
            raise StoreUnavailable("the disk caught fire after the commit")
        return seqs


def test_a_failed_load_keeps_the_events_acknowledged_and_is_retried(tmp_path: Path) -> None:
    path = tmp_path / "f.duckdb"
    store = _FlakyStore(path)
    store.open()
    writer = Writer(
        store, journal=Journal(tmp_path / "f.journal"), load_events=5, load_seconds=0.02
    )
    writer.start()
    try:
        store.fail = "before"
        assert writer.write_sync(_events(10)) == list(range(1, 11))  # acknowledged all the same
        _wait_for(lambda: writer.health.failed_loads >= 2)  # retried, with a backoff
        assert not writer.health.ok and "on fire" in (writer.health.last_error or "")
        assert writer.health.last_load_error and writer.health.pending_events == 10
        with pytest.raises(StoreUnavailable, match=r"cannot load acknowledged events.*on fire"):
            store.query("SELECT count(*) FROM events")  # a read cannot see them: it says so
        store.fail = None
        _wait_for(lambda: writer.health.pending_events == 0)
        assert writer.health.ok and writer.health.last_load_error is None
        assert [seq for seq, _ in _stored(store)] == list(range(1, 11))

        store.fail = "after"  # stored, but reported failed: the retry must not store it twice
        assert writer.write_sync(_events(5)) == list(range(11, 16))
        _wait_for(lambda: writer.health.failed_loads >= 3)
        store.fail = None
        assert writer.write_sync(_events(1)) == [16]
        assert [seq for seq, _ in _stored(store)] == list(range(1, 17))
    finally:
        writer.stop()
        store.close()


def test_a_failed_commit_of_client_ids_keeps_the_pending_events_and_seq_exact(
    tmp_path: Path,
) -> None:
    path = tmp_path / "f.duckdb"
    store = _FlakyStore(path)
    store.open()
    writer = Writer(store, journal=Journal(tmp_path / "f.journal"), **_LAZY)
    writer.start()
    try:
        assert writer.write_sync(_events(2)) == [1, 2]
        store.fail = "after"  # the commit of 1-2 and these stores them, then fails
        with pytest.raises(StoreUnavailable):
            writer.write_sync(_events(2, client_ids=True))
        store.fail = None
        assert writer.write_sync(_events(1)) == [5]  # 3-4 were stored: never handed out again
        assert [seq for seq, _ in _stored(store)] == [1, 2, 3, 4, 5]
    finally:
        writer.stop()
        store.close()


def test_acknowledged_events_survive_a_crash_before_their_load(tmp_path: Path) -> None:
    """A copy of the files taken while events are journaled but not loaded is what a
    crash leaves; a writer started on it loads them, once."""
    live, crashed = tmp_path / "live", tmp_path / "crashed"
    live.mkdir()
    with _running(live / "f.duckdb", journal=True, **_LAZY) as (_, writer):
        writer.write_sync(_events(3, client_ids=True))  # committed: 1-3
        acked = _events(4)
        assert writer.write_sync(acked[:2]) == [4, 5]
        assert writer.write_sync(acked[2:]) == [6, 7]
        assert writer.health.pending_events == 4
        shutil.copytree(live, crashed)
    journal = crashed / "f.duckdb.journal"
    shutil.copytree(journal, tmp_path / "journal-at-the-crash")
    for attempt in range(2):
        with _running(crashed / "f.duckdb", journal=True, **_LAZY) as (store, writer):
            rows = _stored(store)
            assert [seq for seq, _ in rows] == list(range(1, 8 + attempt))
            assert [uid for _, uid in rows[3:7]] == [e.id for e in acked]
            assert writer.write_sync(_events(1)) == [8 + attempt]
        # Once more, as if emptying the journal after the replay had not reached the
        # disk: replaying it again stores nothing twice.
        shutil.rmtree(journal)
        shutil.copytree(tmp_path / "journal-at-the-crash", journal)
