"""Contracts 000 (Traffic Tracker) and 001 (visit-tracker-api): `POST /visit`, `GET /stats`,
`GET /health`, and the JSON 404 — with each README's own example requests.

contracts/README.md decides the collision: no body is a 001 visit, a body is 000's model;
the answer is the superset `{success, visit_count, visits, message}`.
"""

from __future__ import annotations

import datetime as dt
import http.client
import json
import re
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient

from footfall.app import create_app
from footfall.services import Services
from footfall.settings import Settings
from footfall.storage.base import StoreUnavailable
from footfall.web.visits import format_uptime
from tests.support.server import ServerProcess

ISO_Z = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$")
UPTIME = re.compile(r"^(\d+)h (\d+)m (\d+)s$")
VISIT_KEYS = {"success", "visit_count", "visits", "message"}
STATS_KEYS = {
    "uptime_seconds",
    "uptime_formatted",
    "total_visits",
    "current_time",
    "server_status",
    "recent_visits",
    "timeframe_hours",
}
# 000's README, request body of POST /visit.
README_BODY = {
    "user_id": "unique_user_id",
    "page_url": "https://example.com/page",
    "user_agent": "Mozilla/5.0...",
    "ip_address": "192.168.1.1",
    "referrer": "https://google.com",
}
IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1"
)
WINDOWS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"
)


def parse_z(text: str) -> dt.datetime:
    assert ISO_Z.match(text), text
    return dt.datetime.fromisoformat(text)


def assert_visit(body: Any, n: int) -> None:
    assert set(body) == VISIT_KEYS
    assert body["success"] is True
    assert type(body["visit_count"]) is int and type(body["visits"]) is int
    assert body["visit_count"] == body["visits"] == n
    assert body["message"] == f"Visit logged successfully. Total visits: {n}"


def assert_stats(body: Any) -> None:
    assert set(body) == STATS_KEYS
    assert isinstance(body["uptime_seconds"], float)
    assert body["uptime_seconds"] >= 0
    assert UPTIME.match(body["uptime_formatted"]), body["uptime_formatted"]
    assert type(body["total_visits"]) is int
    assert type(body["recent_visits"]) is int
    assert 0 <= body["recent_visits"] <= body["total_visits"]
    assert body["server_status"] == "running"
    assert isinstance(body["timeframe_hours"], float)
    now = dt.datetime.now(dt.UTC)
    assert abs(parse_z(body["current_time"]) - now) < dt.timedelta(seconds=30)


def backdate_pageviews(client: TestClient, *ages: dt.timedelta, app: str = "default") -> None:
    """Pageviews `ages` ago, through footfall's own ingest (the only way to back-date)."""
    now = dt.datetime.now(dt.UTC)
    events = [
        {"app": app, "name": "pageview", "url": f"/old/{i}", "ts": (now - age).isoformat()}
        for i, age in enumerate(ages)
    ]
    response = client.post("/api/v1/events", json=events)
    assert response.status_code == 202, response.text
    assert response.json() == {"accepted": len(ages), "duplicates": 0}


@contextmanager
def custom_client(
    tmp_path: Path, peer: tuple[str, int] = ("testclient", 50000), **settings: Any
) -> Iterator[TestClient]:
    config = Settings(data_dir=tmp_path / "custom", **settings)
    with TestClient(create_app(config), client=peer) as test_client:
        yield test_client


def stored_rows(client: TestClient, columns: str) -> list[tuple[Any, ...]]:
    svc: Services = client.app.state.services  # type: ignore[attr-defined]
    return svc.store.query(f"SELECT {columns} FROM events ORDER BY seq")


# -- POST /visit ---------------------------------------------------------------------------


def test_visit_without_body_is_a_001_visit(client: TestClient) -> None:
    for n in (1, 2, 3):
        response = client.post("/visit")
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("application/json")
        assert_visit(response.json(), n)
    # A visit with no user and no page, stored as a pageview.
    events = client.get("/events/").json()
    assert [(e["id"], e["event_type"], e["user_id"]) for e in events] == [
        (1, "pageview", None),
        (2, "pageview", None),
        (3, "pageview", None),
    ]


def test_visit_with_empty_json_body_or_null_is_a_001_visit(client: TestClient) -> None:
    headers = {"content-type": "application/json"}
    assert_visit(client.post("/visit", content=b"", headers=headers).json(), 1)
    assert_visit(client.post("/visit", content=b"null", headers=headers).json(), 2)


