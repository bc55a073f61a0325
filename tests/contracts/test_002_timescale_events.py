"""Contract 002 (events with time buckets): `/api/events/` by page × operating system,
`GET /`, `GET /healthz` — with the README's own example requests.

The 002 API stamps events with the time they arrive, so data spread over several
buckets is back-dated through footfall's own ingest (`POST /api/v1/events`), which
enriches the user agent the same way.
"""

from __future__ import annotations

import datetime as dt
import re
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from footfall.app import create_app
from footfall.services import Services
from footfall.settings import Settings
from footfall.storage.base import StoreUnavailable
from tests.support.server import ServerProcess

UTC = dt.UTC
ISO_Z = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$")
EVENT_KEYS = {
    "id",
    "time",
    "page",
    "ip_address",
    "user_agent",
    "referrer",
    "session_id",
    "duration",
    "description",
}
BUCKET_KEYS = {"bucket", "page", "operating_system", "avg_duration", "count"}
# The README's request body of POST /api/events/.
README_EVENT = {
    "page": "/homepage",
    "ip_address": "192.168.1.1",
    "user_agent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) ...",
    "referrer": "https://google.com",
    "session_id": "xyz789",
    "duration": 15,
    "description": "User viewed homepage",
}
REQUIRED = ("page", "ip_address", "user_agent", "referrer", "session_id")

UA = {
    "Windows": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
    "Mac": "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.1 Safari/605.1.15",
    "iPhone": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1",
    "iPad": "Mozilla/5.0 (iPad; CPU OS 17_1 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1",
    "Android": "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36",
    "Linux": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
    "Ubuntu": "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0",
    "unknown": "SomethingWeird/1.0",
}

# TimescaleDB's time_bucket origins: fixed widths from Monday 2000-01-03, months from 2000-01.
ORIGIN = dt.datetime(2000, 1, 3, tzinfo=UTC)


def floor_fixed(ts: dt.datetime, width: dt.timedelta) -> dt.datetime:
    return ORIGIN + ((ts - ORIGIN) // width) * width


def floor_months(ts: dt.datetime, months: int) -> dt.datetime:
    index = ((ts.year - 2000) * 12 + ts.month - 1) // months * months
    return dt.datetime(2000 + index // 12, index % 12 + 1, 1, tzinfo=UTC)


def parse_z(text: str) -> dt.datetime:
    assert ISO_Z.match(text), text
    return dt.datetime.fromisoformat(text)


def ingest(client: TestClient, *events: dict[str, Any]) -> None:
    """Back-dated pageviews through `POST /api/v1/events` (`ts` given as a datetime)."""
    body = [
        {"name": "pageview", **e, "ts": e["ts"].isoformat()} if "ts" in e else e for e in events
    ]
    response = client.post("/api/v1/events", json=body)
    assert response.status_code == 202, response.text


def page_event(
    page: str, os: str, duration: int | None, ts: dt.datetime, **extra: Any
) -> dict[str, Any]:
    """One v1 pageview of `page` from a `UA[os]` browser, each in a session of its own."""
    return {
        "url": page,
        "user_agent": UA[os],
        "duration": duration,
        "ts": ts,
        "session_id": f"s-{uuid.uuid4()}",
        **extra,
    }


def create(client: TestClient, path: str = "/api/events/", **overrides: Any) -> Any:
    body = {**README_EVENT, **overrides}
    response = client.post(path, json=body)
    assert response.status_code == 200, response.text
    return response.json()


def buckets(client: TestClient, path: str = "/api/events/", **params: Any) -> list[Any]:
    response = client.get(path, params=params)
    assert response.status_code == 200, response.text
    rows = response.json()
    assert isinstance(rows, list)
    for row in rows:
        assert set(row) == BUCKET_KEYS
        parse_z(row["bucket"])
        assert isinstance(row["page"], str)
        assert row["operating_system"] in {"Windows", "MacOS", "iOS", "Android", "Linux", "Other"}
        assert row["avg_duration"] is None or isinstance(row["avg_duration"], float)
        assert type(row["count"]) is int and row["count"] > 0
    times = [parse_z(row["bucket"]) for row in rows]
    assert times == sorted(times, reverse=True), "newest bucket first"
    return rows


def as_set(rows: list[Any]) -> set[tuple[Any, ...]]:
    """Rows without their order inside a bucket (only "newest bucket first" is specified)."""
    keys = [
        (parse_z(r["bucket"]), r["page"], r["operating_system"], r["avg_duration"], r["count"])
        for r in rows
    ]
    assert len(set(keys)) == len(keys), "one row per bucket × page × operating system"
    return set(keys)


@contextmanager
def custom_client(tmp_path: Path, **settings: Any) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(data_dir=tmp_path / "custom", **settings))) as client:
        yield client


