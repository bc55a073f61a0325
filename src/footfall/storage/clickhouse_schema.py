"""The ClickHouse schema (server and chDB) and its forward-only migrations.

Versions mirror the DuckDB store's (`storage/migrations.py`): version N means
the same columns on both engines, so `footfall migrate` copies between equal
schemas. ClickHouse has no DDL transactions, so every statement is written to
be harmless when run again (IF NOT EXISTS): a migration cut short by a crash
simply runs again at the next start.

One node: `MergeTree` tables. A cluster (`cluster=NAME` in the store URL, or
`footfall migrate --cluster NAME`): each table is a `ReplicatedMergeTree`
`<name>_local` on every node, created `ON CLUSTER`, plus a `Distributed` table
under the plain name that reads and writes all shards, so every query and
insert is the same text on one node and on a cluster.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple


class TableSpec(NamedTuple):
    name: str
    columns: str  # the column list, with indexes
    engine: str  # "MergeTree" or "ReplacingMergeTree"
    tail: str  # PARTITION BY / ORDER BY / SETTINGS
    shard_key: str  # the Distributed table's sharding expression


class ClickHouseMigration(NamedTuple):
    version: int
    description: str
    # Each step is a table to create, or an ALTER statement with a `{table}` slot
    # naming the table it alters (the _local table on a cluster, then the Distributed).
    creates: tuple[TableSpec, ...] = ()
    alters: tuple[tuple[str, str], ...] = ()  # (table, "ALTER TABLE {table} …")


# Version 1's columns, in the DuckDB table's order (written out: a released migration
# never changes, whatever the event model grows later).
_V1_COLUMNS = (
    "app String, seq Int64, id UUID, ts DateTime64(6, 'UTC'), name String, "
    "user_id Nullable(String), session_id Nullable(String), visitor_id UInt64, "
    "url Nullable(String), hostname Nullable(String), path Nullable(String), "
    "referrer Nullable(String), referrer_domain Nullable(String), source Nullable(String), "
    "utm_source Nullable(String), utm_medium Nullable(String), "
    "utm_campaign Nullable(String), utm_term Nullable(String), utm_content Nullable(String), "
    "browser Nullable(String), browser_version Nullable(String), os Nullable(String), "
    "os_version Nullable(String), device Nullable(String), country Nullable(String), "
    "ip Nullable(String), user_agent Nullable(String), duration Nullable(Float64), "
    "description Nullable(String), props String, "
    # Lookups by id (contract 002) and by seq (contract 003) skip most granules.
    "INDEX id_bloom id TYPE bloom_filter GRANULARITY 4, "
    "INDEX seq_minmax seq TYPE minmax GRANULARITY 1"
)

# The dashboard filters by app and date range first, then by event name: the sort key
# keeps one app's day of pageviews together, so those reads touch few granules.
_EVENTS = TableSpec(
    "events",
    _V1_COLUMNS,
    "MergeTree",
    "PARTITION BY toYYYYMM(ts) ORDER BY (app, toDate(ts), name, ts)",
    # A visit's events on one shard keeps per-visit work local; events without one spread.
    "cityHash64(app, ifNull(session_id, toString(id)))",
)

# Only client-supplied ids: footfall's own UUIDv7 ids are unique by construction.
_CLIENT_IDS = TableSpec(
    "client_event_ids",
    "id UUID",
    "ReplacingMergeTree",
    "ORDER BY id",
    "cityHash64(id)",
)

# Appended to, summed when read (footfall/drops.py); merges fold rows of one key.
_DROPPED_COUNTS = TableSpec(
    "dropped_counts",
    "app String, day Date, reason String, n Int64",
    "SummingMergeTree",
    "ORDER BY (app, day, reason)",
    "cityHash64(app)",
)

CLICKHOUSE_MIGRATIONS: tuple[ClickHouseMigration, ...] = (
    ClickHouseMigration(1, "event table and client-id dedup table", creates=(_EVENTS, _CLIENT_IDS)),
    ClickHouseMigration(
        2,
        "interactive flag (non-interactive events do not affect bounce)",
        alters=(
            (
                "events",
                "ALTER TABLE {table} ADD COLUMN IF NOT EXISTS interactive Bool DEFAULT true",
            ),
        ),
    ),
    ClickHouseMigration(
        3,
        "counts of events dropped on purpose (bots, unlisted apps, spam), by app, day, reason",
        creates=(_DROPPED_COUNTS,),
    ),
    ClickHouseMigration(
        4,
        "visit attributes on every event: the visit's origin in the origin columns, its "
        "client in visit_browser, visit_browser_version, visit_os, visit_os_version, "
        "visit_device, visit_country",
        alters=(
            (
                "events",
                # Rows stored before keep their origin columns as they were and read the
                # event's own client as the visit's (a DEFAULT, computed when read): an
                # exact backfill needs each visit's first event, a join a mutation cannot
                # make on a Distributed table (docs/scaling.md). New rows are stamped at
                # ingest, as on DuckDB.
                "ALTER TABLE {table} "
                "ADD COLUMN IF NOT EXISTS visit_browser Nullable(String) DEFAULT browser, "
                "ADD COLUMN IF NOT EXISTS visit_browser_version Nullable(String) "
                "DEFAULT browser_version, "
                "ADD COLUMN IF NOT EXISTS visit_os Nullable(String) DEFAULT os, "
                "ADD COLUMN IF NOT EXISTS visit_os_version Nullable(String) DEFAULT os_version, "
                "ADD COLUMN IF NOT EXISTS visit_device Nullable(String) DEFAULT device, "
                "ADD COLUMN IF NOT EXISTS visit_country Nullable(String) DEFAULT country",
            ),
        ),
    ),
)

LATEST_VERSION = CLICKHOUSE_MIGRATIONS[-1].version


@dataclass(frozen=True, slots=True)
class Layout:
    """Where the tables live: a database, on one node or on a named cluster."""

    database: str
    cluster: str | None = None
    # chDB keeps what it writes in the page cache like any process: fsync each insert
    # so an acknowledged event survives a power cut, not only a crash.
    fsync: bool = False

    @property
    def on_cluster(self) -> str:
        return f" ON CLUSTER {self.cluster}" if self.cluster else ""

    def schema_table(self) -> list[str]:
        """Statements creating the version table (idempotent)."""
        return self.create_table(
            TableSpec(
                "footfall_schema",
                "version UInt32, description String, applied_at DateTime64(6, 'UTC')",
                "MergeTree",
                "ORDER BY version",
                "version",
            )
        )

    def create_database(self) -> str:
        return f"CREATE DATABASE IF NOT EXISTS {self.database}{self.on_cluster}"

    def create_table(self, spec: TableSpec) -> list[str]:
        db = self.database
        settings = (
            " SETTINGS fsync_after_insert = 1, fsync_part_directory = 1" if self.fsync else ""
        )
        if not self.cluster:
            return [
                f"CREATE TABLE IF NOT EXISTS {db}.{spec.name} ({spec.columns}) "
                f"ENGINE = {spec.engine} {spec.tail}{settings}"
            ]
        local = f"{spec.name}_local"
        zk_path = f"'/clickhouse/tables/{{shard}}/{db}/{local}', '{{replica}}'"
        return [
            f"CREATE TABLE IF NOT EXISTS {db}.{local}{self.on_cluster} ({spec.columns}) "
            f"ENGINE = Replicated{spec.engine}({zk_path}) {spec.tail}",
            f"CREATE TABLE IF NOT EXISTS {db}.{spec.name}{self.on_cluster} "
            f"AS {db}.{local} ENGINE = Distributed({self.cluster}, {db}, {local}, "
            f"{spec.shard_key})",
        ]

    def alter_table(self, table: str, statement: str) -> list[str]:
        tables = [f"{table}_local", table] if self.cluster else [table]
        return [
            statement.format(table=f"{self.database}.{name}{self.on_cluster}") for name in tables
        ]

    def statements(self, migration: ClickHouseMigration) -> list[str]:
        out: list[str] = []
        for spec in migration.creates:
            out.extend(self.create_table(spec))
        for table, statement in migration.alters:
            out.extend(self.alter_table(table, statement))
        return out
