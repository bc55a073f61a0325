"""A real server takes a 10,000-event NDJSON import (the batch path) and the single events
that follow it (the per-event path) as one stream: every event stored once, each visitor's
later events in the visit the import opened, stamped with that visit's origin."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import duckdb
import httpx
import pytest

from tests.support.server import ServerProcess

pytestmark = pytest.mark.slow

AGENTS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1",
)
VISITORS = 500


def visitor(number: int) -> dict[str, str]:
    return {"ip": f"10.2.{number // 250}.{number % 250}", "user_agent": AGENTS[number % 2]}


def test_an_import_and_the_single_events_after_it_share_visits(tmp_path: Path) -> None:
    data = tmp_path / "data"
    start = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=20)
    lines = []
    for index in range(10_000):
        number = index % VISITORS
        line = {
            "app": "site",
            "ts": (start + dt.timedelta(milliseconds=100 * index)).isoformat(),
            "url": f"https://site.example/p/{index % 37}",
            **visitor(number),
        }
        if index < VISITORS:
            line["referrer"] = "https://news.ycombinator.com/" if number % 2 else ""
        lines.append(json.dumps(line))
    body = ("\n".join(lines) + "\n").encode()
    with ServerProcess(data) as server:
        response = httpx.post(
            server.url + "/api/v1/events",
            content=body,
            headers={"content-type": "application/x-ndjson"},
            timeout=60,
        )
        assert response.status_code == 202, response.text
        assert response.json() == {"accepted": 10_000, "duplicates": 0}
        for number in range(0, VISITORS, 50):
            single = {"app": "site", "url": "https://site.example/after", **visitor(number)}
            assert httpx.post(server.url + "/api/v1/events", json=single).status_code == 202
        assert server.stop() == 0
    with duckdb.connect(str(data / "footfall.duckdb"), read_only=True) as conn:
        total, distinct_ids, visits = conn.execute(
            "SELECT count(*), count(DISTINCT id), count(DISTINCT session_id) FROM events"
        ).fetchone() or (0, 0, 0)
        after = conn.execute(
            "SELECT count(*) FROM events e WHERE path = '/after' AND session_id IN "
            "(SELECT session_id FROM events WHERE path <> '/after')"
        ).fetchone()
        sources = dict(
            conn.execute(
                "SELECT coalesce(source, 'direct'), count(*) FROM events GROUP BY 1"
            ).fetchall()
        )
    assert (total, distinct_ids) == (10_010, 10_010)
    assert visits == VISITORS
    assert after == (10,)
    # Odd visitors came from Hacker News: all their events, the later single ones included.
    assert sources == {"Hacker News": 5_000, "direct": 5_010}