def test_visit_with_000_readme_body(client: TestClient) -> None:
    response = client.post("/visit", json=README_BODY)
    assert response.status_code == 200
    assert_visit(response.json(), 1)
    # The README's curl example: only the required fields.
    response = client.post(
        "/visit", json={"user_id": "user123", "page_url": "https://example.com/home"}
    )
    assert_visit(response.json(), 2)
    # And its "testing" example.
    response = client.post(
        "/visit", json={"user_id": "test_user", "page_url": "https://example.com/test"}
    )
    assert_visit(response.json(), 3)

    # Stored as pageviews of page_url, for the user.
    events = client.get("/events/").json()
    assert [(e["event_type"], e["user_id"]) for e in events] == [
        ("pageview", "unique_user_id"),
        ("pageview", "user123"),
        ("pageview", "test_user"),
    ]
    pages = client.post(
        "/api/v1/query",
        json={
            "date_range": "all",
            "metrics": ["pageviews"],
            "dimensions": ["event:hostname", "event:page"],
            "order_by": [["event:page", "asc"]],
        },
    ).json()["results"]
    assert pages == [
        {"dimensions": ["example.com", "/home"], "metrics": [1]},
        {"dimensions": ["example.com", "/page"], "metrics": [1]},
        {"dimensions": ["example.com", "/test"], "metrics": [1]},
    ]
    sources = client.post(
        "/api/v1/query",
        json={"date_range": "all", "metrics": ["pageviews"], "dimensions": ["visit:source"]},
    ).json()["results"]
    assert {"dimensions": ["Google"], "metrics": [1]} in sources


def test_visit_and_no_body_visits_share_one_count(client: TestClient) -> None:
    assert_visit(client.post("/visit").json(), 1)
    assert_visit(client.post("/visit", json=README_BODY).json(), 2)
    assert_visit(client.post("/visit").json(), 3)
    assert client.get("/stats").json()["total_visits"] == 3


INVALID_BODIES: list[tuple[dict[str, Any], str]] = [
    ({"page_url": "https://example.com/"}, "user_id"),
    ({"user_id": "u1"}, "page_url"),
    ({}, "user_id"),
    ({"user_id": 42, "page_url": "https://example.com/"}, "user_id"),
    ({"user_id": "u1", "page_url": ["https://example.com/"]}, "page_url"),
    ({"user_id": "u1", "page_url": "/", "user_agent": 7}, "user_agent"),
    ({"user_id": "u1", "page_url": "/", "ip_address": {"v4": "1.2.3.4"}}, "ip_address"),
    ({"user_id": "u1", "page_url": "/", "referrer": False}, "referrer"),
    ({"user_id": None, "page_url": "/"}, "user_id"),
]


def test_visit_body_is_validated_as_000_model(client: TestClient) -> None:
    for body, field in INVALID_BODIES:
        response = client.post("/visit", json=body)
        assert response.status_code == 422, body
        detail = response.json()["detail"]
        assert any(error["loc"] == ["body", field] for error in detail), (body, detail)
    # Nothing was stored, and the next visit is still number 1.
    assert client.get("/stats").json()["total_visits"] == 0
    assert_visit(client.post("/visit").json(), 1)


def test_visit_malformed_body_is_422_not_500(client: TestClient) -> None:
    for raw in (b"not json", b"[1, 2]", b'"a string"', b'{"user_id": "u", "page_url": '):
        response = client.post("/visit", content=raw, headers={"content-type": "application/json"})
        assert response.status_code == 422, raw
        assert response.json()["detail"][0]["loc"][0] == "body"
    assert client.get("/stats").json()["total_visits"] == 0


def test_user_agent_and_ip_default_to_the_request(tmp_path: Path) -> None:
    with custom_client(
        tmp_path, peer=("10.0.0.5", 40000), store_ip=True, trusted_proxies="10.0.0.0/8"
    ) as client:
        # Body without user_agent / ip_address: the request's header and client address.
        forwarded = {"user-agent": IPHONE, "x-forwarded-for": "203.0.113.9"}
        body = {"user_id": "u1", "page_url": "https://example.com/a"}
        assert client.post("/visit", json=body, headers=forwarded).status_code == 200
        # Explicit fields win over the request's.
        explicit = {**body, "user_agent": WINDOWS, "ip_address": "192.168.1.1"}
        assert client.post("/visit", json=explicit, headers=forwarded).status_code == 200
        # No body at all: the request's.
        assert client.post("/visit", headers=forwarded).status_code == 200
        assert stored_rows(client, "ip, os, device") == [
            ("203.0.113.9", "iOS", "mobile"),
            ("192.168.1.1", "Windows", "desktop"),
            ("203.0.113.9", "iOS", "mobile"),
        ]


