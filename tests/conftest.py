"""Shared fixtures: a real app on a real store in a temporary data dir.

The store-facing tests (storage, contracts, trackers, ingest) run once per
store: `duckdb` and `chdb` always, `clickhouse` too when
FOOTFALL_TEST_CLICKHOUSE_URL names a server (e.g. `clickhouse://default:@localhost:8123/`).
chDB hosts one data path per process, so every chDB test of this process
gets a database of its own inside one shared path; a server subprocess gets
a path of its own. Mark a test `@pytest.mark.duckdb_only` when it is about
the DuckDB file itself (durability on tmpfs, DuckDB migrations).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from fastapi.testclient import TestClient

from footfall.app import create_app
from footfall.services import Services
from footfall.settings import Settings
from tests.support.server import ServerProcess

CLICKHOUSE_URL = os.environ.get("FOOTFALL_TEST_CLICKHOUSE_URL", "")
STORES = ["duckdb", "chdb", *(["clickhouse"] if CLICKHOUSE_URL else [])]
# Tests under these paths run on every store; the rest on DuckDB only.
STORE_FACING = (
    "tests/storage/",
    "tests/contracts/",
    "tests/trackers/",
    "tests/unit/test_ingest_v1.py",
    "tests/unit/test_dashboard_http.py",
    "tests/unit/test_drops.py",
)
_ROOT = Path(__file__).resolve().parent.parent


# Each worker is a process with its own chDB (~300 MB) and real servers of its own;
# beyond a few, a big CI machine would trade memory for no gain.
MAX_WORKERS = 4


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    return max(1, min(MAX_WORKERS, os.cpu_count() or 1))


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "duckdb_only: about the DuckDB file itself; runs on the duckdb store only"
    )
    config.addinivalue_line(
        "markers", "clickhouse_only: about the ClickHouse store; runs on chdb (and clickhouse)"
    )


def stores_for(node: pytest.Item | pytest.Function | pytest.Module | None, path: Path) -> list[str]:
    relative = path.resolve().relative_to(_ROOT).as_posix()
    if not relative.startswith(STORE_FACING):
        return ["duckdb"]
    if node is not None and node.get_closest_marker("duckdb_only"):
        return ["duckdb"]
    if node is not None and node.get_closest_marker("clickhouse_only"):
        return [kind for kind in STORES if kind != "duckdb"]
    return STORES


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "store_kind" in metafunc.fixturenames:
        kinds = stores_for(metafunc.definition, Path(str(metafunc.definition.path)))
        metafunc.parametrize("store_kind", kinds, scope="module")


@pytest.fixture(scope="session")
def chdb_root(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """This process's one chDB data path, its engine kept up between tests."""
    import chdb

    root = tmp_path_factory.mktemp("chdb")
    # chDB shuts its engine down when its last connection closes and restarts it (~0.5 s)
    # on the next: one idle connection for the whole session spares every test that.
    anchor = chdb.connect(str(root.resolve()))
    yield root
    anchor.close()


def drop_database(url: str, database: str) -> None:
    from footfall.storage.factory import create_store

    store = create_store(url, Path("."))
    try:
        backend = store.backend  # type: ignore[attr-defined]
        backend.command(f"DROP DATABASE IF EXISTS {database} SYNC")
    finally:
        store.close()


def clickhouse_url(database: str) -> str:
    parts = urlsplit(CLICKHOUSE_URL)
    return urlunsplit((parts.scheme, parts.netloc, f"/{database}", parts.query, ""))


class StoreMaker:
    """Fresh, empty store URLs of one kind; their databases are dropped at `cleanup`."""

    def __init__(self, kind: str, chdb_root: Path) -> None:
        self.kind = kind
        self.chdb_root = chdb_root
        self.made: list[tuple[str, str]] = []

    def new(self) -> str:
        if self.kind == "duckdb":
            return "duckdb"  # the data dir's file: every test has its own data dir
        database = f"t_{uuid.uuid4().hex[:12]}"
        if self.kind == "chdb":
            url = f"chdb://{self.chdb_root}?database={database}"
        else:
            url = clickhouse_url(database)
        self.made.append((url, database))
        return url

    def cleanup(self) -> None:
        for url, database in self.made:
            drop_database(url, database)
        self.made.clear()


@pytest.fixture(scope="module")
def store_maker(store_kind: str, chdb_root: Path) -> Iterator[StoreMaker]:
    maker = StoreMaker(store_kind, chdb_root)
    yield maker
    maker.cleanup()


@pytest.fixture
def store_url(store_maker: StoreMaker) -> str:
    """A fresh, empty store of this test's kind (`duckdb`: the data dir's file)."""
    return store_maker.new()


@pytest.fixture
def settings(tmp_path: Path, store_url: str) -> Settings:
    return Settings(data_dir=tmp_path / "data", store=store_url)


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    """In-process client; the lifespan opens the store and starts the writer."""
    with TestClient(create_app(settings)) as test_client:
        yield test_client


@pytest.fixture
def services(client: TestClient) -> Services:
    svc: Services = client.app.state.services  # type: ignore[attr-defined]
    return svc


@pytest.fixture
def server_store(store_kind: str, tmp_path: Path) -> str:
    """The store of a server subprocess: its own chDB path (one per process)."""
    if store_kind == "chdb":
        return f"chdb://{tmp_path / 'server-chdb'}"
    if store_kind == "clickhouse":
        return clickhouse_url(f"t_{uuid.uuid4().hex[:12]}")
    return "duckdb"


@pytest.fixture
def server(tmp_path: Path, server_store: str) -> Iterator[ServerProcess]:
    """A real `footfall serve` subprocess on a free port."""
    with ServerProcess(tmp_path / "server-data", env={"FOOTFALL_STORE": server_store}) as proc:
        yield proc