# -- POST /api/events/ ------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/api/events/", "/api/events"])
def test_create_readme_example(client: TestClient, path: str) -> None:
    before = dt.datetime.now(UTC)
    response = client.post(path, json=README_EVENT)
    after = dt.datetime.now(UTC)
    assert response.status_code == 200
    body = response.json()
    assert set(body) == EVENT_KEYS
    assert str(uuid.UUID(body["id"])) == body["id"]
    assert before - dt.timedelta(milliseconds=1) <= parse_z(body["time"]) <= after
    assert {k: body[k] for k in README_EVENT} == README_EVENT
    assert type(body["duration"]) is int


def test_create_without_optional_fields(client: TestClient) -> None:
    body = {k: README_EVENT[k] for k in REQUIRED}
    response = client.post("/api/events/", json=body)
    assert response.status_code == 200
    event = response.json()
    assert set(event) == EVENT_KEYS
    assert event["duration"] is None and event["description"] is None
    assert {k: event[k] for k in REQUIRED} == body
    assert create(client, duration=0)["duration"] == 0


def test_create_validation(client: TestClient) -> None:
    cases: list[tuple[dict[str, Any], str]] = [
        *(({k: v for k, v in README_EVENT.items() if k != field}, field) for field in REQUIRED),
        ({**README_EVENT, "duration": -1}, "duration"),
        ({**README_EVENT, "duration": 1.5}, "duration"),
        ({**README_EVENT, "duration": "long"}, "duration"),
        ({**README_EVENT, "page": 3}, "page"),
        ({**README_EVENT, "session_id": None}, "session_id"),
        ({**README_EVENT, "description": ["x"]}, "description"),
    ]
    for body, field in cases:
        for path in ("/api/events/", "/api/events"):
            response = client.post(path, json=body)
            assert response.status_code == 422, (path, body)
            detail = response.json()["detail"]
            assert any(error["loc"] == ["body", field] for error in detail), detail
    assert buckets(client) == []


# -- GET /api/events/{event_id}/ ------------------------------------------------------------


def test_get_by_id_with_and_without_slash(client: TestClient) -> None:
    created = create(client)
    minimal = create(client, path="/api/events", duration=None, description=None)
    for event in (created, minimal):
        for path in (f"/api/events/{event['id']}/", f"/api/events/{event['id']}"):
            response = client.get(path)
            assert response.status_code == 200, path
            assert response.json() == event
    # Upper-case and brace-less UUID spellings are the same id.
    assert client.get(f"/api/events/{created['id'].upper()}/").json() == created


def test_get_unknown_id_is_404(client: TestClient) -> None:
    create(client)
    for path in (f"/api/events/{uuid.uuid4()}/", f"/api/events/{uuid.uuid4()}"):
        response = client.get(path)
        assert response.status_code == 404
        assert response.json() == {"detail": "Event not found"}


def test_get_non_uuid_is_422(client: TestClient) -> None:
    for path in ("/api/events/not-a-uuid/", "/api/events/12345", "/api/events/1-2-3-4/"):
        response = client.get(path)
        assert response.status_code == 422, path
        assert response.json()["detail"][0]["loc"] == ["path", "event_id"]


def test_get_by_id_of_an_event_another_api_wrote(client: TestClient) -> None:
    """One store: a `/visit` is an event with an id too (found here by listing the store)."""
    client.post("/visit", json={"user_id": "u1", "page_url": "https://example.com/home"})
    services: Services = client.app.state.services  # type: ignore[attr-defined]
    ((event_id,),) = services.store.query("SELECT id FROM events")
    event = client.get(f"/api/events/{event_id}/").json()
    assert set(event) == EVENT_KEYS
    assert (event["id"], event["page"], event["duration"]) == (str(event_id), "/home", None)
    parse_z(event["time"])


# -- GET /api/events/ (buckets) -------------------------------------------------------------