def test_forwarded_for_is_ignored_from_an_untrusted_peer(tmp_path: Path) -> None:
    with custom_client(
        tmp_path, peer=("198.51.100.7", 40000), store_ip=True, trusted_proxies="10.0.0.0/8"
    ) as client:
        headers = {"user-agent": WINDOWS, "x-forwarded-for": "203.0.113.9"}
        body = {"user_id": "u1", "page_url": "https://example.com/a"}
        assert client.post("/visit", json=body, headers=headers).status_code == 200
        assert client.post("/visit", headers=headers).status_code == 200
        assert stored_rows(client, "ip, os") == [
            ("198.51.100.7", "Windows"),
            ("198.51.100.7", "Windows"),
        ]


def test_visit_count_is_per_app(client: TestClient) -> None:
    assert_visit(client.post("/visit").json(), 1)
    assert_visit(client.post("/visit", json={**README_BODY, "app": "shop"}).json(), 1)
    assert_visit(client.post("/visit", params={"app": "shop"}).json(), 2)
    assert_visit(client.post("/visit").json(), 2)
    default = client.get("/stats").json()
    shop = client.get("/stats", params={"app": "shop"}).json()
    other = client.get("/stats", params={"app": "nobody"}).json()
    assert (default["total_visits"], default["recent_visits"]) == (2, 2)
    assert (shop["total_visits"], shop["recent_visits"]) == (2, 2)
    assert (other["total_visits"], other["recent_visits"]) == (0, 0)


def test_visit_count_includes_pageviews_written_by_other_apis(client: TestClient) -> None:
    backdate_pageviews(client, dt.timedelta(hours=2), dt.timedelta(days=3))
    assert_visit(client.post("/visit").json(), 3)
    # A 003 event that is not a pageview is not a visit.
    client.post("/events/", json={"user_id": "u", "event_type": "click"})
    assert_visit(client.post("/visit").json(), 4)


# -- GET /stats ----------------------------------------------------------------------------


def test_stats_default_timeframe(client: TestClient) -> None:
    client.post("/visit")
    client.post("/visit", json=README_BODY)
    response = client.get("/stats")
    assert response.status_code == 200
    body = response.json()
    assert_stats(body)
    assert body["timeframe_hours"] == 1.0
    assert body["total_visits"] == 2
    assert body["recent_visits"] == 2


def test_stats_on_an_empty_store(client: TestClient) -> None:
    body = client.get("/stats").json()
    assert_stats(body)
    assert (body["total_visits"], body["recent_visits"]) == (0, 0)


def test_stats_readme_timeframes_and_bounds_are_inclusive(client: TestClient) -> None:
    client.post("/visit")
    for hours in (0.5, 168.0, 0.1, 1.0, 2, 24):
        response = client.get("/stats", params={"timeframe_hours": hours})
        assert response.status_code == 200, hours
        body = response.json()
        assert_stats(body)
        assert body["timeframe_hours"] == float(hours)
        assert body["recent_visits"] == 1


def test_stats_timeframe_out_of_range_is_422(client: TestClient) -> None:
    for hours in ("0.09", "0", "-1", "168.01", "169", "1e9", "abc", "", "nan", "inf"):
        response = client.get("/stats", params={"timeframe_hours": hours})
        assert response.status_code == 422, hours
        assert response.json()["detail"][0]["loc"] == ["query", "timeframe_hours"]


def test_recent_visits_counts_only_the_window(client: TestClient) -> None:
    backdate_pageviews(
        client, dt.timedelta(minutes=20), dt.timedelta(hours=2), dt.timedelta(hours=30)
    )
    backdate_pageviews(client, dt.timedelta(hours=200))
    client.post("/visit")
    client.post("/visit", json=README_BODY)
    client.post("/events/", json={"user_id": "u", "event_type": "click"})  # not a visit
    expected = {0.1: 2, 0.5: 3, 1.0: 3, 3.0: 4, 48.0: 5, 168.0: 5}
    for hours, recent in expected.items():
        body = client.get("/stats", params={"timeframe_hours": hours}).json()
        assert (body["timeframe_hours"], body["recent_visits"], body["total_visits"]) == (
            hours,
            recent,
            6,
        )


def test_uptime_is_formatted_from_whole_seconds(client: TestClient) -> None:
    body = client.get("/stats").json()
    hours, minutes, seconds = (int(g) for g in UPTIME.match(body["uptime_formatted"]).groups())  # type: ignore[union-attr]
    assert hours * 3600 + minutes * 60 + seconds == int(body["uptime_seconds"])
    assert minutes < 60 and seconds < 60


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "0h 0m 0s"),
        (0.999, "0h 0m 0s"),
        (59.99, "0h 0m 59s"),
        (61, "0h 1m 1s"),
        (3600.5, "1h 0m 0s"),  # the README's example
        (3 * 3600 + 25 * 60 + 7.2, "3h 25m 7s"),
        (90061, "25h 1m 1s"),  # hours may exceed 24
        (10 * 86400, "240h 0m 0s"),
    ],
)
def test_format_uptime(seconds: float, text: str) -> None:
    assert format_uptime(seconds) == text


