"""The long-lived objects one server process holds, built from Settings."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import ua_parser

from footfall.counters import PageviewCounter
from footfall.drops import DropLedger
from footfall.ingest.enrich.pipeline import Enricher
from footfall.ingest.enrich.referrer import referrer_source
from footfall.journal import Journal
from footfall.journal_replay import replay_journal
from footfall.model import Event
from footfall.settings import Settings
from footfall.storage.arrow_batch import events_to_arrow
from footfall.storage.base import Store
from footfall.storage.factory import create_store, parse_store_url
from footfall.writer import Writer


def open_store(settings: Settings) -> Store:
    """The store `settings.store` names, opened and migrated."""
    store = create_store(
        settings.store,
        settings.data_dir,
        cluster=settings.cluster,
        duckdb_memory_limit=settings.duckdb_memory_limit,
    )
    try:
        store.open()
    except BaseException:
        store.close()
        raise
    return store


def journal_path(settings: Settings) -> Path | None:
    """Where the journal of the store `settings` names lives; None where there is none.

    Next to the store: the directory `footfall.duckdb.journal` beside the DuckDB
    file, and `chdb-<database>.journal` beside a chDB directory. A clickhouse:// store has
    none: its footfall nodes are stateless (every acknowledged event is on the
    server), and with `node=N` the store's highest seq is every node's, so replay
    could not tell which of one node's journaled events the store holds.
    """
    url = parse_store_url(settings.store, settings.data_dir)
    if url.path is None or url.scheme not in ("duckdb", "chdb"):
        return None
    if url.scheme == "duckdb":
        return url.path.with_name(url.path.name + ".journal")
    return url.path.with_name(f"{url.path.name}-{url.database}.journal")


@dataclass
class Services:
    settings: Settings
    store: Store
    writer: Writer
    enricher: Enricher
    pageviews: PageviewCounter
    drops: DropLedger
    started_at: float = field(default_factory=time.time)

    @classmethod
    def start(cls, settings: Settings) -> Services:
        store = open_store(settings)
        try:
            journal = _journal(settings, store)
            writer = Writer(
                store,
                max_batch=settings.writer_max_batch,
                linger=settings.writer_linger_ms / 1000,
                journal=journal,
            )
            pageviews = PageviewCounter(store)
            writer.observers.append(pageviews.observe)
            writer.start()  # replays the journal before it takes any write
        except BaseException:
            store.close()
            raise
        enricher = Enricher(
            settings.data_dir, store_ip=settings.store_ip, geoip_db=settings.geoip_db
        )
        drops = DropLedger(store)
        drops.start()
        warm_up()
        return cls(settings, store, writer, enricher, pageviews, drops)

    def stop(self) -> None:
        """Drain the writer (every queued event is durable and loaded), then close the store."""
        self.writer.stop()
        self.drops.stop()
        self.store.close()


def warm_up() -> None:
    """Build what the libraries build lazily on first use, before any request.

    Done under traffic, the first event after a start waited 0.5-0.7 s (ua-parser's
    matchers, the referrer index), and the first bulk load spent ~0.3 s of the
    core importing pandas (pyarrow does, on its first array). Here it costs ~0.4 s
    of start-up, once per process.
    """
    ua_parser.parse("Mozilla/5.0")
    referrer_source("https://www.google.com/")
    events_to_arrow([Event()], [0])


def _journal(settings: Settings, store: Store) -> Journal | None:
    """The writer's journal, or None with FOOTFALL_JOURNAL=off or a store without one.

    Off, a journal left by an earlier run with it on is still loaded into the
    store (and emptied) first: its events were acknowledged.
    """
    path = journal_path(settings)
    if path is None:
        return None
    journal = Journal(path)
    if settings.journal == "on":
        return journal
    if path.is_dir():
        journal.open()
        try:
            replay_journal(store, journal)
        finally:
            journal.close()
    return None