def test_buckets_by_page_and_operating_system(client: TestClient) -> None:
    now = dt.datetime.now(UTC)
    d0, d1, d2 = now - dt.timedelta(minutes=5), now - dt.timedelta(days=1), now - dt.timedelta(2)
    ingest(
        client,
        page_event("/", "Windows", 10, d0),
        page_event("/", "Windows", 20, d0),
        page_event("/", "Windows", None, d0),  # not part of the mean
        page_event("/", "Mac", 7, d0),
        page_event("/", "iPhone", None, d0),
        page_event("/", "iPad", 30, d0),  # iPhone and iPad are both iOS
        page_event("/", "Ubuntu", 1, d0),
        page_event("/about", "Android", 5, d1),
        page_event("/about", "Android", 6, d1),
        page_event("/about", "Linux", 8, d1),
        page_event("/about", "unknown", None, d1),
        page_event("/about", "unknown", None, d1),
        page_event("/", "Windows", 4, d2),
        page_event("/contact", "Windows", 100, d0),  # not asked for
    )
    day = dt.timedelta(days=1)
    b0, b1, b2 = floor_fixed(d0, day), floor_fixed(d1, day), floor_fixed(d2, day)
    # The README's example request.
    rows = buckets(client, duration="1 day", pages=["/", "/about"])
    assert as_set(rows) == {
        (b0, "/", "Windows", 15.0, 3),
        (b0, "/", "MacOS", 7.0, 1),
        (b0, "/", "iOS", 30.0, 2),
        (b0, "/", "Linux", 1.0, 1),
        (b1, "/about", "Android", 5.5, 2),
        (b1, "/about", "Linux", 8.0, 1),
        (b1, "/about", "Other", None, 2),
        (b2, "/", "Windows", 4.0, 1),
    }
    assert [parse_z(r["bucket"]) for r in rows] == [b0] * 4 + [b1] * 3 + [b2]
    # The same without the trailing slash, and with the default duration (1 day).
    assert buckets(client, "/api/events", pages=["/", "/about"]) == rows
    # One page only.
    assert as_set(buckets(client, pages="/about")) == {
        (b1, "/about", "Android", 5.5, 2),
        (b1, "/about", "Linux", 8.0, 1),
        (b1, "/about", "Other", None, 2),
    }
    # A page nobody visited.
    assert buckets(client, pages="/never") == []


def test_avg_duration_is_the_mean_of_known_durations(client: TestClient) -> None:
    now = dt.datetime.now(UTC) - dt.timedelta(minutes=1)
    ingest(
        client,
        page_event("/a", "Windows", 10, now),
        page_event("/a", "Windows", 20, now),
        page_event("/a", "Windows", 25, now),
        page_event("/a", "Windows", None, now),
        page_event("/b", "Windows", None, now),
        page_event("/b", "Windows", None, now),
        page_event("/c", "Windows", 0, now),
    )
    rows = {r["page"]: r for r in buckets(client, duration="1 week")}
    assert rows["/a"]["count"] == 4
    assert rows["/a"]["avg_duration"] == pytest.approx(55 / 3, abs=0.01)
    assert (rows["/b"]["count"], rows["/b"]["avg_duration"]) == (2, None)
    assert (rows["/c"]["count"], rows["/c"]["avg_duration"]) == (1, 0.0)


def test_events_posted_through_002_are_bucketed_by_receive_time(client: TestClient) -> None:
    first = create(client, page="/", user_agent=UA["iPhone"], session_id="a", duration=3)
    # Wait for the next whole second: '1 second' buckets then differ.
    time.sleep(1.02 - parse_z(first["time"]).microsecond / 1e6)
    second = create(client, page="/", user_agent=UA["Android"], session_id="b", duration=None)
    rows = buckets(client, duration="1 second", pages="/")
    second_bucket = parse_z(second["time"]).replace(microsecond=0)
    first_bucket = parse_z(first["time"]).replace(microsecond=0)
    assert second_bucket > first_bucket
    assert rows == [
        {
            "bucket": second_bucket.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "page": "/",
            "operating_system": "Android",
            "avg_duration": None,
            "count": 1,
        },
        {
            "bucket": first_bucket.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "page": "/",
            "operating_system": "iOS",
            "avg_duration": 3.0,
            "count": 1,
        },
    ]