def test_stats_is_a_superset_of_001(client: TestClient) -> None:
    """001's clients read exactly `uptime_seconds`, `total_visits`, `current_time`."""
    visits = [client.post("/visit").json()["visits"] for _ in range(5)]
    assert visits == [1, 2, 3, 4, 5]
    body = client.get("/stats").json()
    assert isinstance(body["uptime_seconds"], float)
    assert body["total_visits"] == 5
    parse_z(body["current_time"])


# -- GET /health and unknown paths ------------------------------------------------------------


def test_health(client: TestClient) -> None:
    response = client.get("/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "healthy"


def test_health_is_503_with_the_reason_when_the_store_does_not_answer(
    client: TestClient, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken() -> None:
        raise StoreUnavailable("disk on fire")

    monkeypatch.setattr(services.store, "ping", broken)
    response = client.get("/health")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] != "healthy"
    assert "disk on fire" in json.dumps(body)


def test_unknown_path_is_a_json_404(client: TestClient) -> None:
    for method, path, headers in (
        ("GET", "/nope", {}),
        ("GET", "/nope", {"accept": "text/html"}),
        ("POST", "/visits", {}),
        ("GET", "/stats/nope/deeper", {}),
    ):
        response = client.request(method, path, headers=headers)
        assert response.status_code == 404, path
        assert response.headers["content-type"].startswith("application/json")
        assert response.json() == {"detail": "Not Found"}


def test_wrong_method_is_json_too(client: TestClient) -> None:
    response = client.get("/visit")
    assert response.status_code == 405
    assert response.json() == {"detail": "Method Not Allowed"}


# -- a real server -------------------------------------------------------------------------


def test_readme_curl_examples_against_a_real_server(server: ServerProcess) -> None:
    with httpx.Client(base_url=server.url, timeout=30) as http:
        response = http.post(
            "/visit", json={"user_id": "user123", "page_url": "https://example.com/home"}
        )
        assert response.status_code == 200
        assert_visit(response.json(), 1)
        assert_visit(http.post("/visit").json(), 2)  # 001: no body
        for params in ({}, {"timeframe_hours": "0.5"}, {"timeframe_hours": "168.0"}):
            body = http.get("/stats", params=params).json()
            assert_stats(body)
            assert (body["total_visits"], body["recent_visits"]) == (2, 2)
        assert http.get("/stats", params={"timeframe_hours": "200"}).status_code == 422
        assert http.get("/health").json()["status"] == "healthy"
        missing = http.get("/no/such/path")
        assert (missing.status_code, missing.json()) == (404, {"detail": "Not Found"})


def post_concurrently(url: str, path: str, bodies: list[bytes | None], threads: int) -> list[Any]:
    """POST each body from `threads` threads, one keep-alive connection per thread."""
    parts = urlsplit(url)
    local = threading.local()

    def one(body: bytes | None) -> tuple[int, Any]:
        connection: http.client.HTTPConnection | None = getattr(local, "connection", None)
        if connection is None:
            connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
            local.connection = connection
        headers = {"content-type": "application/json"} if body is not None else {}
        connection.request("POST", path, body=body, headers=headers)
        response = connection.getresponse()
        return response.status, json.loads(response.read())

    with ThreadPoolExecutor(max_workers=threads) as pool:
        return list(pool.map(one, bodies))


@pytest.mark.slow
def test_1000_concurrent_visits_from_100_threads(server: ServerProcess) -> None:
    """001's stress test: 1000 × 200, every N distinct, the final total 1000."""
    with_body = json.dumps({"user_id": "u", "page_url": "https://example.com/"}).encode()
    bodies = [None if i % 2 else with_body for i in range(1000)]
    results = post_concurrently(server.url, "/visit", bodies, threads=100)
    assert [status for status, _ in results] == [200] * 1000
    for _, body in results:
        assert set(body) == VISIT_KEYS
        assert body["visit_count"] == body["visits"]
    assert sorted(body["visits"] for _, body in results) == list(range(1, 1001))
    stats = httpx.get(server.url + "/stats", timeout=30).json()
    assert (stats["total_visits"], stats["recent_visits"]) == (1000, 1000)
    assert httpx.post(server.url + "/visit", timeout=30).json()["visits"] == 1001
