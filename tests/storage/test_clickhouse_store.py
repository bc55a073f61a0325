"""The ClickHouse store's own promises, on chDB (and a server when one is configured).

Its query answers are proven by the store-parametrised suite and the
cross-store test; here: store URLs, the schema and its versions, the writer's
contract (batches, client-id retries, seq), awkward values, and the cluster DDL.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from footfall.model import Event
from footfall.storage.base import StoreUnavailable
from footfall.storage.clickhouse_schema import CLICKHOUSE_MIGRATIONS, LATEST_VERSION, Layout
from footfall.storage.clickhouse_store import ClickHouseStore
from footfall.storage.factory import StoreUrlError, create_store, parse_store_url
from footfall.storage.migrations import LATEST_VERSION as DUCKDB_LATEST
from footfall.writer import Writer
from tests.conftest import StoreMaker
from tests.storage.clickhouse_http import serving

only_clickhouse = pytest.mark.clickhouse_only


@pytest.fixture(scope="module")
def http_stand_in(chdb_root: Path) -> Iterator[str]:
    """host:port of a ClickHouse HTTP interface over this process's chDB (clickhouse_http.py)."""
    with serving(chdb_root) as host_port:
        yield host_port


@pytest.fixture(params=["direct", "http"])
def store(
    request: pytest.FixtureRequest, store_url: str, store_kind: str, http_stand_in: str
) -> Iterator[ClickHouseStore]:
    """The store of this kind; on chDB also through clickhouse-connect and the HTTP stand-in,
    so the clickhouse:// backend's code runs even where no ClickHouse server is."""
    if request.param == "http":
        if store_kind != "chdb":
            pytest.skip("a real server is tested directly")
        database = store_url.rsplit("database=", 1)[1]
        store_url = f"clickhouse://default:@{http_stand_in}/{database}"
    opened = create_store(store_url, Path("."))
    assert isinstance(opened, ClickHouseStore)
    opened.open()
    yield opened
    opened.close()


# -- URLs ------------------------------------------------------------------------------


def test_store_urls(tmp_path: Path) -> None:
    assert parse_store_url("duckdb", tmp_path).path == tmp_path / "footfall.duckdb"
    assert parse_store_url("chdb", tmp_path).path == tmp_path / "chdb"
    chdb = parse_store_url("chdb:///srv/ff?database=site_a", tmp_path)
    assert (chdb.path, chdb.database) == (Path("/srv/ff"), "site_a")
    server = parse_store_url(
        "clickhouse://me:p%40ss@ch.example:9000/stats?cluster=main&node=7", tmp_path
    )
    assert (server.host, server.port, server.username, server.password) == (
        "ch.example",
        9000,
        "me",
        "p@ss",
    )
    assert (server.database, server.cluster, server.node, server.secure) == (
        "stats",
        "main",
        7,
        False,
    )
    defaults = parse_store_url("clickhouse://ch.example?secure=true", tmp_path)
    assert (defaults.port, defaults.username, defaults.database, defaults.secure) == (
        8123,
        "default",
        "footfall",
        True,
    )


@pytest.mark.parametrize(
    ("url", "named"),
    [
        ("sqlite:///x", "unknown store"),
        ("chdb://relative/path", "three slashes"),
        ("chdb:///x?database=a-b", "database"),
        ("chdb:///x?cluster=c", "cluster"),
        ("clickhouse:///db", "no host"),
        ("clickhouse://h/db;drop", "database"),
        ("clickhouse://h/db?node=1024", "node"),
        ("clickhouse://h/db?cluster=x y", "cluster"),
    ],
)
def test_bad_store_urls_name_the_problem(url: str, named: str) -> None:
    with pytest.raises(StoreUrlError, match=named):
        parse_store_url(url, Path("."))


@only_clickhouse
def test_chdb_hosts_one_data_path_per_process(store_url: str, tmp_path: Path) -> None:
    if not store_url.startswith("chdb"):
        pytest.skip("about chDB")
    store = create_store(store_url, Path("."))
    try:
        with pytest.raises(StoreUnavailable, match="one data path per process"):
            create_store(f"chdb://{tmp_path / 'elsewhere'}", Path("."))
    finally:
        store.close()


def test_the_suite_really_runs_on_clickhouse(store_kind: str, services_store_kind: str) -> None:
    """The parametrised app fixtures run the store they are named after."""
    assert services_store_kind == ("duckdb" if store_kind == "duckdb" else "clickhouse")


