"""Contract 003 (Stadistics by Cuzzi): `/events/` and the six `/stats/...` endpoints,
with the README's own example requests.

`id` is the store-wide sequence; event types are event names (a `/visit` is a
`pageview`); events without a user are not a user.
"""

from __future__ import annotations

import datetime as dt
import http.client
import json
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient

from tests.support.server import ServerProcess

UTC = dt.UTC
ISO_Z = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$")
EVENT_KEYS = {"id", "user_id", "event_type", "timestamp", "metadata"}

# The README's examples, in the order it gives them.
README_CREATE = {
    "user_id": "user_123",
    "event_type": "page_view",
    "metadata": {"page": "/products", "duration": 45, "referrer": "google"},
}
README_JS = {
    "user_id": "user_123",
    "event_type": "button_click",
    "metadata": {"button": "checkout", "page": "/cart"},
}
README_PYTHON = {
    "user_id": "user_123",
    "event_type": "purchase",
    "metadata": {"product_id": "PROD-456", "amount": 99.99, "currency": "USD"},
}
README_CURL = {
    "user_id": "user_123",
    "event_type": "login",
    "metadata": {"ip": "192.168.1.1", "device": "mobile", "browser": "Chrome"},
}


def parse_z(text: str) -> dt.datetime:
    assert ISO_Z.match(text), text
    return dt.datetime.fromisoformat(text)


def create(client: TestClient, body: dict[str, Any]) -> Any:
    response = client.post("/events/", json=body)
    assert response.status_code == 200, response.text
    event = response.json()
    assert set(event) == EVENT_KEYS
    assert type(event["id"]) is int
    parse_z(event["timestamp"])
    return event


def event(user: str | None, kind: str, **extra: Any) -> dict[str, Any]:
    return {"user_id": user, "event_type": kind, "metadata": {}, **extra}


def ingest(client: TestClient, *events: dict[str, Any]) -> None:
    """Back-dated events through `POST /api/v1/events` (name, user_id, ts as datetime, app)."""
    body = [{**e, "ts": e["ts"].isoformat()} if "ts" in e else e for e in events]
    response = client.post("/api/v1/events", json=body)
    assert response.status_code == 202, response.text


def get(client: TestClient, path: str, **params: Any) -> Any:
    response = client.get(path, params=params)
    assert response.status_code == 200, response.text
    return response.json()


def assert_422(client: TestClient, path: str, params: dict[str, Any], field: str) -> None:
    response = client.get(path, params=params)
    assert response.status_code == 422, (path, params)
    assert response.json()["detail"][0]["loc"] == ["query", field]


# -- POST /events/ ----------------------------------------------------------------------------


def test_create_readme_examples(client: TestClient) -> None:
    before = dt.datetime.now(UTC)
    first = create(client, README_CREATE)
    after = dt.datetime.now(UTC)
    assert first["id"] == 1
    assert {k: first[k] for k in ("user_id", "event_type", "metadata")} == README_CREATE
    assert before - dt.timedelta(milliseconds=1) <= parse_z(first["timestamp"]) <= after
    for n, body in enumerate((README_JS, README_PYTHON, README_CURL), start=2):
        created = create(client, body)
        assert created["id"] == n
        assert {k: created[k] for k in ("user_id", "event_type", "metadata")} == body
    # metadata is optional and defaults to {}.
    assert create(client, {"user_id": "u", "event_type": "ping"})["metadata"] == {}
    # Nested metadata survives as given.
    nested = {"a": {"b": [1, 2.5, None, True, "x"]}, "ünï": "cödé"}
    assert create(client, event("u", "nested", metadata=nested))["metadata"] == nested


