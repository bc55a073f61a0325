"""footfall's own write-ahead journal: where single events become durable before the store.

A DuckDB commit costs ~4 ms of CPU whatever its size; appending a few KB to a
file and `fdatasync`ing it costs ~0.3 ms of wall time and ~0.07 ms of CPU. So
the writer makes a group of small requests durable here, acknowledges them,
and loads the store later in bulk (writer.py). This module is only the file.

A directory, `<store>.journal/`, next to the store it belongs to, with two
files the appends take turns in (see `Journal`). A record is one group of
events, already numbered:

    u32 length | u32 CRC32 | msgpack [version, first_seq, [event, ...]]

(little-endian; the CRC covers the length and the payload). Events are
encoded by msgspec as maps, field by field, so a journal written by an older
footfall is read by a newer one whose `Event` has more fields (they take
their defaults).

A record is acknowledged only after `fdatasync` returns, so a record that is
cut short or fails its CRC was never acknowledged: reading stops there and
the rest of the file is dropped (a torn tail). An append that fails is cut
back off the file before anything else is appended, so a torn record is only
ever the last one. Once the writer has loaded every record of a file into the
store, the file is truncated; records the store already holds (a truncation
lost in a crash) are recognised by their `seq` when replayed and skipped.
"""

from __future__ import annotations

import fcntl
import heapq
import logging
import os
import struct
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import msgspec

from footfall.model import Event
from footfall.storage.base import StoreUnavailable

log = logging.getLogger(__name__)

FORMAT_VERSION = 1
_HEADER = struct.Struct("<II")  # payload length, CRC32 of (length bytes + payload)
# No record is bigger than this (10,000 events of a few KB each at most): a larger
# length is a corrupt header, not a record to allocate memory for.
MAX_RECORD_BYTES = 1 << 30


class JournalCorrupt(Exception):
    """A journal that cannot be read at all (not a torn tail: the file itself)."""


@dataclass(frozen=True, slots=True)
class Record:
    first_seq: int
    events: list[Event]


_encoder = msgspec.msgpack.Encoder(uuid_format="bytes")
_decoder = msgspec.msgpack.Decoder(tuple[int, int, list[Event]])


def encode_record(first_seq: int, events: Sequence[Event]) -> bytes:
    """The bytes of one record: header and payload."""
    payload = _encoder.encode((FORMAT_VERSION, first_seq, events))
    length = len(payload)
    crc = zlib.crc32(payload, zlib.crc32(length.to_bytes(4, "little")))
    return _HEADER.pack(length, crc) + payload


@dataclass
class ReadResult:
    records: int = 0
    valid_bytes: int = 0
    dropped_bytes: int = 0  # a torn or corrupt tail, never acknowledged


def read_records(stream: BinaryIO, result: ReadResult | None = None) -> Iterator[Record]:
    """The valid records of `stream` in order; stops at the first torn or corrupt one.

    `result`, when given, is filled in as records are read: how many, and how
    many bytes at the end were dropped.
    """
    result = result if result is not None else ReadResult()
    while True:
        header = stream.read(_HEADER.size)
        if not header:
            return
        if len(header) < _HEADER.size:
            result.dropped_bytes = len(header) + len(stream.read())
            return
        length, crc = _HEADER.unpack(header)
        if length > MAX_RECORD_BYTES:
            result.dropped_bytes = len(header) + len(stream.read())
            return
        payload = stream.read(length)
        if len(payload) < length or zlib.crc32(payload, zlib.crc32(header[:4])) != crc:
            result.dropped_bytes = len(header) + len(payload) + len(stream.read())
            return
        try:
            version, first_seq, events = _decoder.decode(payload)
        except msgspec.DecodeError:
            result.dropped_bytes = len(header) + len(payload) + len(stream.read())
            return
        if version != FORMAT_VERSION:
            raise JournalCorrupt(
                f"journal record format {version} is not one this footfall reads "
                f"({FORMAT_VERSION}); run the footfall that wrote it to load it"
            )
        result.records += 1
        result.valid_bytes += len(header) + length
        yield Record(first_seq, events)