@pytest.fixture
def services_store_kind(settings: object) -> str:
    from fastapi.testclient import TestClient

    from footfall.app import create_app

    with TestClient(create_app(settings)) as client:  # type: ignore[arg-type]
        dialect: str = client.app.state.services.store.dialect  # type: ignore[attr-defined]
    return dialect


# -- schema ----------------------------------------------------------------------------


@only_clickhouse
def test_schema_versions_mirror_duckdb(store: ClickHouseStore) -> None:
    assert [m.version for m in CLICKHOUSE_MIGRATIONS] == list(range(1, LATEST_VERSION + 1))
    assert LATEST_VERSION == DUCKDB_LATEST
    assert store.schema_version() == LATEST_VERSION
    rows = store.query("SELECT version FROM footfall_schema ORDER BY version")
    assert [r[0] for r in rows] == list(range(1, LATEST_VERSION + 1))


@only_clickhouse
def test_the_event_table_is_partitioned_by_month_and_sorted_for_the_dashboard(
    store: ClickHouseStore,
) -> None:
    rows = store.query(
        "SELECT engine, partition_key, sorting_key FROM system.tables "
        "WHERE database = currentDatabase() AND name = 'events'"
    )
    assert rows == [("MergeTree", "toYYYYMM(ts)", "app, toDate(ts), name, ts")]


@only_clickhouse
def test_an_old_database_migrates_forward_and_keeps_its_rows(store_maker: StoreMaker) -> None:
    url = store_maker.new()
    old = create_store(url, Path("."))
    assert isinstance(old, ClickHouseStore)
    # Build version 1 by hand, as an old footfall left it.
    for statement in old.layout.schema_table() + old.layout.statements(CLICKHOUSE_MIGRATIONS[0]):
        old.backend.command(statement)
    old.backend.command("INSERT INTO footfall_schema VALUES (1, 'v1', now64(6))")
    old.backend.command(
        "INSERT INTO events (app, seq, id, ts, name, visitor_id, props) "
        "VALUES ('a', 1, generateUUIDv4(), now64(6), 'pageview', 1, '{}')"
    )
    old.open()
    try:
        assert old.schema_version() == LATEST_VERSION
        assert old.query("SELECT seq, interactive FROM events") == [(1, True)]
        assert old.max_seq() == 1
    finally:
        old.close()


@only_clickhouse
def test_version_4_gives_stored_events_their_own_client_as_their_visits(
    store_maker: StoreMaker,
) -> None:
    """An exact backfill needs each visit's first event, which a mutation cannot join on a
    Distributed table: rows stored before read their own client as the visit's (a column
    DEFAULT) and keep their origin columns. New rows carry what ingest stamped."""
    url = store_maker.new()
    old = create_store(url, Path("."))
    assert isinstance(old, ClickHouseStore)
    old.backend.command(old.layout.schema_table()[0])
    for migration in CLICKHOUSE_MIGRATIONS[:3]:
        for statement in old.layout.statements(migration):
            old.backend.command(statement)
        old.backend.command(
            f"INSERT INTO footfall_schema VALUES ({migration.version}, 'v', now64(6))"
        )
    old.backend.command(
        "INSERT INTO events (app, seq, id, ts, name, session_id, visitor_id, browser, os, "
        "device, country, source, props) VALUES ('a', 1, generateUUIDv4(), now64(6), "
        "'pageview', 's', 1, 'Chrome', 'Windows', 'desktop', 'DE', 'Google', '{}')"
    )
    old.open()
    try:
        assert old.schema_version() == LATEST_VERSION
        stamped = Event(app="a", session_id="s", device="mobile", visit_device="desktop")
        assert old.append([stamped], 2) == [2]
        rows = old.query(
            "SELECT seq, visit_browser, visit_os, visit_os_version, visit_device, "
            "visit_country, device, source FROM events ORDER BY seq"
        )
        assert rows == [
            (1, "Chrome", "Windows", None, "desktop", "DE", "desktop", "Google"),
            (2, None, None, None, "desktop", None, "mobile", None),
        ]
    finally:
        old.close()


@only_clickhouse
def test_a_database_newer_than_this_footfall_is_refused(store: ClickHouseStore) -> None:
    store.backend.command(
        f"INSERT INTO footfall_schema VALUES ({LATEST_VERSION + 1}, 'x', now64(6))"
    )
    with pytest.raises(StoreUnavailable, match="newer than this footfall"):
        store.open()


# -- writing ---------------------------------------------------------------------------


