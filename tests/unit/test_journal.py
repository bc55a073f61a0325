"""footfall's journal file: records, torn tails, failed appends, replay into the store."""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import msgspec
import pytest
from pydantic import ValidationError

from footfall.journal import Journal, ReadResult, encode_record
from footfall.journal_replay import replay_journal
from footfall.model import Event
from footfall.services import Services, journal_path
from footfall.settings import Settings
from footfall.storage.base import StoreUnavailable
from footfall.storage.duckdb_store import DuckDBStore


def _events(count: int, tag: str = "e") -> list[Event]:
    return [
        Event(app="j", url=f"https://example.com/{tag}/{i}", path=f"/{tag}/{i}", props='{"k":1}')
        for i in range(count)
    ]


@pytest.fixture
def journal(tmp_path: Path) -> Iterator[Journal]:
    opened = Journal(tmp_path / "f.duckdb.journal")
    opened.open()
    yield opened
    opened.close()


def _file(journal: Journal, name: str = "0.log") -> Path:
    """The journal file appends go to (the first one, until a load rotates them)."""
    return journal.path / name


def _read(journal: Journal) -> tuple[list[tuple[int, list[Event]]], ReadResult]:
    result = ReadResult()
    return [(r.first_seq, r.events) for r in journal.records(result)], result


def _write_fds(path: Path) -> list[str]:
    """This process's descriptors of `path` that are open for writing."""
    found = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            if os.readlink(f"/proc/self/fd/{fd}") != str(path):
                continue
            flags = int(Path(f"/proc/self/fdinfo/{fd}").read_text().split()[3], 8)
        except (OSError, ValueError, IndexError):
            continue
        if flags & (os.O_WRONLY | os.O_RDWR):
            found.append(fd)
    return found


# -- the file ----------------------------------------------------------------


def test_records_read_back_as_written_every_field_included(journal: Journal) -> None:
    first, second = _events(3, "a"), _events(1, "b")
    first[0].user_id, first[0].duration, first[0].interactive = "u-1", 1.5, False
    journal.append(1, first)
    journal.append(4, second)
    records, result = _read(journal)
    assert [(seq, [msgspec.structs.asdict(e) for e in events]) for seq, events in records] == [
        (1, [msgspec.structs.asdict(e) for e in first]),
        (4, [msgspec.structs.asdict(e) for e in second]),
    ]
    assert result.records == 2 and result.dropped_bytes == 0
    assert journal.size == _file(journal).stat().st_size == result.valid_bytes
    assert _file(journal, "1.log").stat().st_size == 0


@pytest.mark.parametrize("cut", [1, 4, 8, 9, 20, -1], ids=lambda c: f"cut{c}")
def test_a_torn_last_record_is_dropped_and_the_others_kept(journal: Journal, cut: int) -> None:
    journal.append(1, _events(2, "a"))
    journal.append(3, _events(2, "b"))
    last = len(encode_record(5, _events(2, "c")))
    journal.append(5, _events(2, "c"))
    size = _file(journal).stat().st_size
    keep = size - last + (cut if cut > 0 else last + cut)  # a prefix of the last record
    os.truncate(_file(journal), keep)
    records, result = _read(journal)
    assert [seq for seq, _ in records] == [1, 3]
    assert result.dropped_bytes == keep - (size - last)


def test_a_corrupt_record_ends_the_journal_there(journal: Journal) -> None:
    for first in (1, 3, 5):
        journal.append(first, _events(2, str(first)))
    data = bytearray(_file(journal).read_bytes())
    second_starts = len(encode_record(1, _events(2, "1")))
    data[second_starts + 12] ^= 0x40  # one bit of the second record's payload
    _file(journal).write_bytes(bytes(data))
    records, result = _read(journal)
    assert [seq for seq, _ in records] == [1]
    assert result.dropped_bytes == len(data) - second_starts


def test_zeros_after_the_records_are_a_torn_tail_not_a_record(journal: Journal) -> None:
    journal.append(1, _events(1))
    with _file(journal).open("ab") as out:
        out.write(b"\0" * 64)  # what a file system may show after a power cut
    records, result = _read(journal)
    assert [seq for seq, _ in records] == [1] and result.dropped_bytes == 64