class _Segment:
    """One file of the journal: appended to by one thread, emptied once loaded."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.lock_fd: int | None = None  # held open (read-only) while the journal is in use
        self.fd: int | None = None  # for appending; opened on demand, closed when emptied
        self.size = 0  # bytes of complete, fsync'd records
        self.last_seq = 0  # the highest seq of a record appended since it was last emptied
        # An append failed and could not be cut back off the file: nothing more may be
        # appended until it is (or the tail would hide every later record from replay).
        self.dirty = False

    def open(self) -> None:
        fd = os.open(self.path, os.O_RDONLY | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            os.close(fd)
            raise StoreUnavailable(
                f"the journal {self.path} is in use by another footfall process"
            ) from exc
        self.lock_fd = fd
        self.size = os.fstat(fd).st_size

    def close(self) -> None:
        self.close_writer()
        if self.lock_fd is not None:
            os.close(self.lock_fd)
            self.lock_fd = None

    def append(self, data: bytes, last_seq: int) -> None:
        """Append `data` (whole records) and fdatasync; OSError (nothing appended) if not."""
        try:
            fd = self._writer()
            view = memoryview(data)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            os.fdatasync(fd)
        except OSError:
            self._cut_back()
            raise
        self.size += len(data)
        self.last_seq = max(self.last_seq, last_seq)

    def empty(self) -> bool:
        """Truncate to nothing; False (logged, kept for later) when that fails."""
        if self.size == 0 and not self.dirty:
            self.close_writer()
            return True
        try:
            fd = self.fd if self.fd is not None else self._open_writer()
            os.ftruncate(fd, 0)
        except OSError as exc:
            # Harmless for now (replay skips what the store holds); tried again next time.
            log.warning("cannot empty the journal file %s: %s", self.path, exc)
            return False
        self.size = self.last_seq = 0
        self.dirty = False
        # Nothing stays open for writing while a file is idle (a file system cannot
        # be remounted read-only under a file open for writing).
        self.close_writer()
        return True

    def _writer(self) -> int:
        if self.dirty:
            fd = self.fd if self.fd is not None else self._open_writer()
            os.ftruncate(fd, self.size)  # OSError: still dirty, the append fails
            self.dirty = False
        return self.fd if self.fd is not None else self._open_writer()

    def _open_writer(self) -> int:
        self.fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CLOEXEC)
        return self.fd

    def _cut_back(self) -> None:
        """Remove whatever a failed append left after the last good record."""
        if self.fd is None:
            return  # it failed to open: nothing was written
        self.dirty = True
        try:
            os.ftruncate(self.fd, self.size)
            self.dirty = False
        except OSError as exc:
            log.error("cannot cut a failed append off the journal %s: %s", self.path, exc)
        # Let go of the file (the next append reopens it), as the store does after a
        # failed commit, so that a full or failing disk can be dealt with meanwhile.
        self.close_writer()

    def close_writer(self) -> None:
        if self.fd is not None:
            fd, self.fd = self.fd, None
            try:
                os.close(fd)
            except OSError as exc:
                log.warning("closing the journal file %s: %s", self.path, exc)


SEGMENTS = ("0.log", "1.log")


class Journal:
    """The journal of one store: a directory of two files, appended to by the writer thread.

    Two, so that the store can be loaded while appends go on: when a load
    starts, appends move to the other file if it is empty (`rotate`); once the
    load is done, every file whose records are all in the store is emptied
    (`release`). With one load at a time the files take turns.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._segments = [_Segment(path / name) for name in SEGMENTS]
        self._current = 0

    # -- lifecycle -----------------------------------------------------------

    def open(self) -> None:
        """Create the files if needed (durably) and lock them against a second process."""
        opened: list[_Segment] = []
        try:
            created = not self.path.is_dir()
            self.path.mkdir(parents=True, exist_ok=True)
            if created:
                _fsync_dir(self.path.parent)  # the directory must survive a power cut…
            missing = any(not segment.path.exists() for segment in self._segments)
            for segment in self._segments:
                segment.open()
                opened.append(segment)
            if missing:
                _fsync_dir(self.path)  # …and so must the files in it
        except OSError as exc:
            for segment in opened:
                segment.close()
            raise StoreUnavailable(f"cannot open the journal {self.path}: {exc}") from exc
        except BaseException:
            for segment in opened:
                segment.close()
            raise
        # Append to an empty file where there is one (after a clean stop both are).
        self._current = 0 if self._segments[0].size == 0 else 1

    def close(self) -> None:
        for segment in self._segments:
            segment.close()

    @property
    def size(self) -> int:
        """Bytes of records in the journal (0 once emptied)."""
        return sum(segment.size for segment in self._segments)

    def records(self, result: ReadResult | None = None) -> Iterator[Record]:
        """Every valid record of the journal in `seq` order (see `read_records`); a torn
        tail of either file counts into `result.dropped_bytes`."""
        result = result if result is not None else ReadResult()
        per_file = [
            _file_records(segment.path, result)
            for segment in self._segments
            if segment.path.exists()
        ]
        yield from heapq.merge(*per_file, key=lambda record: record.first_seq)

    # -- appending -----------------------------------------------------------

    def append(self, first_seq: int, events: Sequence[Event]) -> int:
        """Append one record and fdatasync it; its size in bytes. StoreUnavailable
        (and nothing appended) if it cannot."""
        data = encode_record(first_seq, events)
        segment = self._segments[self._current]
        try:
            segment.append(data, first_seq + len(events) - 1)
        except OSError as exc:
            raise StoreUnavailable(f"cannot write the journal {segment.path}: {exc}") from exc
        return len(data)

    def rotate(self) -> None:
        """A load of everything appended so far starts: append to the other file from
        now on, if it is empty (else go on with this one)."""
        other = 1 - self._current
        if self._segments[other].size == 0 and not self._segments[other].dirty:
            self._current = other

    def release(self, loaded_seq: int) -> None:
        """Every event up to `loaded_seq` is in the store: empty the files holding no other.

        Not fsync'd: should an emptying be lost in a crash, replay finds the
        records in the store already (by `seq`) and skips them.
        """
        for segment in self._segments:
            if segment.size and segment.last_seq <= loaded_seq:
                segment.empty()

    def reset(self) -> None:
        """Empty every file (replay has loaded them)."""
        for segment in self._segments:
            segment.empty()


def _file_records(path: Path, result: ReadResult) -> Iterator[Record]:
    with path.open("rb") as stream:
        yield from read_records(stream, result)


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
