"""The `footfall` command."""

from __future__ import annotations

import contextlib
import socket
import sys
from collections.abc import Iterator
from typing import Any

import click
from pydantic import ValidationError

from footfall import __version__
from footfall.cli_migrate import migrate
from footfall.cli_token import token
from footfall.settings import Settings


def _settings(**flags: Any) -> Settings:
    """Flags given on the command line win over FOOTFALL_* variables, which win over defaults."""
    try:
        return Settings(**{key: value for key, value in flags.items() if value is not None})
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'settings'}: {err['msg']}"
            for err in exc.errors()
        )
        raise click.UsageError(f"invalid configuration: {problems}") from None


def _draining_server_class() -> type[Any]:
    import uvicorn

    class DrainingServer(uvicorn.Server):
        """uvicorn re-raises SIGTERM/SIGINT after its graceful shutdown, so the process dies
        with 143/130. Ours has drained the writer by then: that is a clean exit, code 0."""

        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:
            with super().capture_signals():
                yield
                self._captured_signals.clear()

    return DrainingServer


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="footfall")
def main() -> None:
    """footfall: self-hosted, privacy-friendly web and product analytics.

    Every option can also be set with a FOOTFALL_* environment variable
    (FOOTFALL_HOST, FOOTFALL_PORT, FOOTFALL_DATA_DIR, FOOTFALL_STORE, …).
    """


@main.command()
@click.option("--host", default=None, help="Address to listen on [FOOTFALL_HOST; 127.0.0.1].")
@click.option(
    "--port",
    type=int,
    default=None,
    help="Port to listen on, 0 for any free port [FOOTFALL_PORT; 8000].",
)
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False),
    default=None,
    help="Directory of the embedded store [FOOTFALL_DATA_DIR; ./footfall-data].",
)
@click.option(
    "--store",
    default=None,
    help="Event store: duckdb, duckdb:///path/file.duckdb, chdb, chdb:///path/dir or "
    "clickhouse://user:password@host:8123/database [FOOTFALL_STORE; duckdb].",
)
@click.option(
    "--cluster",
    default=None,
    help="ClickHouse cluster: create the schema ON CLUSTER (ReplicatedMergeTree + "
    "Distributed); clickhouse:// stores only [FOOTFALL_CLUSTER].",
)
@click.option(
    "--log-level",
    default=None,
    type=click.Choice(["critical", "error", "warning", "info", "debug"]),
    help="Log level [FOOTFALL_LOG_LEVEL; info].",
)
def serve(
    host: str | None,
    port: int | None,
    data_dir: str | None,
    store: str | None,
    cluster: str | None,
    log_level: str | None,
) -> None:
    """Run the HTTP server: ingest, query API and every compatible API on one port.

    SIGTERM or Ctrl-C stops taking requests, commits every queued event and exits 0.
    """
    import uvicorn

    from footfall.app import create_app

    settings = _settings(
        host=host, port=port, data_dir=data_dir, store=store, cluster=cluster, log_level=log_level
    )
    family = socket.AF_INET6 if ":" in settings.host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((settings.host, settings.port))
    except OSError as exc:
        raise click.ClickException(
            f"cannot listen on {settings.host}:{settings.port}: {exc.strerror}"
        ) from None
    bound_port = sock.getsockname()[1]
    shown_host = f"[{settings.host}]" if family == socket.AF_INET6 else settings.host
    config = uvicorn.Config(
        create_app(settings),
        log_level=settings.log_level,
        access_log=False,
        loop="uvloop",
        http="httptools",
        lifespan="on",
        timeout_graceful_shutdown=10,
        # footfall decides whom to believe (FOOTFALL_TRUSTED_PROXIES, web/client.py);
        # uvicorn's own default would take X-Forwarded-For from any local peer.
        proxy_headers=False,
    )
    server = _draining_server_class()(config)
    click.echo(
        f"footfall {__version__} serving on http://{shown_host}:{bound_port} "
        f"(store: {settings.store}, data: {settings.data_dir})",
        err=False,
    )
    sys.stdout.flush()
    server.run(sockets=[sock])
    if not server.started:
        # Start-up failed (the store could not open…): uvicorn already logged why.
        sys.exit(1)


main.add_command(token)
main.add_command(migrate)