def test_a_failed_append_is_cut_back_off_the_file(
    journal: Journal, monkeypatch: pytest.MonkeyPatch
) -> None:
    journal.append(1, _events(2, "a"))
    good = _file(journal).stat().st_size

    def failing_fdatasync(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fdatasync", failing_fdatasync)
    with pytest.raises(StoreUnavailable, match="No space left on device"):
        journal.append(3, _events(2, "b"))
    assert _file(journal).stat().st_size == good
    assert _write_fds(_file(journal)) == [], "a failed journal still holds its file open"
    monkeypatch.undo()
    journal.append(3, _events(2, "c"))
    records, result = _read(journal)
    assert [(seq, [e.path for e in events]) for seq, events in records] == [
        (1, ["/a/0", "/a/1"]),
        (3, ["/c/0", "/c/1"]),
    ]
    assert result.dropped_bytes == 0


def test_an_append_that_cannot_be_cut_back_blocks_appends_until_it_is(
    journal: Journal, monkeypatch: pytest.MonkeyPatch
) -> None:
    journal.append(1, _events(1, "a"))
    good = _file(journal).stat().st_size
    real_ftruncate = os.ftruncate

    def no_fdatasync(fd: int) -> None:
        raise OSError(5, "Input/output error")

    def no_ftruncate(fd: int, length: int) -> None:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(os, "fdatasync", no_fdatasync)
    monkeypatch.setattr(os, "ftruncate", no_ftruncate)
    with pytest.raises(StoreUnavailable):
        journal.append(2, _events(1, "b"))
    assert _file(journal).stat().st_size > good  # the torn record is still there
    monkeypatch.setattr(os, "fdatasync", lambda fd: None)
    with pytest.raises(StoreUnavailable):  # nothing is appended behind it
        journal.append(2, _events(1, "c"))
    monkeypatch.setattr(os, "ftruncate", real_ftruncate)
    journal.append(2, _events(1, "d"))
    records, _ = _read(journal)
    assert [(seq, events[0].path) for seq, events in records] == [(1, "/a/0"), (2, "/d/0")]


def test_appends_take_turns_in_two_files_each_emptied_once_loaded(journal: Journal) -> None:
    journal.append(1, _events(2, "a"))  # 0.log
    journal.rotate()  # a load of seqs 1-2 starts
    journal.append(3, _events(2, "b"))  # 1.log
    journal.release(2)  # the load is done
    assert _file(journal).stat().st_size == 0 and _file(journal, "1.log").stat().st_size
    assert _write_fds(_file(journal)) == []
    journal.rotate()  # loading 3-4: back to the empty 0.log
    journal.append(5, _events(1, "c"))
    assert [seq for seq, _ in _read(journal)[0]] == [3, 5]
    journal.release(4)
    assert [seq for seq, _ in _read(journal)[0]] == [5]


def test_a_file_whose_load_failed_is_kept_and_appends_stay_in_the_other(
    journal: Journal,
) -> None:
    journal.append(1, _events(1, "a"))
    journal.rotate()  # load of 1 starts (and fails: nothing released)
    journal.append(2, _events(1, "b"))  # 1.log
    journal.rotate()  # the retry, of 1-2: 0.log is not empty, appends stay in 1.log
    journal.append(3, _events(1, "c"))
    assert _file(journal, "1.log").stat().st_size > _file(journal).stat().st_size
    journal.release(2)  # 0.log is all loaded, 1.log is not (3)
    assert _file(journal).stat().st_size == 0
    assert [(seq, events[0].path) for seq, events in _read(journal)[0]] == [
        (2, "/b/0"),
        (3, "/c/0"),
    ]


def test_reset_empties_the_file_and_lets_go_of_it(journal: Journal) -> None:
    journal.append(1, _events(3))
    assert _write_fds(_file(journal))
    journal.reset()
    assert journal.size == 0 and _file(journal).stat().st_size == 0
    assert _write_fds(_file(journal)) == []
    journal.append(4, _events(1))
    assert [seq for seq, _ in _read(journal)[0]] == [4]


def test_a_second_process_cannot_use_the_same_journal(journal: Journal) -> None:
    other = Journal(journal.path)
    with pytest.raises(StoreUnavailable, match="in use"):
        other.open()


def test_a_record_of_an_older_event_model_reads_with_defaults(journal: Journal) -> None:
    """Events are maps of their fields: a field added since takes its default."""
    import zlib

    old_event = {"app": "j", "id": uuid.uuid4().bytes, "ts": 1_700_000_000_000_000, "name": "x"}
    payload = msgspec.msgpack.encode((1, 7, [old_event]))
    length = len(payload).to_bytes(4, "little")
    crc = zlib.crc32(payload, zlib.crc32(length)).to_bytes(4, "little")
    _file(journal).write_bytes(length + crc + payload)
    [(seq, [event])] = _read(journal)[0]
    assert seq == 7 and event.name == "x" and event.props == "{}" and event.interactive


# -- replay ------------------------------------------------------------------


@pytest.fixture
def store(tmp_path: Path) -> Iterator[DuckDBStore]:
    opened = DuckDBStore(tmp_path / "f.duckdb")
    opened.open()
    yield opened
    opened.close()


def _rows(store: DuckDBStore) -> list[tuple[int, str]]:
    return [(int(s), str(p)) for s, p in store.query("SELECT seq, path FROM events ORDER BY seq")]


def test_replay_loads_what_the_store_lacks_once_and_drops_a_torn_tail(
    store: DuckDBStore, journal: Journal, caplog: pytest.LogCaptureFixture
) -> None:
    store.append(_events(3, "stored"), 1)  # seqs 1-3: loaded before the crash
    journal.append(1, _events(3, "stored"))
    journal.append(4, _events(2, "a"))
    journal.append(6, _events(1, "b"))
    with _file(journal).open("ab") as out:
        out.write(encode_record(7, _events(1, "torn"))[:-3])
    caplog.set_level(logging.INFO)
    assert replay_journal(store, journal) == 3
    assert "torn" in caplog.text
    assert journal.size == 0 and _file(journal).stat().st_size == 0
    expected = [(1, "/stored/0"), (2, "/stored/1"), (3, "/stored/2")]
    expected += [(4, "/a/0"), (5, "/a/1"), (6, "/b/0")]
    assert _rows(store) == expected


def test_replay_twice_stores_nothing_twice(store: DuckDBStore, journal: Journal) -> None:
    journal.append(1, _events(2, "a"))
    journal.append(3, _events(2, "b"))
    saved = _file(journal).read_bytes()
    assert replay_journal(store, journal) == 4
    # As if the process died after loading, before the truncation reached the disk.
    _file(journal).write_bytes(saved)
    reopened = Journal(journal.path)
    journal.close()
    reopened.open()
    try:
        assert replay_journal(store, reopened) == 0
    finally:
        reopened.close()
    assert [seq for seq, _ in _rows(store)] == [1, 2, 3, 4]


def test_replay_of_a_record_half_in_the_store_loads_the_other_half(
    store: DuckDBStore, journal: Journal
) -> None:
    store.append(_events(2, "a"), 1)
    journal.append(1, _events(4, "a"))  # seqs 1-4; the store has 1-2
    assert replay_journal(store, journal) == 2
    assert _rows(store) == [(1, "/a/0"), (2, "/a/1"), (3, "/a/2"), (4, "/a/3")]


# -- settings and services ---------------------------------------------------


def test_footfall_journal_takes_on_or_off_and_says_so_otherwise() -> None:
    assert Settings().journal == "on"
    assert Settings(journal="OFF").journal == "off"
    with pytest.raises(ValidationError, match=r"must be 'on'.*or 'off'.*not 'sometimes'"):
        Settings(journal="sometimes")


def test_the_journal_lives_next_to_its_store(tmp_path: Path) -> None:
    assert journal_path(Settings(data_dir=tmp_path)) == tmp_path / "footfall.duckdb.journal"
    assert journal_path(Settings(store="duckdb:///srv/x/a.duckdb")) == Path(
        "/srv/x/a.duckdb.journal"
    )
    assert journal_path(Settings(data_dir=tmp_path, store="chdb")) == tmp_path / (
        "chdb-footfall.journal"
    )
    assert journal_path(Settings(store="clickhouse://u:p@ch:8123/db?node=1")) is None


def test_with_the_journal_off_a_journal_left_by_an_earlier_run_is_loaded(tmp_path: Path) -> None:
    path = journal_path(Settings(data_dir=tmp_path))
    assert path is not None
    earlier = Journal(path)
    earlier.open()
    earlier.append(1, _events(2, "left"))
    earlier.close()
    services = Services.start(Settings(data_dir=tmp_path, journal="off"))
    try:
        assert services.writer.journal is None
        rows = services.store.query("SELECT seq, path FROM events ORDER BY seq")
        assert [(int(s), p) for s, p in rows] == [(1, "/left/0"), (2, "/left/1")]
        assert services.writer.write_sync(_events(1, "new")) == [3]
    finally:
        services.stop()
    assert all(file.stat().st_size == 0 for file in path.iterdir())