@only_clickhouse
def test_batches_get_consecutive_seqs_and_retries_store_nothing_twice(
    store: ClickHouseStore,
) -> None:
    client = uuid.uuid4()
    first = [Event(app="a"), Event(app="a", id=client, client_id=True), Event(app="a")]
    assert store.append(first, 1) == [1, 2, 3]
    # The retry of the client's event, twice in one batch, and a fresh one.
    again = [
        Event(app="a", id=client, client_id=True),
        Event(app="a"),
        (twin := Event(app="a", id=uuid.uuid4(), client_id=True)),
        Event(app="a", id=twin.id, client_id=True),
    ]
    assert store.append(again, 4) == [None, 4, 5, None]
    assert store.max_seq() == 5
    rows = store.query("SELECT count(*), uniqExact(id) FROM events")
    assert rows == [(5, 5)]


@only_clickhouse
def test_the_writer_works_unchanged_on_clickhouse(store: ClickHouseStore) -> None:
    writer = Writer(store)
    writer.start()
    try:
        seqs = [writer.write_sync([Event(app="w", path=f"/{i}")]) for i in range(20)]
    finally:
        writer.stop()
    assert [s[0] for s in seqs] == list(range(1, 21))
    assert store.query("SELECT count(*) FROM events WHERE app = ?", ["w"]) == [(20,)]


@only_clickhouse
def test_several_nodes_number_events_without_colliding(store: ClickHouseStore) -> None:
    one = ClickHouseStore(store.backend, store.layout, node=1)
    two = ClickHouseStore(store.backend, store.layout, node=2)
    a = one.append([Event(app="n"), Event(app="n")], one.max_seq() + 1)
    b = two.append([Event(app="n")], two.max_seq() + 1)
    c = one.append([Event(app="n")], one.max_seq() + 1)
    assert a == [1025, 2049] and b == [3074] and c == [4097]
    assert all(seq % 1024 == node for seq, node in ((1025, 1), (3074, 2), (4097, 1)))
    with pytest.raises(ValueError, match="node"):
        ClickHouseStore(store.backend, store.layout, node=1024)


AWKWARD = [
    "tab\there",
    "new\nline",
    "back\\slash",
    "\\N",
    "quote ' and \"",
    "?",
    "{p0:String}",
    "emoji 🦶 and ÜBER",
    "",
]


@only_clickhouse
@pytest.mark.parametrize("value", AWKWARD)
def test_awkward_values_round_trip_and_bind(store: ClickHouseStore, value: str) -> None:
    event = Event(app="odd", path=value, user_id=value, props='{"k": "v"}', description=value)
    assert store.append([event], store.max_seq() + 1) != [None]
    rows = store.query(
        "SELECT path, user_id, description FROM events WHERE app = ? AND path = ?", ["odd", value]
    )
    assert rows == [(value, value, value)]


@only_clickhouse
def test_timestamps_keep_microseconds_and_come_back_naive_utc(store: ClickHouseStore) -> None:
    at = dt.datetime(2024, 2, 29, 23, 59, 59, 123456)
    us = int((at - dt.datetime(1970, 1, 1)).total_seconds() * 1_000_000)
    store.append([Event(app="t", ts=us)], 1)
    assert store.query("SELECT ts FROM events WHERE ts >= ?", [at]) == [(at,)]
    aware = at.replace(tzinfo=dt.UTC)
    assert store.query("SELECT count(*) FROM events WHERE ts = ?", [aware]) == [(1,)]


@only_clickhouse
def test_drop_counts_are_summed(store: ClickHouseStore) -> None:
    day = dt.date(2024, 3, 1)
    store.add_drop_counts([("a", day, "bot", 2), ("a", day, "spam_referrer", 1)])
    store.add_drop_counts([("a", day, "bot", 3)])
    rows = store.query(
        "SELECT reason, sum(n) FROM dropped_counts WHERE day >= ? GROUP BY reason ORDER BY reason",
        [day],
    )
    assert rows == [("bot", 5), ("spam_referrer", 1)]


# -- a cluster -------------------------------------------------------------------------


