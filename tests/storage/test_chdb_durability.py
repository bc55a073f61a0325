"""A 202 from a server on chDB means the event is stored: `kill -9` mid-stream loses none.

The same ingest load as tests/e2e/test_durability.py (eight threads of small
batches with client ids), against `footfall serve --store chdb:///…`, killed
with SIGKILL while requests are on the wire, then restarted on the same path.
What docs/scaling.md promises for ClickHouse, and no more: every acknowledged
event is stored exactly once and its retry stores nothing; a request that was
never acknowledged is stored whole or not at all (one INSERT per batch), and
its retry may store it a second time only if the kill fell between the event
insert and the id insert.
"""

from __future__ import annotations

import signal
import threading
from pathlib import Path

import httpx
import pytest

from tests.e2e.test_durability import _Ingest, _page, _page_counts
from tests.support.server import ServerProcess

pytestmark = pytest.mark.slow


def _serve(tmp_path: Path) -> ServerProcess:
    return ServerProcess(
        tmp_path / "data", env={"FOOTFALL_STORE": f"chdb://{tmp_path / 'chdb'}"}
    ).start(timeout=60)


def test_kill_9_on_chdb_loses_no_acknowledged_event(tmp_path: Path) -> None:
    server = _serve(tmp_path)
    try:
        ingest = _Ingest(server.url, "kill9")
        once = threading.Lock()

        def kill_when_enough() -> bool:
            if len(ingest.acked) >= 300 and once.acquire(blocking=False):
                server.kill()  # SIGKILL while eight requests are on the wire
            return False

        ingest.run(8, "req", size=(1, 4), until=kill_when_enough)
        assert once.locked(), f"only {len(ingest.acked)} requests acknowledged in a minute"
    finally:
        server.kill()
    assert server.proc is not None and server.proc.returncode == -signal.SIGKILL
    assert ingest.broken, "the kill interrupted no request: it was not mid-stream"

    again = _serve(tmp_path)
    try:
        with httpx.Client(base_url=again.url, timeout=30) as http:
            counts = _page_counts(http, "kill9")
            acked = {_page(e) for batch in ingest.acked for e in batch}
            assert all(counts.get(page) == 1 for page in acked), "an acknowledged event is lost"
            assert set(counts.values()) <= {1}
            for batch in ingest.sent:  # a request is stored whole or not at all
                assert len({counts.get(_page(e), 0) for e in batch}) == 1
            # Clients retry the acknowledged requests: nothing is stored again.
            for batch in ingest.acked:
                response = http.post("/api/v1/events", json=batch)
                assert response.status_code == 202, response.text
                assert response.json() == {"accepted": len(batch), "duplicates": len(batch)}
            assert _page_counts(http, "kill9") == counts
    finally:
        again.kill()
