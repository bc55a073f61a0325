"""`footfall migrate --from URL --to URL`: copy every event from one store into another."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from footfall.journal import Journal, JournalCorrupt
from footfall.journal_replay import replay_journal
from footfall.services import journal_path
from footfall.settings import Settings
from footfall.storage import copying
from footfall.storage.base import Store, StoreUnavailable
from footfall.storage.factory import StoreUrlError, create_store


def _open(url: str, data_dir: Path, what: str, cluster: str | None = None) -> Store:
    try:
        store = create_store(url, data_dir, cluster=cluster)
    except StoreUrlError as exc:
        raise click.BadParameter(str(exc), param_hint=what) from None
    except StoreUnavailable as exc:
        raise click.ClickException(f"{what}: {exc}") from None
    try:
        store.open()
    except StoreUnavailable as exc:
        store.close()
        raise click.ClickException(f"{what}: {exc}") from None
    return store


def _replay(source: Store, url: str, data_dir: Path) -> None:
    """Load into `source` the events its journal holds: a server killed before it loaded
    them acknowledged them all the same (docs/durability.md), so they must be copied too.
    The journal's lock refuses this while a server still runs on the store."""
    path = journal_path(Settings(store=url, data_dir=data_dir))
    if path is None or not path.is_dir():
        return
    journal = Journal(path)
    try:
        journal.open()
        try:
            loaded = replay_journal(source, journal)
        finally:
            journal.close()
    except (StoreUnavailable, JournalCorrupt) as exc:
        raise click.ClickException(f"--from: {exc}") from None
    if loaded:
        click.echo(f"loaded {loaded} journaled events into --from first", err=True)


@click.command()
@click.option(
    "--from",
    "source_url",
    required=True,
    help="Store to copy from, e.g. duckdb:///srv/footfall.duckdb or chdb:///srv/chdb.",
)
@click.option(
    "--to",
    "target_url",
    required=True,
    help="Store to copy into (created; must hold no events), e.g. "
    "clickhouse://user:password@host:8123/footfall.",
)
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("./footfall-data"),
    show_default=True,
    help="Data directory that a bare `duckdb` or `chdb` URL refers to.",
)
@click.option(
    "--batch",
    type=click.IntRange(1_000, 1_000_000),
    default=100_000,
    show_default=True,
    help="Events per insert.",
)
@click.option(
    "--cluster",
    default=None,
    help="Create the target's tables ON CLUSTER this ClickHouse cluster "
    "(ReplicatedMergeTree + Distributed).",
)
def migrate(
    source_url: str, target_url: str, data_dir: Path, batch: int, cluster: str | None
) -> None:
    """Copy every event (and client ids, drop counts) from one store into another.

    Streams in batches with a progress bar, keeps every event's seq and id, then
    checks that both stores hold the same number of events per app and day.
    Stop the servers of both stores first.
    """
    source = _open(source_url, data_dir, "--from")
    try:
        _replay(source, source_url, data_dir)
    except BaseException:
        source.close()
        raise
    try:
        target = _open(target_url, data_dir, "--to", cluster)
    except BaseException:
        source.close()
        raise
    try:
        if (already := copying.count(target, "events")) > 0:
            raise click.ClickException(
                f"--to already holds {already} events: migrate copies into an empty store"
            )
        with copying.Writer(target) as writer:
            for table in copying.TABLES:
                total = copying.count(source, table)
                with click.progressbar(
                    length=total, label=f"{table:<16}", file=sys.stderr, show_pos=True
                ) as bar:
                    for part in copying.read(source, table, batch):
                        writer.write(table, part)
                        bar.update(part.num_rows)
        _verify(source, target)
    except StoreUnavailable as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        target.close()
        source.close()


def _verify(source: Store, target: Store) -> None:
    expected, copied = copying.day_counts(source), copying.day_counts(target)
    if expected != copied:
        missing = sorted(set(expected) ^ set(copied))[:5]
        raise click.ClickException(
            "the copy differs from the source in events per app and day, e.g. "
            + ", ".join(f"{app} {day}: {n}" for app, day, n in missing)
        )
    events = sum(n for _app, _day, n in expected)
    apps = len({app for app, _day, _n in expected})
    click.echo(f"copied {events} events of {apps} apps over {len(expected)} app-days; counts match")