@pytest.mark.parametrize(
    ("duration", "width"),
    [
        ("1 hour", dt.timedelta(hours=1)),
        ("2 hours", dt.timedelta(hours=2)),
        ("30 min", dt.timedelta(minutes=30)),
        ("1 hr", dt.timedelta(hours=1)),
        ("10 sec", dt.timedelta(seconds=10)),
        ("1 week", dt.timedelta(weeks=1)),
        ("1 month", None),
        ("01:30:00", dt.timedelta(minutes=90)),
        ("1 day", dt.timedelta(days=1)),
        ("15 minutes", dt.timedelta(minutes=15)),
        ("3 days", dt.timedelta(days=3)),
    ],
)
def test_every_interval_form(client: TestClient, duration: str, width: dt.timedelta | None) -> None:
    newer = dt.datetime.now(UTC) - dt.timedelta(minutes=1)
    older = newer - (width * 2 if width else dt.timedelta(days=62))
    ingest(client, page_event("/p", "Windows", 10, newer), page_event("/p", "Mac", 20, older))
    start = (older - dt.timedelta(days=1)).isoformat()
    rows = buckets(client, duration=duration, start=start)

    def floor(ts: dt.datetime) -> dt.datetime:
        return floor_fixed(ts, width) if width else floor_months(ts, 1)

    assert [(parse_z(r["bucket"]), r["operating_system"], r["avg_duration"]) for r in rows] == [
        (floor(newer), "Windows", 10.0),
        (floor(older), "MacOS", 20.0),
    ]


def test_rejected_intervals_are_422_naming_the_value(client: TestClient) -> None:
    for duration in (
        "bogus",
        "1 fortnight",
        "1 year",
        "0 days",
        "-1 day",
        "1",
        "day",
        "1.5 months",
        "1 month 1 day",
        "01:60:00",
        "1:30",
        "",
        "1 microsecond",
        "100000000 weeks",
        "99999999999999 months",
    ):
        for path in ("/api/events/", "/api/events"):
            response = client.get(path, params={"duration": duration})
            assert response.status_code == 422, duration
            (error,) = response.json()["detail"]
            assert error["loc"] == ["query", "duration"]
            assert repr(duration) in error["msg"], error
            assert error["input"] == duration


def test_pages_default_to_the_configured_list(tmp_path: Path) -> None:
    now = dt.datetime.now(UTC) - dt.timedelta(minutes=1)
    with custom_client(tmp_path, default_pages="/, /about") as client:
        ingest(
            client,
            page_event("/", "Windows", 1, now),
            page_event("/about", "Windows", 2, now),
            page_event("/contact", "Windows", 3, now),
        )
        assert {r["page"] for r in buckets(client)} == {"/", "/about"}
        assert {r["page"] for r in buckets(client, "/api/events")} == {"/", "/about"}
        # Asking for pages overrides the list.
        assert {r["page"] for r in buckets(client, pages="/contact")} == {"/contact"}


def test_default_pages_come_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FOOTFALL_DEFAULT_PAGES", "/pricing,/docs")
    assert Settings(data_dir=tmp_path).default_pages == "/pricing,/docs"


def test_pages_unset_means_every_page(client: TestClient) -> None:
    now = dt.datetime.now(UTC) - dt.timedelta(minutes=1)
    ingest(
        client,
        page_event("/", "Windows", 1, now),
        page_event("/about", "Windows", 2, now),
        page_event("/contact", "Windows", 3, now),
    )
    # Events that are on no page (a bare 001 visit, a 003 event) are not a page.
    client.post("/visit")
    client.post("/events/", json={"user_id": "u", "event_type": "click"})
    rows = buckets(client)
    assert sorted(r["page"] for r in rows) == ["/", "/about", "/contact"]


def test_start_and_end(client: TestClient) -> None:
    now = dt.datetime.now(UTC)
    old, recent = now - dt.timedelta(days=40), now - dt.timedelta(days=1)
    ingest(
        client,
        page_event("/", "Windows", 1, old),
        page_event("/", "Windows", 2, recent),
        page_event("/", "Windows", 3, now - dt.timedelta(minutes=10)),
    )

    def total(**params: Any) -> int:
        return sum(r["count"] for r in buckets(client, duration="1 hour", **params))

    assert total() == 2  # default window: the last 30 days
    since = old - dt.timedelta(hours=1)
    assert total(start=since.isoformat()) == 3
    assert total(start=since.isoformat(), end=(now - dt.timedelta(days=2)).isoformat()) == 1
    assert total(end=(now - dt.timedelta(hours=2)).isoformat()) == 1
    # Every accepted spelling of the same instant: Z, offset, fraction, naive, date.
    naive = since.replace(tzinfo=None)
    for start in (
        naive.strftime("%Y-%m-%dT%H:%M:%SZ"),
        naive.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        (since.astimezone(dt.timezone(dt.timedelta(hours=2)))).isoformat(),
        naive.isoformat(),
        naive.strftime("%Y-%m-%dT%H:%M:%S"),
        (since - dt.timedelta(days=1)).date().isoformat(),
    ):
        assert total(start=start) == 3, start


