"""The real server believes `X-Forwarded-For` only from FOOTFALL_TRUSTED_PROXIES.

uvicorn, by default, rewrites the client address from `X-Forwarded-For` for
any request from 127.0.0.1, before footfall sees it; footfall's own rule
(web/client.py) must be the only one, so a server with no trusted proxies
takes the peer's address whatever the header says.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import httpx
import pytest

from tests.support.server import ServerProcess

pytestmark = pytest.mark.slow


def _stored_ips(data_dir: Path) -> list[str | None]:
    with duckdb.connect(str(data_dir / "footfall.duckdb"), read_only=True) as conn:
        return [row[0] for row in conn.execute("SELECT ip FROM events ORDER BY seq").fetchall()]


@pytest.mark.parametrize("trusted", ["", "127.0.0.1"])
def test_forwarded_for_counts_only_from_a_trusted_proxy(tmp_path: Path, trusted: str) -> None:
    data = tmp_path / "data"
    env = {"FOOTFALL_STORE_IP": "true", "FOOTFALL_TRUSTED_PROXIES": trusted}
    with ServerProcess(data, env=env) as server:
        forwarded = {"x-forwarded-for": "203.0.113.9"}
        for path, body in (("/api/v1/events", {"url": "/a"}), ("/visit", None)):
            response = httpx.post(server.url + path, json=body, headers=forwarded)
            assert response.is_success, response.text
        assert server.stop() == 0
    expected = "203.0.113.9" if trusted else "127.0.0.1"
    assert _stored_ips(data) == [expected, expected]