def test_cluster_ddl_replicates_each_table_and_distributes_reads_and_writes() -> None:
    layout = Layout("stats", cluster="main")
    statements = layout.statements(CLICKHOUSE_MIGRATIONS[0])
    local, distributed = statements[0], statements[1]
    assert local.startswith("CREATE TABLE IF NOT EXISTS stats.events_local ON CLUSTER main (")
    assert (
        "ENGINE = ReplicatedMergeTree('/clickhouse/tables/{shard}/stats/events_local', '{replica}')"
        in local
    )
    assert "PARTITION BY toYYYYMM(ts) ORDER BY (app, toDate(ts), name, ts)" in local
    assert distributed == (
        "CREATE TABLE IF NOT EXISTS stats.events ON CLUSTER main AS stats.events_local "
        "ENGINE = Distributed(main, stats, events_local, "
        "cityHash64(app, ifNull(session_id, toString(id))))"
    )
    assert "ReplicatedReplacingMergeTree" in statements[2]
    alters = layout.statements(CLICKHOUSE_MIGRATIONS[1])
    assert [a.split(" ADD")[0] for a in alters] == [
        "ALTER TABLE stats.events_local ON CLUSTER main",
        "ALTER TABLE stats.events ON CLUSTER main",
    ]
    assert "ReplicatedSummingMergeTree" in layout.statements(CLICKHOUSE_MIGRATIONS[2])[0]
    visit_columns = layout.statements(CLICKHOUSE_MIGRATIONS[3])
    assert [a.split(" ADD")[0] for a in visit_columns] == [
        "ALTER TABLE stats.events_local ON CLUSTER main",
        "ALTER TABLE stats.events ON CLUSTER main",
    ]
    assert all(a.count("ADD COLUMN IF NOT EXISTS visit_") == 6 for a in visit_columns)
    assert layout.create_database() == "CREATE DATABASE IF NOT EXISTS stats ON CLUSTER main"


# -- parameters ------------------------------------------------------------------------


def test_question_marks_become_typed_server_side_parameters() -> None:
    from clickhouse_connect.driver.binding import bind_query

    from footfall.storage.clickhouse_params import placeholders

    at = dt.datetime(2024, 1, 2, 3, 4, 5, 678901)
    sql, values = placeholders(
        "SELECT '?' AS literal, x FROM events WHERE app = ? AND ts >= ? AND id = ? LIMIT ?",
        ["a\tb", at, uuid.UUID(int=1), 5],
    )
    assert sql == (
        "SELECT '?' AS literal, x FROM events WHERE app = {p0:String} AND "
        "ts >= {p1:DateTime64(6, 'UTC')} AND id = {p2:UUID} LIMIT {p3:Int64}"
    )
    # clickhouse-connect sends them as HTTP parameters, never inside the SQL text.
    text, params = bind_query(sql, values)
    assert text == sql
    assert params["param_p1"] == "2024-01-02 03:04:05.678901"  # microseconds kept
    assert params["param_p2"] == "00000000-0000-0000-0000-000000000001"
    with pytest.raises(ValueError, match="parameters"):
        placeholders("SELECT ?", [])
    with pytest.raises(ValueError, match="parameters"):
        placeholders("SELECT 1", [1])


# -- over HTTP -------------------------------------------------------------------------


@only_clickhouse
def test_migrate_into_a_server_over_http_and_ask_it_everything(
    store_url: str, store_kind: str, http_stand_in: str, tmp_path: Path
) -> None:
    """`footfall migrate` into clickhouse:// (the stand-in over chDB, or a real server), then
    the same answers as the DuckDB source to every metric by a range of dimensions."""
    from click.testing import CliRunner

    from footfall.cli import main
    from footfall.query.registry import DIMENSIONS
    from footfall.storage.duckdb_store import DuckDBStore
    from tests.storage import crossstore_data as data

    source = DuckDBStore(tmp_path / "source.duckdb")
    source.open()
    data.load(source, data.generate(5_000, seed=3))
    source.close()
    if store_kind == "chdb":
        database = store_url.rsplit("database=", 1)[1]
        store_url = f"clickhouse://default:@{http_stand_in}/{database}"
    result = CliRunner().invoke(
        main, ["migrate", "--from", f"duckdb://{source.path}", "--to", store_url, "--batch", "1000"]
    )
    assert result.exit_code == 0, result.output
    assert "copied 5" in result.output and "counts match" in result.output
    target = create_store(store_url, Path("."))
    target.open()
    source.open()
    try:
        dims = sorted(DIMENSIONS)[::3]
        queries = [q for q in data.questions(dims) if not q.filters][:40]
        queries += [q for q in data.questions([]) if q.filters][::6]
        now = dt.datetime(2024, 7, 1, tzinfo=dt.UTC)
        assert data.differences({"duckdb": source, "http": target}, queries, now) == []
    finally:
        target.close()
        source.close()
    # And back, streamed out of the server in Arrow batches.
    back = CliRunner().invoke(
        main, ["migrate", "--from", store_url, "--to", f"duckdb://{tmp_path / 'back.duckdb'}"]
    )
    assert back.exit_code == 0, back.output
    assert "counts match" in back.output