def test_bad_start_or_end_is_422(client: TestClient) -> None:
    for params, field in (
        ({"start": "yesterday"}, "start"),
        ({"end": "2025-13-01"}, "end"),
        ({"start": "2025-01-02", "end": "2025-01-01"}, "end"),
    ):
        response = client.get("/api/events/", params=params)
        assert response.status_code == 422, params
        (error,) = response.json()["detail"]
        assert error["loc"] == ["query", field]


def test_every_read_is_per_app(client: TestClient) -> None:
    mine = create(client, app="shop", page="/", user_agent=UA["Linux"])
    theirs = create(client, page="/", user_agent=UA["Windows"])
    assert client.get(f"/api/events/{mine['id']}/").status_code == 404
    assert client.get(f"/api/events/{mine['id']}/", params={"app": "shop"}).json() == mine
    assert client.get(f"/api/events/{theirs['id']}/", params={"app": "shop"}).status_code == 404
    assert [r["operating_system"] for r in buckets(client)] == ["Windows"]
    assert [r["operating_system"] for r in buckets(client, app="shop")] == ["Linux"]
    assert buckets(client, app="nobody") == []


def test_operating_system_is_per_event_even_within_one_session(client: TestClient) -> None:
    """The README's own example sends a constant session_id: each event keeps its own OS."""
    create(client, page="/", user_agent=UA["Windows"], session_id="xyz789")
    create(client, page="/", user_agent=UA["iPhone"], session_id="xyz789")
    assert {(r["operating_system"], r["count"]) for r in buckets(client, pages="/")} == {
        ("Windows", 1),
        ("iOS", 1),
    }


# -- GET / and GET /healthz ---------------------------------------------------------------


def test_root_says_hello(client: TestClient) -> None:
    for headers in ({}, {"accept": "application/json"}):
        response = client.get("/", headers=headers)
        assert response.status_code == 200
        assert response.json() == {"hello": "world"}


def test_healthz(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_healthz_is_503_when_the_store_does_not_answer(
    client: TestClient, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken() -> None:
        raise StoreUnavailable("disk on fire")

    monkeypatch.setattr(services.store, "ping", broken)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["status"] != "ok"
    assert "disk on fire" in response.text


# -- a real server -------------------------------------------------------------------------


def test_readme_examples_against_a_real_server(tmp_path: Path) -> None:
    env = {"FOOTFALL_DEFAULT_PAGES": "/,/about"}
    with (
        ServerProcess(tmp_path / "server", env=env) as server,
        httpx.Client(base_url=server.url, timeout=30) as http,
    ):
        created = http.post("/api/events/", json=README_EVENT).json()
        assert set(created) == EVENT_KEYS
        for path in (f"/api/events/{created['id']}/", f"/api/events/{created['id']}"):
            assert http.get(path).json() == created
        missing = http.get(f"/api/events/{uuid.uuid4()}/")
        assert (missing.status_code, missing.json()) == (404, {"detail": "Event not found"})
        for page, os in (("/", "Windows"), ("/about", "Mac"), ("/about", "iPhone")):
            body = {**README_EVENT, "page": page, "user_agent": UA[os], "session_id": os}
            assert http.post("/api/events", json=body).status_code == 200
        today = floor_fixed(parse_z(created["time"]), dt.timedelta(days=1))
        expected = {
            (today, "/", "Windows", 15.0, 1),
            (today, "/about", "MacOS", 15.0, 1),
            (today, "/about", "iOS", 15.0, 1),
        }
        readme = http.get("/api/events/", params={"duration": "1 day", "pages": ["/", "/about"]})
        assert as_set(readme.json()) == expected
        # Without pages: FOOTFALL_DEFAULT_PAGES, so /homepage is left out.
        assert as_set(http.get("/api/events").json()) == expected
        assert http.get("/api/events/", params={"duration": "1 parsec"}).status_code == 422
        assert http.get("/").json() == {"hello": "world"}
        assert http.get("/healthz").json() == {"status": "ok"}
