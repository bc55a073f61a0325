"""A freshly started server answers its first events without a start-up stall.

Libraries build some things on first use: ua-parser its matchers, the referrer
list its index, pyarrow imports pandas on its first array. Done under traffic,
that made the first event after a (re)start wait ~0.5-0.7 s. `footfall serve`
does it before it listens.
"""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest

from tests.support.server import ServerProcess

BROWSER = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0 Safari/537.36"
)
EVENT = {"app": "warm", "url": "https://warm.example/pricing", "referrer": "https://www.bing.com/"}


@pytest.mark.slow
@pytest.mark.timeout(90)
def test_the_first_event_after_start_is_answered_without_a_stall(tmp_path: Path) -> None:
    with (
        ServerProcess(tmp_path / "server") as server,
        httpx.Client(base_url=server.url, timeout=30, headers={"user-agent": BROWSER}) as http,
    ):
        started = time.monotonic()
        assert http.post("/api/v1/events", json=EVENT).status_code == 202
        first = time.monotonic() - started
        stored = http.post(
            "/api/v1/query", json={"app": "warm", "date_range": "all", "metrics": ["events"]}
        )
    # Without the warm-up: 0.5-0.7 s here.
    assert first < 0.3, f"the first event took {first:.3f} s"
    assert stored.json()["results"][0]["metrics"] == [1]
