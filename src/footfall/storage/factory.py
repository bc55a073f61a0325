"""A store URL (FOOTFALL_STORE, --store, footfall migrate) → the store it names.

    duckdb                              footfall.duckdb in the data directory
    duckdb:///path/file.duckdb          that DuckDB file
    chdb                                chdb/ in the data directory, in-process ClickHouse
    chdb:///path/dir[?database=NAME]    chDB with that data directory (one per process)
    clickhouse://user:pass@host:8123/db[?secure=true&cluster=NAME&node=N]
                                        a ClickHouse server (clickhouse-connect, HTTP)

`database` defaults to `footfall`; `node` (0–1023) is only needed when several
footfall nodes write to one ClickHouse (see docs/scaling.md).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from footfall.storage.base import Store

SCHEMES = ("duckdb", "chdb", "clickhouse")
DEFAULT_DATABASE = "footfall"
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
_OPTIONS = {"duckdb": set(), "chdb": {"database"}, "clickhouse": {"secure", "cluster", "node"}}


class StoreUrlError(ValueError):
    """A store URL that names no store; the message says what is wrong."""


@dataclass(frozen=True, slots=True)
class StoreUrl:
    scheme: str
    path: Path | None = None  # duckdb file, chdb directory
    host: str = ""
    port: int = 8123
    username: str = "default"
    password: str = ""
    database: str = DEFAULT_DATABASE
    secure: bool = False
    cluster: str | None = None
    node: int | None = None


def _identifier(what: str, value: str, url: str) -> str:
    if not _NAME.match(value):
        raise StoreUrlError(f"{what} {value!r} in {url!r} must be letters, digits and _")
    return value


def parse_store_url(url: str, data_dir: Path) -> StoreUrl:
    """Parse and check `url`; StoreUrlError says what is wrong with it."""
    if url in ("duckdb", "chdb"):
        name = "footfall.duckdb" if url == "duckdb" else "chdb"
        return StoreUrl(url, path=data_dir / name)
    parts = urlsplit(url)
    scheme = parts.scheme
    if scheme not in SCHEMES or not url.startswith(f"{scheme}://"):
        raise StoreUrlError(
            f"unknown store {url!r}: expected duckdb, duckdb:///path/file.duckdb, chdb, "
            "chdb:///path/dir or clickhouse://user:password@host:8123/database"
        )
    options = {key: values[-1] for key, values in parse_qs(parts.query).items()}
    if unknown := set(options) - _OPTIONS[scheme]:
        raise StoreUrlError(f"unknown option {sorted(unknown)[0]!r} in store URL {url!r}")
    if scheme in ("duckdb", "chdb"):
        path = unquote(parts.path)
        if parts.netloc or not path:
            raise StoreUrlError(f"{url!r}: write {scheme}:///absolute/path (three slashes)")
        database = _identifier("database", options.get("database", DEFAULT_DATABASE), url)
        return StoreUrl(scheme, path=Path(path), database=database)
    if not parts.hostname:
        raise StoreUrlError(f"{url!r} names no host: clickhouse://user:password@host:8123/db")
    try:
        port = parts.port or 8123
    except ValueError:
        raise StoreUrlError(f"{url!r}: the port is not a number") from None
    database = _identifier("database", parts.path.strip("/") or DEFAULT_DATABASE, url)
    cluster = options.get("cluster")
    node: int | None = None
    if "node" in options:
        if not options["node"].isdigit() or not 0 <= int(options["node"]) < 1024:
            raise StoreUrlError(f"node in {url!r} must be a number from 0 to 1023")
        node = int(options["node"])
    return StoreUrl(
        scheme,
        host=parts.hostname,
        port=port,
        username=unquote(parts.username or "default"),
        password=unquote(parts.password or ""),
        database=database,
        secure=options.get("secure", "false").lower() in ("1", "true", "yes"),
        cluster=_identifier("cluster", cluster, url) if cluster else None,
        node=node,
    )


def create_store(
    url: str, data_dir: Path, *, cluster: str | None = None, duckdb_memory_limit: str = ""
) -> Store:
    """The store `url` names, not yet opened. `cluster` overrides the URL's;
    `duckdb_memory_limit` caps a DuckDB store's memory (empty: DuckDB's default)."""
    parsed = parse_store_url(url, data_dir)
    if parsed.scheme == "duckdb":
        from footfall.storage.duckdb_store import DuckDBStore

        if cluster:
            raise StoreUrlError("DuckDB runs on one machine: --cluster needs a clickhouse:// store")
        assert parsed.path is not None
        return DuckDBStore(parsed.path, memory_limit=duckdb_memory_limit)

    from footfall.storage.clickhouse_backends import ChdbBackend, HttpBackend
    from footfall.storage.clickhouse_schema import Layout
    from footfall.storage.clickhouse_store import ClickHouseStore

    if parsed.scheme == "chdb":
        assert parsed.path is not None
        if cluster:
            raise StoreUrlError("chDB runs on one machine: --cluster needs a clickhouse:// store")
        backend = ChdbBackend(parsed.path, parsed.database)
        layout = Layout(parsed.database, fsync=True)
        return ClickHouseStore(backend, layout, label=f"chdb:{parsed.path}/{parsed.database}")
    cluster = cluster or parsed.cluster
    http = HttpBackend(
        host=parsed.host,
        port=parsed.port,
        username=parsed.username,
        password=parsed.password,
        database=parsed.database,
        secure=parsed.secure,
        cluster=cluster,
    )
    layout = Layout(parsed.database, cluster=cluster)
    label = f"{parsed.host}:{parsed.port}/{parsed.database}"
    return ClickHouseStore(http, layout, node=parsed.node, label=label)
