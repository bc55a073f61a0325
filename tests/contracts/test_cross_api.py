"""One store under five APIs: what one API writes, every other API reads.

contracts/README.md: "a visit logged through one API shows up in every other API's
statistics"; 003's `id` is the store-wide sequence whichever API wrote the event.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx
from fastapi.testclient import TestClient

from tests.support.server import ServerProcess

WINDOWS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"
)
EVENT_002 = {
    "page": "/homepage",
    "ip_address": "192.168.1.1",
    "user_agent": WINDOWS,
    "referrer": "https://google.com",
    "session_id": "xyz789",
    "duration": 15,
    "description": "User viewed homepage",
}


def query(client: TestClient | httpx.Client, **body: Any) -> list[Any]:
    response = client.post("/api/v1/query", json={"date_range": "all", **body})
    assert response.status_code == 200, response.text
    results: list[Any] = response.json()["results"]
    return results


def test_a_visit_shows_up_in_every_api(client: TestClient) -> None:
    visit = client.post("/visit", json={"user_id": "u1", "page_url": "https://example.com/home"})
    assert visit.json()["visits"] == 1
    assert client.post("/visit").json()["visits"] == 2

    # 003
    assert client.get("/stats/total").json() == {
        "total_events": 2,
        "unique_users": 1,
        "unique_event_types": 1,
    }
    assert client.get("/stats/by-event-type").json() == [{"event_type": "pageview", "count": 2}]
    assert client.get("/stats/by-user").json() == [{"user_id": "u1", "count": 1}]
    assert client.get("/stats/user-activity/u1").json()["events_by_type"] == [
        {"event_type": "pageview", "count": 1}
    ]
    assert client.get("/stats/recent-activity").json()["total_events"] == 2
    assert [d["count"] for d in client.get("/stats/over-time").json()] == [2]
    listed = client.get("/events/").json()
    assert [(e["id"], e["user_id"], e["event_type"]) for e in listed] == [
        (1, "u1", "pageview"),
        (2, None, "pageview"),
    ]
    # footfall's own query API
    assert query(client, metrics=["pageviews", "events"]) == [{"dimensions": [], "metrics": [2, 2]}]
    assert query(client, metrics=["pageviews"], dimensions=["event:page"], limit=1) == [
        {"dimensions": ["/home"], "metrics": [1]}
    ]
    # 002: the visit with a page is a page event
    (row,) = client.get("/api/events/").json()
    assert (row["page"], row["count"], row["avg_duration"]) == ("/home", 1, None)


def test_a_002_event_shows_up_in_every_api(client: TestClient) -> None:
    created = client.post("/api/events/", json=EVENT_002).json()
    # 003
    assert client.get("/stats/total").json() == {
        "total_events": 1,
        "unique_users": 0,  # 002 events carry a session, not a user
        "unique_event_types": 1,
    }
    assert client.get("/stats/by-event-type").json() == [{"event_type": "pageview", "count": 1}]
    assert client.get("/stats/by-user").json() == []
    (listed,) = client.get("/events/").json()
    assert (listed["id"], listed["event_type"]) == (1, "pageview")
    assert listed["timestamp"] == created["time"]
    # 000/001: a pageview is a visit
    stats = client.get("/stats").json()
    assert (stats["total_visits"], stats["recent_visits"]) == (1, 1)
    assert client.post("/visit").json()["visits"] == 2
    # footfall's query API
    assert query(
        client,
        metrics=["events", "avg_duration"],
        dimensions=["event:page", "visit:os_family"],
        filters=[["is", "event:page", ["/homepage"]]],
    ) == [{"dimensions": ["/homepage", "Windows"], "metrics": [1, 15.0]}]


def test_003_ids_are_the_store_wide_sequence_whoever_wrote(client: TestClient) -> None:
    def new_003_id(**extra: Any) -> int:
        body = {"user_id": "u", "event_type": "click", **extra}
        response = client.post("/events/", json=body)
        assert response.status_code == 200
        event_id: int = response.json()["id"]
        return event_id

    assert client.post("/visit").status_code == 200  # seq 1
    assert new_003_id() == 2
    assert client.post("/api/events/", json=EVENT_002).status_code == 200  # seq 3
    assert new_003_id() == 4
    ingest = client.post(
        "/api/v1/events", json=[{"name": "a"}, {"name": "b"}, {"name": "c", "app": "other"}]
    )
    assert ingest.status_code == 202  # seq 5, 6, 7
    assert new_003_id() == 8
    assert new_003_id(app="other") == 9  # one sequence for every app
    assert client.post("/visit", params={"app": "other"}).json()["visits"] == 1  # seq 10
    assert new_003_id() == 11
    ids = [e["id"] for e in client.get("/events/").json()]
    assert ids == [1, 2, 3, 4, 5, 6, 8, 11]
    assert [e["id"] for e in client.get("/events/", params={"app": "other"}).json()] == [7, 9, 10]


def test_a_003_event_shows_up_in_the_query_api(client: TestClient) -> None:
    client.post("/events/", json={"user_id": "u", "event_type": "purchase", "metadata": {"a": 1}})
    assert query(client, metrics=["events", "users"], dimensions=["event:name"]) == [
        {"dimensions": ["purchase"], "metrics": [1, 1]}
    ]
    # …but it is not a visit.
    assert client.get("/stats").json()["total_visits"] == 0
    assert client.post("/visit").json()["visits"] == 1


def test_v1_events_show_up_in_the_contract_apis(client: TestClient) -> None:
    now = dt.datetime.now(dt.UTC)
    response = client.post(
        "/api/v1/events",
        json=[
            {"url": "https://example.com/a", "user_id": "w", "ts": now.isoformat()},
            {"name": "Signup", "user_id": "w"},
        ],
    )
    assert response.status_code == 202
    assert client.get("/stats").json()["total_visits"] == 1
    assert client.get("/stats/by-event-type").json() == [
        {"event_type": "Signup", "count": 1},
        {"event_type": "pageview", "count": 1},
    ]
    assert client.get("/stats/user-activity/w").json()["total_events"] == 2


def test_cross_api_against_a_real_server(server: ServerProcess) -> None:
    with httpx.Client(base_url=server.url, timeout=30) as api:
        assert api.post("/visit").json()["visits"] == 1
        body = {"user_id": "u", "event_type": "click"}
        assert api.post("/events/", json=body).json()["id"] == 2
        created = api.post("/api/events", json=EVENT_002).json()
        assert api.post("/visit").json()["visits"] == 3  # the 002 event was a visit too
        assert api.post("/events/", json=body).json()["id"] == 5
        assert api.get(f"/api/events/{created['id']}").json() == created
        assert api.get("/stats/by-event-type").json() == [
            {"event_type": "pageview", "count": 3},
            {"event_type": "click", "count": 2},
        ]
        assert api.get("/stats").json()["total_visits"] == 3
        assert query(api, metrics=["events", "pageviews"]) == [
            {"dimensions": [], "metrics": [5, 3]}
        ]