def test_create_validation(client: TestClient) -> None:
    for body, field in (
        ({"event_type": "click"}, "user_id"),
        ({"user_id": "u"}, "event_type"),
        ({"user_id": 5, "event_type": "click"}, "user_id"),
        ({"user_id": "u", "event_type": 5}, "event_type"),
        ({"user_id": "u", "event_type": ""}, "event_type"),
        ({"user_id": "u", "event_type": "click", "metadata": [1]}, "metadata"),
        ({"user_id": "u", "event_type": "click", "metadata": "x"}, "metadata"),
    ):
        response = client.post("/events/", json=body)
        assert response.status_code == 422, body
        detail = response.json()["detail"]
        assert any(error["loc"] == ["body", field] for error in detail), detail
    response = client.post(
        "/events/", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert response.status_code == 422
    assert get(client, "/stats/total")["total_events"] == 0


# -- GET /events/ -----------------------------------------------------------------------------


def test_list_events(client: TestClient) -> None:
    # The README's "automated testing" script, then its other examples.
    created = [
        create(
            client,
            event(
                f"user_{i % 3}",
                ["login", "click", "purchase"][i % 3],
                metadata={"test": True, "index": i},
            ),
        )
        for i in range(5)
    ]
    created += [create(client, body) for body in (README_CREATE, README_JS, README_CURL)]
    assert [e["id"] for e in created] == list(range(1, 9))

    assert get(client, "/events/") == created
    # The README's example: GET /events/?user_id=user_123&limit=10
    assert get(client, "/events/", user_id="user_123", limit=10) == created[5:]
    assert get(client, "/events/", user_id="user_0") == [created[0], created[3]]
    assert get(client, "/events/", event_type="click") == [created[1], created[4]]
    assert get(client, "/events/", user_id="user_1", event_type="click") == [created[1], created[4]]
    assert get(client, "/events/", user_id="user_2", event_type="click") == []
    assert get(client, "/events/", user_id="nobody") == []
    assert get(client, "/events/", skip=2, limit=3) == created[2:5]
    assert get(client, "/events/", skip=7) == created[7:]
    assert get(client, "/events/", skip=8) == []
    assert get(client, "/events/", limit=1) == created[:1]
    assert get(client, "/events/", limit=1000) == created
    assert get(client, "/events/", skip=10**20) == []
    assert get(client, "/events/", skip=2**63) == []


def test_list_bounds_are_422(client: TestClient) -> None:
    for params, field in (
        ({"limit": 0}, "limit"),
        ({"limit": 1001}, "limit"),
        ({"limit": -1}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"skip": -1}, "skip"),
        ({"skip": "x"}, "skip"),
    ):
        assert_422(client, "/events/", params, field)


def test_list_default_limit_is_100_in_id_order(client: TestClient) -> None:
    ingest(client, *({"name": "bulk", "user_id": f"u{i}"} for i in range(105)))
    page = get(client, "/events/")
    assert [e["id"] for e in page] == list(range(1, 101))
    assert [e["user_id"] for e in page[:3]] == ["u0", "u1", "u2"]
    assert [e["id"] for e in get(client, "/events/", skip=100)] == list(range(101, 106))


def test_events_of_other_apis_are_listed_too(client: TestClient) -> None:
    client.post("/visit")  # no user, no page
    client.post("/visit", json={"user_id": "v", "page_url": "https://example.com/a"})
    listed = get(client, "/events/")
    assert [(e["id"], e["user_id"], e["event_type"], e["metadata"]) for e in listed] == [
        (1, None, "pageview", {}),
        (2, "v", "pageview", {}),
    ]


# -- GET /stats/* --------------------------------------------------------------------------


def seed_types(client: TestClient) -> None:
    for user, kind in (
        ("u_b", "click"),
        ("u_a", "click"),
        ("u_b", "click"),
        ("u_a", "login"),
        ("u_a", "purchase"),
        ("u_b", "login"),
        ("u_c", "purchase"),
        ("u_b", "b"),
        ("u_a", "a"),
    ):
        create(client, event(user, kind))
    for _ in range(5):
        assert client.post("/visit").status_code == 200  # pageviews without a user


def test_stats_total(client: TestClient) -> None:
    assert get(client, "/stats/total") == {
        "total_events": 0,
        "unique_users": 0,
        "unique_event_types": 0,
    }
    seed_types(client)
    total = get(client, "/stats/total")
    assert total == {"total_events": 14, "unique_users": 3, "unique_event_types": 6}
    assert all(type(v) is int for v in total.values())


def test_stats_by_event_type(client: TestClient) -> None:
    assert get(client, "/stats/by-event-type") == []
    seed_types(client)
    # count desc, then name.
    assert get(client, "/stats/by-event-type") == [
        {"event_type": "pageview", "count": 5},
        {"event_type": "click", "count": 3},
        {"event_type": "login", "count": 2},
        {"event_type": "purchase", "count": 2},
        {"event_type": "a", "count": 1},
        {"event_type": "b", "count": 1},
    ]


def test_stats_by_user(client: TestClient) -> None:
    assert get(client, "/stats/by-user") == []
    seed_types(client)
    create(client, event("u_c", "click"))
    ranked = [
        {"user_id": "u_a", "count": 4},
        {"user_id": "u_b", "count": 4},
        {"user_id": "u_c", "count": 2},
    ]
    # The README's example; the 5 visits without a user (the largest group) are no user.
    assert get(client, "/stats/by-user", limit=10) == ranked
    assert get(client, "/stats/by-user") == ranked
    assert get(client, "/stats/by-user", limit=2) == ranked[:2]
    assert get(client, "/stats/by-user", limit=1) == ranked[:1]
    assert_422(client, "/stats/by-user", {"limit": 0}, "limit")
    assert_422(client, "/stats/by-user", {"limit": "many"}, "limit")


