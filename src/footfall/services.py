"""The long-lived objects one server process holds, built from Settings."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from footfall.counters import PageviewCounter
from footfall.drops import DropLedger
from footfall.ingest.enrich.pipeline import Enricher
from footfall.settings import Settings
from footfall.storage.base import Store
from footfall.storage.factory import create_store
from footfall.writer import Writer


def open_store(settings: Settings) -> Store:
    """The store `settings.store` names, opened and migrated."""
    store = create_store(settings.store, settings.data_dir, cluster=settings.cluster)
    try:
        store.open()
    except BaseException:
        store.close()
        raise
    return store


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
        writer = Writer(
            store,
            max_batch=settings.writer_max_batch,
            linger=settings.writer_linger_ms / 1000,
        )
        pageviews = PageviewCounter(store)
        writer.observers.append(pageviews.observe)
        writer.start()
        enricher = Enricher(
            settings.data_dir, store_ip=settings.store_ip, geoip_db=settings.geoip_db
        )
        drops = DropLedger(store)
        drops.start()
        return cls(settings, store, writer, enricher, pageviews, drops)

    def stop(self) -> None:
        """Drain the writer (every queued event is committed), then close the store."""
        self.writer.stop()
        self.drops.stop()
        self.store.close()
