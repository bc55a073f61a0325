"""footfall's own write-ahead journal: where single events become durable before the store.

A DuckDB commit costs ~4 ms of CPU whatever its size; appending a few KB to a
file and `fdatasync`ing it costs ~0.3 ms of wall time and ~0.07 ms of CPU. So
the writer makes a group of small requests durable here, acknowledges them,
and loads the store later in bulk (writer.py). This module is only the file.

One file, `<store>.journal`, next to the store it belongs to. A record is one
group of events, already numbered:

    u32 length | u32 CRC32 | msgpack [version, first_seq, [event, ...]]

(little-endian; the CRC covers the length and the payload). Events are
encoded by msgspec as maps, field by field, so a journal written by an older
footfall is read by a newer one whose `Event` has more fields (they take
their defaults).

A record is acknowledged only after `fdatasync` returns, so a record that is
cut short or fails its CRC was never acknowledged: reading stops there and
the rest of the file is dropped (a torn tail). An append that fails is cut
back off the file before anything else is appended, so a torn record is only
ever the last one. After the writer has loaded every record into the store,
the file is truncated; records the store already holds (a truncation lost in
a crash) are recognised by their `seq` when replayed and skipped.
"""

from __future__ import annotations

import fcntl
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


class Journal:
    """The append-only journal file of one store. Used by the writer thread only."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock_fd: int | None = None  # held open (read-only) while the journal is in use
        self._fd: int | None = None  # for appending; opened on demand, closed when emptied
        self._size = 0  # bytes of complete, fsync'd records
        # An append failed and could not be cut back off the file: nothing more may be
        # appended until it is (or the tail would hide every later record from replay).
        self._dirty = False

    # -- lifecycle -----------------------------------------------------------

    def open(self) -> None:
        """Create the file if needed (durably) and lock it against a second process."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            created = not self.path.exists()
            fd = os.open(self.path, os.O_RDONLY | os.O_CREAT | os.O_CLOEXEC, 0o644)
        except OSError as exc:
            raise StoreUnavailable(f"cannot open the journal {self.path}: {exc}") from exc
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            os.close(fd)
            raise StoreUnavailable(
                f"the journal {self.path} is in use by another footfall process"
            ) from exc
        self._lock_fd = fd
        if created:
            _fsync_dir(self.path.parent)  # the file itself must survive a power cut
        self._size = os.fstat(fd).st_size

    def close(self) -> None:
        self._close_writer()
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    @property
    def size(self) -> int:
        """Bytes of records in the file (0 once emptied)."""
        return self._size

    def records(self, result: ReadResult | None = None) -> Iterator[Record]:
        """Every valid record in the file, oldest first (see `read_records`)."""
        with self.path.open("rb") as stream:
            yield from read_records(stream, result)

    # -- appending -----------------------------------------------------------

    def append(self, first_seq: int, events: Sequence[Event]) -> None:
        """Append one record and fdatasync it; StoreUnavailable (nothing appended) if not."""
        data = encode_record(first_seq, events)
        try:
            fd = self._writer()
            view = memoryview(data)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            os.fdatasync(fd)
        except OSError as exc:
            self._cut_back()
            raise StoreUnavailable(f"cannot write the journal {self.path}: {exc}") from exc
        self._size += len(data)

    def reset(self) -> None:
        """Empty the file: every record in it is in the store now.

        Not fsync'd: should the truncation be lost in a crash, replay finds the
        records in the store already (by `seq`) and skips them.
        """
        if self._size == 0 and not self._dirty:
            self._close_writer()
            return
        try:
            fd = self._fd if self._fd is not None else self._open_writer()
            os.ftruncate(fd, 0)
        except OSError as exc:
            # Harmless for now (replay skips what is stored); tried again next time.
            log.warning("cannot empty the journal %s: %s", self.path, exc)
            return
        self._size = 0
        self._dirty = False
        # Nothing stays open for writing while the journal is idle (a file system
        # cannot be remounted read-only under a file open for writing).
        self._close_writer()

    def _writer(self) -> int:
        if self._dirty:
            fd = self._fd if self._fd is not None else self._open_writer()
            os.ftruncate(fd, self._size)  # OSError: still dirty, the append fails
            self._dirty = False
        return self._fd if self._fd is not None else self._open_writer()

    def _open_writer(self) -> int:
        self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CLOEXEC)
        return self._fd

    def _cut_back(self) -> None:
        """Remove whatever a failed append left after the last good record."""
        if self._fd is None:
            return  # it failed to open: nothing was written
        self._dirty = True
        try:
            os.ftruncate(self._fd, self._size)
            self._dirty = False
        except OSError as exc:
            log.error("cannot cut a failed append off the journal %s: %s", self.path, exc)
        # Let go of the file (the next append reopens it), as the store does after a
        # failed commit, so that a full or failing disk can be dealt with meanwhile.
        self._close_writer()

    def _close_writer(self) -> None:
        if self._fd is not None:
            fd, self._fd = self._fd, None
            try:
                os.close(fd)
            except OSError as exc:
                log.warning("closing the journal %s: %s", self.path, exc)


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