def test_stats_over_time(client: TestClient) -> None:
    now = dt.datetime.now(UTC)
    ages = (0, 0, 1, 3, 3, 3, 6, 7, 30, 400)
    ingest(
        client,
        *(
            {"name": "click", "user_id": "u", "ts": now - dt.timedelta(days=age, minutes=1)}
            for age in ages
        ),
    )
    create(client, event("u", "click"))

    def day(age: int) -> str:
        return (now - dt.timedelta(days=age, minutes=1)).date().isoformat()

    week = [
        {"date": day(6), "count": 1},
        {"date": day(3), "count": 3},
        {"date": day(1), "count": 1},
        {"date": day(0), "count": 3},
    ]
    # The README's example, and the default.
    assert get(client, "/stats/over-time", days=7) == week
    assert get(client, "/stats/over-time") == week
    for row in week:
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", row["date"])
    assert get(client, "/stats/over-time", days=1) == week[-1:]
    assert get(client, "/stats/over-time", days=31) == [
        {"date": day(30), "count": 1},
        {"date": day(7), "count": 1},
        *week,
    ]
    assert get(client, "/stats/over-time", days=3650)[0] == {"date": day(400), "count": 1}
    for days in (0, -1, 3651, "week"):
        assert_422(client, "/stats/over-time", {"days": days}, "days")


def test_stats_user_activity(client: TestClient) -> None:
    ingest(
        client,
        {
            "name": "login",
            "user_id": "user_123",
            "ts": dt.datetime.now(UTC) - dt.timedelta(days=3),
        },
    )
    created = [
        create(client, body) for body in (README_CREATE, README_JS, README_CREATE, README_CURL)
    ]
    create(client, event("someone_else", "page_view"))
    response = client.get("/stats/user-activity/user_123")
    assert response.status_code == 200
    activity = response.json()
    assert set(activity) == {"user_id", "total_events", "events_by_type", "last_event_at"}
    assert activity["user_id"] == "user_123"
    assert activity["total_events"] == 5
    assert activity["events_by_type"] == [
        {"event_type": "login", "count": 2},
        {"event_type": "page_view", "count": 2},
        {"event_type": "button_click", "count": 1},
    ]
    assert parse_z(activity["last_event_at"]) == parse_z(created[-1]["timestamp"])


def test_stats_user_activity_unknown_user_is_404(client: TestClient) -> None:
    create(client, README_CREATE)
    create(client, {**README_CREATE, "user_id": "elsewhere", "app": "other"})
    for user in ("nobody", "elsewhere", "USER_123"):
        response = client.get(f"/stats/user-activity/{user}")
        assert response.status_code == 404, user
        assert isinstance(response.json()["detail"], str)


def test_stats_user_activity_odd_user_ids(client: TestClient) -> None:
    for user in ("user 1", "ü@example.com", "a%b"):
        create(client, event(user, "click"))
        path = "/stats/user-activity/" + httpx.URL(f"/{user}").raw_path.decode()[1:]
        assert get(client, path)["user_id"] == user


def test_stats_recent_activity(client: TestClient) -> None:
    now = dt.datetime.now(UTC)
    ingest(
        client,
        {"name": "click", "user_id": "u", "ts": now - dt.timedelta(minutes=90)},
        {"name": "login", "user_id": "u", "ts": now - dt.timedelta(minutes=150)},
        {"name": "login", "user_id": "u", "ts": now - dt.timedelta(days=2)},
    )
    create(client, event("u", "click"))
    create(client, event("u", "page_view"))
    create(client, event("v", "click"))
    # The README's example.
    recent = get(client, "/stats/recent-activity", minutes=60)
    assert recent == {
        "time_window_minutes": 60,
        "total_events": 3,
        "by_type": [
            {"event_type": "click", "count": 2},
            {"event_type": "page_view", "count": 1},
        ],
    }
    assert get(client, "/stats/recent-activity") == recent
    assert get(client, "/stats/recent-activity", minutes=120) == {
        "time_window_minutes": 120,
        "total_events": 4,
        "by_type": [
            {"event_type": "click", "count": 3},
            {"event_type": "page_view", "count": 1},
        ],
    }
    assert get(client, "/stats/recent-activity", minutes=180)["by_type"] == [
        {"event_type": "click", "count": 3},
        {"event_type": "login", "count": 1},
        {"event_type": "page_view", "count": 1},
    ]
    for minutes in (0, -5, "soon"):
        assert_422(client, "/stats/recent-activity", {"minutes": minutes}, "minutes")


