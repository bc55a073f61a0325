"""A stand-in ClickHouse HTTP interface over chDB, for testing the clickhouse:// store here.

No ClickHouse server can be installed in every test environment, but chDB is
the ClickHouse engine itself: this small server takes clickhouse-connect's
HTTP requests (query in the URL or body, `param_*` bound values, settings as
URL parameters, `FORMAT` clauses, Arrow/Native bodies), runs them on chDB and
answers in the requested format, so the HTTP backend's own code — client
setup, parameter binding, Arrow inserts and streamed reads — runs for real.
It is not ClickHouse's HTTP server: no auth, no compression, no sessions.
A real server is tested when FOOTFALL_TEST_CLICKHOUSE_URL is set.
"""

from __future__ import annotations

import contextlib
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

_FORMAT = re.compile(r"\s+FORMAT\s+(\w+)\s*;?\s*$", re.IGNORECASE)
_TRANSPORT = {
    "database",
    "query",
    "query_id",
    "session_id",
    "session_timeout",
    "session_check",
    "default_format",
    "wait_end_of_query",
    "send_progress_in_http_headers",
    "http_headers_progress_interval_ms",
    "enable_http_compression",
    "compress",
    "decompress",
    "user",
    "password",
    "cancel_http_readonly_queries_on_client_close",
}


def _handler(path: str) -> type[BaseHTTPRequestHandler]:
    import chdb

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:  # quiet
            pass

        def do_GET(self) -> None:
            self._answer(b"")

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            self._answer(self.rfile.read(length) if length else b"")

        def _answer(self, body: bytes) -> None:
            url = urlsplit(self.path)
            if url.path == "/ping":
                return self._send(200, b"Ok.\n", "TabSeparated")
            params = dict(parse_qsl(url.query, keep_blank_values=True))
            query = params.get("query")
            data = b""
            if query is None:
                query, body = body.decode(), b""
            else:
                data = body
                if body and not query.lstrip().upper().startswith("INSERT"):
                    query, data = query + " " + body.decode(), b""
            bound = {k[6:]: v for k, v in params.items() if k.startswith("param_")}
            settings = {
                k: v
                for k, v in params.items()
                if k not in _TRANSPORT and not k.startswith("param_")
            }
            fmt = params.get("default_format", "TabSeparated")
            if match := _FORMAT.search(query):
                fmt, query = match.group(1), query[: match.start()]
            conn = chdb.connect(path)  # type: ignore[no-untyped-call]
            try:
                for name, value in settings.items():
                    # A client-side or unknown setting is ignored here.
                    with contextlib.suppress(Exception):
                        conn.query(f"SET {name} = '{value}'")
                if params.get("database"):
                    conn.query(f"USE {params['database']}")
                if data:  # INSERT … FORMAT x with its rows in the body
                    with conn.send_insert(query, fmt) as inserter:
                        inserter.append(data)
                        inserter.finish()
                    out = b""
                else:
                    result = conn.query(query, fmt, params=bound)
                    out = result.bytes() if hasattr(result, "bytes") else bytes(result)
            except Exception as exc:
                message = str(exc)
                code = re.search(r"Code: (\d+)", message)
                self._send(500, message.encode(), "TabSeparated", code.group(1) if code else "1")
                return
            finally:
                conn.close()
            self._send(200, out, fmt)

        def _send(self, status: int, out: bytes, fmt: str, code: str | None = None) -> None:
            self.send_response(status)
            self.send_header("Content-Length", str(len(out)))
            self.send_header("X-ClickHouse-Format", fmt)
            self.send_header("X-ClickHouse-Timezone", "UTC")
            self.send_header("X-ClickHouse-Server-Display-Name", "chdb-stand-in")
            self.send_header("X-ClickHouse-Query-Id", "stand-in")
            self.send_header("X-ClickHouse-Summary", '{"written_rows":"0"}')
            if code is not None:
                self.send_header("X-ClickHouse-Exception-Code", code)
            self.end_headers()
            self.wfile.write(out)

    return Handler


@contextmanager
def serving(chdb_path: Path) -> Iterator[str]:
    """`http://127.0.0.1:PORT`, answering ClickHouse HTTP requests from chDB at `chdb_path`."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(str(chdb_path.resolve())))
    thread = threading.Thread(target=server.serve_forever, name="clickhouse-http", daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
