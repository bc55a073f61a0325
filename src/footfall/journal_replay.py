"""Start-up: load what the journal holds and the store does not, then empty it.

Run before the writer takes any write (services.py) and by `footfall migrate`
on its source, so that events a killed server acknowledged but had not loaded
yet are never lost (docs/durability.md).
"""

from __future__ import annotations

import logging

from footfall.journal import Journal, ReadResult
from footfall.model import Event
from footfall.storage.base import Store

log = logging.getLogger(__name__)

# Replay loads the journal into the store in chunks of at most this many events.
REPLAY_CHUNK = 10_000


def replay_journal(store: Store, journal: Journal) -> int:
    """Load the journal's events that the store does not hold yet, then empty it.

    Events are recognised by `seq`: those above the store's highest are loaded
    (with their own seqs), the others were loaded before. A torn or corrupt
    tail was never acknowledged and is dropped. Returns how many were loaded.
    """
    if journal.size == 0:
        return 0
    top = store.max_seq()
    loaded = skipped = 0
    chunk: list[Event] = []
    chunk_first = 0

    def flush() -> None:
        nonlocal loaded
        if chunk:
            seqs = store.append(chunk, chunk_first)
            if seqs != list(range(chunk_first, chunk_first + len(chunk))):
                log.error(
                    "replay: the store numbered events %s…, expected %d…", seqs[:3], chunk_first
                )
            loaded += len(chunk)
            chunk.clear()

    result = ReadResult()
    for record in journal.records(result):
        for offset, event in enumerate(record.events):
            seq = record.first_seq + offset
            if seq <= top:
                skipped += 1
                continue
            if chunk and seq != chunk_first + len(chunk):
                log.warning(
                    "replay: journal seqs jump from %d to %d", chunk_first + len(chunk) - 1, seq
                )
                flush()
            if not chunk:
                chunk_first = seq
            chunk.append(event)
            top = seq
            if len(chunk) >= REPLAY_CHUNK:
                flush()
    flush()
    if result.dropped_bytes:
        log.warning(
            "journal %s: dropped a torn or corrupt tail of %d bytes after %d records "
            "(written when the process died, never acknowledged)",
            journal.path,
            result.dropped_bytes,
            result.records,
        )
    log.info(
        "journal %s replayed: %d events loaded into the store, %d were there already",
        journal.path,
        loaded,
        skipped,
    )
    journal.reset()
    return loaded