def test_every_read_is_per_app(client: TestClient) -> None:
    ours = create(client, event("alice", "click"))
    theirs = create(client, {**event("bob", "signup"), "app": "other"})
    assert theirs["id"] == ours["id"] + 1  # one store-wide sequence

    def reads(app: str) -> dict[str, Any]:
        return {
            "events": get(client, "/events/", app=app),
            "total": get(client, "/stats/total", app=app),
            "types": get(client, "/stats/by-event-type", app=app),
            "users": get(client, "/stats/by-user", app=app),
            "days": [d["count"] for d in get(client, "/stats/over-time", app=app)],
            "recent": get(client, "/stats/recent-activity", app=app)["by_type"],
        }

    assert reads("default") == {
        "events": [ours],
        "total": {"total_events": 1, "unique_users": 1, "unique_event_types": 1},
        "types": [{"event_type": "click", "count": 1}],
        "users": [{"user_id": "alice", "count": 1}],
        "days": [1],
        "recent": [{"event_type": "click", "count": 1}],
    }
    assert reads("other") == {
        "events": [{k: v for k, v in theirs.items()}],
        "total": {"total_events": 1, "unique_users": 1, "unique_event_types": 1},
        "types": [{"event_type": "signup", "count": 1}],
        "users": [{"user_id": "bob", "count": 1}],
        "days": [1],
        "recent": [{"event_type": "signup", "count": 1}],
    }
    assert client.get("/stats/user-activity/bob").status_code == 404
    assert client.get("/stats/user-activity/alice", params={"app": "other"}).status_code == 404
    assert get(client, "/stats/user-activity/bob", app="other")["total_events"] == 1


# -- a real server -------------------------------------------------------------------------


def test_readme_test_script_against_a_real_server(server: ServerProcess) -> None:
    """The README's "Automated Testing" script, as written, plus its curl examples."""
    with httpx.Client(base_url=server.url, timeout=30) as http:
        for i in range(5):
            response = http.post(
                "/events/",
                json={
                    "user_id": f"user_{i % 3}",
                    "event_type": ["login", "click", "purchase"][i % 3],
                    "metadata": {"test": True, "index": i},
                },
            )
            assert response.status_code == 200
            assert response.json()["id"] == i + 1
        assert http.get("/stats/total").json() == {
            "total_events": 5,
            "unique_users": 3,
            "unique_event_types": 3,
        }
        assert http.get("/stats/by-event-type").json() == [
            {"event_type": "click", "count": 2},
            {"event_type": "login", "count": 2},
            {"event_type": "purchase", "count": 1},
        ]
        assert http.post("/events/", json=README_CURL).json()["id"] == 6
        assert [e["id"] for e in http.get("/events/?user_id=user_123").json()] == [6]
        assert http.get("/stats/recent-activity?minutes=60").json()["total_events"] == 6
        assert http.get("/stats/user-activity/user_0").json()["total_events"] == 2
        assert http.get("/stats/by-user?limit=10").json()[0] == {"user_id": "user_0", "count": 2}
        assert http.get("/stats/over-time?days=7").json()[0]["count"] == 6


@pytest.mark.slow
def test_1000_concurrent_events_get_distinct_increasing_ids(server: ServerProcess) -> None:
    parts = urlsplit(server.url)
    local = threading.local()

    def one(i: int) -> tuple[int, int, Any]:
        connection: http.client.HTTPConnection | None = getattr(local, "connection", None)
        if connection is None:
            connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
            local.connection = connection
        body = json.dumps({"user_id": f"u{i % 10}", "event_type": "load", "metadata": {"i": i}})
        connection.request(
            "POST", "/events/", body=body, headers={"content-type": "application/json"}
        )
        response = connection.getresponse()
        return threading.get_ident(), response.status, json.loads(response.read())

    with ThreadPoolExecutor(max_workers=100) as pool:
        results = list(pool.map(one, range(1000)))
    assert [status for _, status, _ in results] == [200] * 1000
    ids = [body["id"] for _, _, body in results]
    assert sorted(ids) == list(range(1, 1001))
    # Each thread's requests ran one after another: their ids increase in that order.
    per_thread: dict[int, list[int]] = {}
    for thread, _, body in results:
        per_thread.setdefault(thread, []).append(body["id"])
    for thread_ids in per_thread.values():
        assert thread_ids == sorted(thread_ids)
    # The id answered is the id stored for that very event.
    with httpx.Client(base_url=server.url, timeout=30) as api:
        listed = api.get("/events/", params={"limit": 1000}).json()
        assert [e["id"] for e in listed] == list(range(1, 1001))
        by_id = {body["id"]: body for _, _, body in results}
        assert all(e == by_id[e["id"]] for e in listed)
        assert api.get("/stats/total").json() == {
            "total_events": 1000,
            "unique_users": 10,
            "unique_event_types": 1,
        }
        assert api.post("/events/", json=README_CREATE).json()["id"] == 1001
