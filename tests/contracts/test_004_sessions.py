"""Contract 004 (Session and Page Tracking Backend): every endpoint, with the README's own
examples, against the real app and the real store; one test through a real server process."""

from __future__ import annotations

import datetime as dt
import re
import stat
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from fastapi.testclient import TestClient

from footfall.app import create_app
from footfall.auth import SECRET_FILE, mint_token
from footfall.model import Event
from footfall.services import Services
from footfall.settings import Settings
from footfall.timeparse import ACCEPTED_FORMATS
from tests.support.server import ServerProcess

SECRET = "contract-004-test-secret-at-least-32-bytes"
ISO_Z = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$")
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")

READ_ENDPOINTS = (
    "/api/v1/page_stats",
    "/api/v1/session_heatmap",
    "/api/v1/session_most_active",
    "/api/v1/session_stats",
)
LIFECYCLE = ("session_start", "session_pause", "session_resume", "session_end")
# Every 004 endpoint with a body it would accept: all of them need a token.
ALL_ENDPOINTS: tuple[tuple[str, str, dict[str, Any] | None], ...] = (
    ("POST", "/api/v1/auth/validate-token", {"app": "myapp"}),
    ("GET", "/api/v1/auth/validate-token", None),
    ("POST", "/api/v1/auth/token-info", {"app": "myapp"}),
    ("GET", "/api/v1/auth/token-info", None),
    ("POST", "/api/v1/page_track", {"page": "homepage", "timespent": 120}),
    *(("GET", path, None) for path in READ_ENDPOINTS),
    *(("POST", path, {"app": "myapp"}) for path in READ_ENDPOINTS),
    *(
        ("POST", f"/api/v1/{name}", {"username": "john_doe", "time": "2024-01-01T12:00:00Z"})
        for name in LIFECYCLE
    ),
    ("POST", "/api/sessions/summary", {"app": "myapp", "user": "john.doe@example.com"}),
)


@pytest.fixture
def settings(tmp_path: Path, store_url: str) -> Settings:
    return Settings(data_dir=tmp_path / "data", jwt_secret=SECRET, store=store_url)


def token(sub: str = "Demo", secret: str = SECRET, **claims: Any) -> str:
    return jwt.encode({"sub": sub, "exp": int(time.time()) + 600, **claims}, secret, "HS256")


def auth(sub: str = "Demo", **claims: Any) -> dict[str, str]:
    return {"Authorization": f"Bearer {token(sub, **claims)}"}


def iso(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


def lifecycle(
    client: TestClient, action: str, username: str, at: str | dt.datetime, **extra: Any
) -> httpx.Response:
    body = {"username": username, "time": at if isinstance(at, str) else iso(at), **extra}
    return client.post(f"/api/v1/session_{action}", headers=auth(), json=body)


def run_session(
    client: TestClient,
    username: str,
    start: dt.datetime,
    *,
    active: dt.timedelta,
    app: str = "default",
    end: bool = True,
) -> str:
    response = lifecycle(client, "start", username, start, app=app)
    assert response.status_code == 200, response.text
    if end:
        ended = lifecycle(client, "end", username, start + active, app=app)
        assert ended.status_code == 200, ended.text
    session_id: str = response.json()["session_id"]
    return session_id


def read(client: TestClient, path: str, method: str = "GET", **params: Any) -> Any:
    if method == "GET":
        response = client.get(path, headers=auth(), params=params)
    else:
        response = client.post(path, headers=auth(), json=params)
    assert response.status_code == 200, response.text
    return response.json()


# --- authentication -----------------------------------------------------------------


def test_validate_token_post_and_get(client: TestClient) -> None:
    expected = {"valid": True, "user": "Demo", "message": "Token is valid"}
    response = client.post("/api/v1/auth/validate-token", headers=auth(), json={"app": "myapp"})
    assert response.status_code == 200
    assert response.json() == expected
    assert client.get("/api/v1/auth/validate-token", headers=auth()).json() == expected
    # The body is optional.
    assert client.post("/api/v1/auth/validate-token", headers=auth()).json() == expected


def test_token_info_post_and_get(client: TestClient) -> None:
    exp = int(time.time()) + 300
    bearer = {"Authorization": f"Bearer {jwt.encode({'sub': 'Demo', 'exp': exp}, SECRET)}"}
    expected = {
        "user": "Demo",
        "payload": {"sub": "Demo", "exp": exp},
        "message": "Token information retrieved successfully",
    }
    assert client.post("/api/v1/auth/token-info", headers=bearer, json={"app": "myapp"}).json() == (
        expected
    )
    assert client.get("/api/v1/auth/token-info", headers=bearer).json() == expected


def _bad_tokens() -> dict[str, dict[str, str]]:
    none_alg = jwt.encode({"sub": "Demo", "exp": int(time.time()) + 60}, None, algorithm="none")
    return {
        "missing": {},
        "not-bearer": {"Authorization": f"Basic {token()}"},
        "empty-bearer": {"Authorization": "Bearer "},
        "malformed": {"Authorization": "Bearer not.a.jwt"},
        "forged": {"Authorization": f"Bearer {token(secret='another-issuer-secret-32-bytes!!')}"},
        "expired": {"Authorization": f"Bearer {token(exp=int(time.time()) - 10)}"},
        "alg-none": {"Authorization": f"Bearer {none_alg}"},
        "no-exp": {"Authorization": f"Bearer {jwt.encode({'sub': 'Demo'}, SECRET)}"},
    }


def test_bad_tokens_get_401_with_www_authenticate(client: TestClient) -> None:
    for kind, headers in _bad_tokens().items():
        response = client.post(
            "/api/v1/auth/validate-token", headers=headers, json={"app": "myapp"}
        )
        assert response.status_code == 401, kind
        assert response.headers["www-authenticate"] == "Bearer", kind
        assert isinstance(response.json()["detail"], str) and response.json()["detail"], kind


def test_every_endpoint_requires_a_verified_token(client: TestClient) -> None:
    forged = {
        "Authorization": f"Bearer {token('admin', secret='forged-by-someone-else-32-bytes!')}"
    }
    for method, path, body in ALL_ENDPOINTS:
        for headers in ({}, forged):
            response = client.request(method, path, headers=headers, json=body)
            assert response.status_code == 401, (path, response.text)
            assert response.headers["www-authenticate"] == "Bearer"
    # Nothing was stored by the refused writes.
    assert read(client, "/api/sessions/summary", "POST")["total_sessions"] == 0
    assert read(client, "/api/v1/page_stats")["page_counts"] == {}


def test_health_needs_no_token(client: TestClient) -> None:
    assert client.get("/health").status_code == 200


def test_a_token_for_one_app_cannot_address_another(client: TestClient) -> None:
    shop = auth(app="shop")
    assert (
        client.post(
            "/api/v1/page_track", headers=shop, json={"page": "a", "timespent": 1, "app": "shop"}
        ).status_code
        == 200
    )
    refused = client.post("/api/v1/page_track", headers=shop, json={"page": "a", "timespent": 1})
    assert refused.status_code == 403
    assert "shop" in refused.json()["detail"]
    assert client.get("/api/v1/page_stats", headers=shop, params={"app": "other"}).status_code == (
        403
    )
    assert client.get("/api/v1/page_stats", headers=shop, params={"app": "shop"}).json()[
        "page_counts"
    ] == {"a": 1}


def test_rotated_secrets_are_all_accepted(tmp_path: Path) -> None:
    rotated = Settings(
        data_dir=tmp_path / "rot", jwt_secret=f"{SECRET},old-secret-still-valid-32-bytes!"
    )
    with TestClient(create_app(rotated)) as client:
        old = {"Authorization": f"Bearer {token(secret='old-secret-still-valid-32-bytes!')}"}
        assert client.get("/api/v1/auth/validate-token", headers=old).status_code == 200
        assert client.get("/api/v1/auth/validate-token", headers=auth()).status_code == 200


def test_without_a_secret_one_is_generated_at_first_start_and_reused(tmp_path: Path) -> None:
    data = tmp_path / "gen"
    with TestClient(create_app(Settings(data_dir=data, jwt_secret=""))) as client:
        secret_file = data / SECRET_FILE
        assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
        secret = secret_file.read_text().strip()
        minted = mint_token(secret, "Demo", dt.timedelta(minutes=5))
        headers = {"Authorization": f"Bearer {minted}"}
        assert client.get("/api/v1/auth/validate-token", headers=headers).status_code == 200
    with TestClient(create_app(Settings(data_dir=data, jwt_secret=""))) as client:
        assert secret_file.read_text().strip() == secret
        assert client.get("/api/v1/auth/validate-token", headers=headers).status_code == 200


# --- page tracking --------------------------------------------------------------------


def test_page_track_readme_example(client: TestClient) -> None:
    response = client.post(
        "/api/v1/page_track", headers=auth(), json={"page": "homepage", "timespent": 120}
    )
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"message", "page", "timespent", "timestamp"}
    assert body["message"] == "Page tracked successfully"
    assert body["page"] == "homepage"
    assert body["timespent"] == 120 and isinstance(body["timespent"], int)
    assert ISO_Z.match(body["timestamp"])
    sent = dt.datetime.fromisoformat(body["timestamp"])
    assert abs((dt.datetime.now(dt.UTC) - sent).total_seconds()) < 60
    # Fractional seconds are kept as given.
    half = client.post(
        "/api/v1/page_track", headers=auth(), json={"page": "about", "timespent": 0.5}
    )
    assert half.json()["timespent"] == 0.5


PAGE_TRACK_BAD_INPUT: list[tuple[dict[str, Any], str]] = [
    ({"timespent": 120}, "page"),
    ({"page": "homepage"}, "timespent"),
    ({"page": "homepage", "timespent": -1}, "timespent"),
    ({"page": "homepage", "timespent": "soon"}, "timespent"),
    ({"page": "homepage", "timespent": True}, "timespent"),
    ({"page": "", "timespent": 1}, "page"),
    ({"page": 42, "timespent": 1}, "page"),
    ({"page": "homepage", "timespent": 1, "app": ""}, "app"),
]


def test_page_track_bad_input_is_422_naming_the_field(client: TestClient) -> None:
    for body, field in PAGE_TRACK_BAD_INPUT:
        response = client.post("/api/v1/page_track", headers=auth(), json=body)
        assert response.status_code == 422, body
        locations = [error["loc"] for error in response.json()["detail"]]
        assert any(field in loc for loc in locations), (body, locations)
    assert read(client, "/api/v1/page_stats")["page_counts"] == {}


def test_page_stats_counts_and_time_spent_windows(client: TestClient, services: Services) -> None:
    for page, seconds in (("homepage", 120), ("homepage", 60), ("about", 30.5)):
        client.post("/api/v1/page_track", headers=auth(), json={"page": page, "timespent": seconds})
    current = int(time.time() * 1_000_000)
    day = 86_400 * 1_000_000
    # Older page tracks of the same user, written as page_track would have written them.
    services.writer.write_sync(
        [
            Event(
                name="pageview",
                user_id="Demo",
                path="homepage",
                duration=1000,
                ts=current - 3 * day,
            ),
            Event(
                name="pageview",
                user_id="Demo",
                path="homepage",
                duration=2000,
                ts=current - 20 * day,
            ),
            Event(name="pageview", user_id="Demo", path="old", duration=5, ts=current - 400 * day),
        ]
    )
    expected = {
        "page_counts": {"homepage": 4, "about": 1, "old": 1},
        "time_spent": {
            "last_24hr": {"homepage": 180, "about": 30.5},
            "last_7days": {"homepage": 1180, "about": 30.5},
            "last_1month": {"homepage": 3180, "about": 30.5},
            "all_time": {"homepage": 3180, "about": 30.5, "old": 5},
        },
    }
    assert read(client, "/api/v1/page_stats") == expected
    assert read(client, "/api/v1/page_stats", "POST") == expected
    assert read(client, "/api/v1/page_stats", "POST", app="default", user="all") == expected


def test_page_stats_user_filter(client: TestClient) -> None:
    client.post("/api/v1/page_track", headers=auth("alice"), json={"page": "a", "timespent": 10})
    client.post("/api/v1/page_track", headers=auth("bob"), json={"page": "b", "timespent": 20})
    alice = read(client, "/api/v1/page_stats", user="alice")
    assert alice["page_counts"] == {"a": 1}
    assert alice["time_spent"]["all_time"] == {"a": 10}
    assert read(client, "/api/v1/page_stats", "POST", user="bob")["page_counts"] == {"b": 1}
    assert read(client, "/api/v1/page_stats", user="all")["page_counts"] == {"a": 1, "b": 1}


def test_page_tracks_and_other_apis_share_one_store(client: TestClient) -> None:
    client.post("/api/v1/page_track", headers=auth(), json={"page": "/pricing", "timespent": 12})
    # A pageview sent through footfall's own ingest API counts in page_stats…
    ingest = client.post("/api/v1/events", json={"name": "pageview", "url": "https://x.io/pricing"})
    assert ingest.status_code == 202
    assert read(client, "/api/v1/page_stats")["page_counts"] == {"/pricing": 2}
    # …and the page track counts in the generic query API.
    answer = client.post(
        "/api/v1/query",
        json={"metrics": ["pageviews"], "dimensions": ["event:page"], "date_range": "all"},
    ).json()
    assert answer["results"] == [{"dimensions": ["/pricing"], "metrics": [2]}]


# --- session lifecycle --------------------------------------------------------------------


def test_session_lifecycle_readme_examples(client: TestClient) -> None:
    start = client.post(
        "/api/v1/session_start",
        headers=auth(),
        json={"username": "john_doe", "time": "2024-01-01T12:00:00Z", "status": "active"},
    )
    assert start.status_code == 200
    assert set(start.json()) == {"session_id", "message"}
    assert start.json()["message"] == "Session started successfully"
    assert UUID.match(start.json()["session_id"])
    for action, at, status, message in (
        ("pause", "2024-01-01T12:30:00Z", "paused", "Session paused successfully"),
        ("resume", "2024-01-01T12:45:00Z", "active", "Session resumed successfully"),
        ("end", "2024-01-01T13:00:00Z", "ended", "Session ended successfully"),
    ):
        response = client.post(
            f"/api/v1/session_{action}",
            headers=auth(),
            json={"username": "john_doe", "time": at, "status": status},
        )
        assert response.status_code == 200, response.text
        assert response.json() == {"message": message}
    summary = client.post(
        "/api/sessions/summary", headers=auth(), json={"app": "default", "user": "john_doe"}
    ).json()
    assert summary == {
        "app": "default",
        "user": "john_doe",
        "total_sessions": 1,
        "active_sessions": 0,
        "ended_sessions": 1,
        "total_active_time": 2700.0,  # 30 + 15 minutes: the pause is excluded
        "avg_session_time": 2700.0,
        "last_session_at": "2024-01-01T12:00:00.000000Z",
    }


def test_lifecycle_events_are_events_of_the_one_store(client: TestClient) -> None:
    run_session(
        client,
        "john_doe",
        dt.datetime(2024, 1, 1, 12, tzinfo=dt.UTC),
        active=dt.timedelta(minutes=5),
    )
    answer = client.post(
        "/api/v1/query",
        json={"metrics": ["events"], "dimensions": ["event:name", "user_id"], "date_range": "all"},
    ).json()
    rows = sorted(tuple(row["dimensions"]) + tuple(row["metrics"]) for row in answer["results"])
    assert rows == [("session_end", "john_doe", 1), ("session_start", "john_doe", 1)]


ILLEGAL: list[tuple[list[str], str, str]] = [
    (["pause"], "pause", "paused"),
    ([], "resume", "active"),
    (["pause", "resume"], "resume", "active"),
    (["end"], "pause", "ended"),
    (["end"], "resume", "ended"),
    (["end"], "end", "ended"),
    (["pause", "end"], "resume", "ended"),
]


def test_illegal_transitions_are_409_naming_the_current_state(client: TestClient) -> None:
    base = dt.datetime(2024, 1, 1, 12, tzinfo=dt.UTC)
    for case, (steps, action, state) in enumerate(ILLEGAL):
        user = f"user{case}"
        session_id = lifecycle(client, "start", user, base).json()["session_id"]
        for i, step in enumerate(steps, start=1):
            assert lifecycle(client, step, user, base + dt.timedelta(minutes=i)).status_code == 200
        before = read(client, "/api/sessions/summary", "POST", user=user)
        response = lifecycle(client, action, user, base + dt.timedelta(hours=1))
        assert response.status_code == 409, (steps, action)
        body = response.json()
        assert body["current_state"] == state
        assert state in body["detail"]
        assert body["session_id"] == session_id
        # Nothing changed.
        assert read(client, "/api/sessions/summary", "POST", user=user) == before


def test_no_session_at_all_is_409(client: TestClient) -> None:
    for action in ("pause", "resume", "end"):
        response = lifecycle(client, action, "nobody", "2024-01-01T12:00:00Z")
        assert response.status_code == 409
        assert response.json()["current_state"] is None
        assert "no session" in response.json()["detail"]


def test_a_time_earlier_than_the_last_event_is_422(client: TestClient) -> None:
    lifecycle(client, "start", "john_doe", "2024-01-01T12:00:00Z")
    assert lifecycle(client, "pause", "john_doe", "2024-01-01T12:30:00Z").status_code == 200
    response = lifecycle(client, "resume", "john_doe", "2024-01-01T12:29:59Z")
    assert response.status_code == 422
    (error,) = response.json()["detail"]
    assert error["loc"] == ["body", "time"]
    assert "earlier than the last event" in error["msg"]
    assert "2024-01-01T12:30:00" in error["msg"]
    # The same time as the last event is fine.
    assert lifecycle(client, "resume", "john_doe", "2024-01-01T12:30:00Z").status_code == 200


def test_a_time_not_in_iso_8601_is_422_listing_the_accepted_formats(client: TestClient) -> None:
    bad_times = ["2024-01-01", "01/01/2024 12:00", "2024-01-01 12:00:00", "yesterday", "1704110400"]
    for bad in bad_times:
        for action in LIFECYCLE:
            response = client.post(
                f"/api/v1/{action}", headers=auth(), json={"username": "john_doe", "time": bad}
            )
            assert response.status_code == 422
            (error,) = response.json()["detail"]
            assert error["loc"] == ["body", "time"]
            for example in ACCEPTED_FORMATS:
                assert example in error["msg"]


@pytest.mark.parametrize(
    ("start", "end", "seconds"),
    [
        ("2024-01-01T12:00:00.123Z", "2024-01-01T12:00:10.623Z", 10.5),
        ("2024-01-01T12:00:00", "2024-01-01T12:01:00Z", 60.0),  # naive = UTC
        ("2024-01-01T14:00:00+02:00", "2024-01-01T12:00:30Z", 30.0),
    ],
)
def test_accepted_time_formats(client: TestClient, start: str, end: str, seconds: float) -> None:
    assert lifecycle(client, "start", "john_doe", start).status_code == 200
    assert lifecycle(client, "end", "john_doe", end).status_code == 200
    assert read(client, "/api/sessions/summary", "POST")["total_active_time"] == seconds


def test_missing_or_wrong_fields_are_422(client: TestClient) -> None:
    for body in (
        {"time": "2024-01-01T12:00:00Z"},
        {"username": "john_doe"},
        {"username": "", "time": "2024-01-01T12:00:00Z"},
        {"username": "john_doe", "time": 1704110400},
        {"username": "john_doe", "time": "2024-01-01T12:00:00Z", "app": ""},
    ):
        response = client.post("/api/v1/session_start", headers=auth(), json=body)
        assert response.status_code == 422, body
    assert read(client, "/api/sessions/summary", "POST")["total_sessions"] == 0


def test_transitions_act_on_the_latest_open_session_or_an_explicit_one(client: TestClient) -> None:
    base = dt.datetime(2024, 1, 1, 12, tzinfo=dt.UTC)
    first = lifecycle(client, "start", "john_doe", base).json()["session_id"]
    second = lifecycle(client, "start", "john_doe", base + dt.timedelta(minutes=1)).json()[
        "session_id"
    ]
    # Without session_id: the latest open one (second).
    assert lifecycle(client, "end", "john_doe", base + dt.timedelta(minutes=2)).status_code == 200
    # Now the latest open one is the first.
    assert lifecycle(client, "pause", "john_doe", base + dt.timedelta(minutes=3)).status_code == 200
    # Explicitly: the second is ended.
    response = lifecycle(
        client, "resume", "john_doe", base + dt.timedelta(minutes=4), session_id=second
    )
    assert response.status_code == 409 and response.json()["current_state"] == "ended"
    response = lifecycle(
        client, "resume", "john_doe", base + dt.timedelta(minutes=4), session_id=first
    )
    assert response.status_code == 200
    # Unknown, or another user's session: 404.
    missing = lifecycle(
        client, "end", "john_doe", base + dt.timedelta(minutes=5), session_id="nope"
    )
    assert missing.status_code == 404
    theirs = lifecycle(client, "end", "mallory", base + dt.timedelta(minutes=5), session_id=first)
    assert theirs.status_code == 404
    summary = read(client, "/api/sessions/summary", "POST", user="john_doe")
    assert (summary["active_sessions"], summary["ended_sessions"]) == (1, 1)
    # 3 min active before the pause; the second ran 1 minute.
    assert summary["total_active_time"] == 180 + 60


def test_session_start_with_a_client_session_id(client: TestClient) -> None:
    response = lifecycle(client, "start", "john_doe", "2024-01-01T12:00:00Z", session_id="abc-1")
    assert response.json()["session_id"] == "abc-1"
    again = lifecycle(client, "start", "john_doe", "2024-01-01T12:05:00Z", session_id="abc-1")
    assert again.status_code == 409
    assert again.json()["current_state"] == "active"


def test_sessions_are_per_app(client: TestClient) -> None:
    lifecycle(client, "start", "john_doe", "2024-01-01T12:00:00Z", app="a")
    response = lifecycle(client, "pause", "john_doe", "2024-01-01T12:10:00Z", app="b")
    assert response.status_code == 409
    assert (
        lifecycle(client, "pause", "john_doe", "2024-01-01T12:10:00Z", app="a").status_code == 200
    )


def test_concurrent_transitions_on_one_session_pass_validation_once(client: TestClient) -> None:
    lifecycle(client, "start", "john_doe", "2024-01-01T12:00:00Z")

    def pause(i: int) -> int:
        return lifecycle(client, "pause", "john_doe", f"2024-01-01T12:{10 + i:02d}:00Z").status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(pause, range(8)))
    assert sorted(statuses) == [200] + [409] * 7
    answer = client.post(
        "/api/v1/query",
        json={
            "metrics": ["events"],
            "filters": [["is", "event:name", ["session_pause"]]],
            "date_range": "all",
        },
    ).json()
    assert answer["results"][0]["metrics"] == [1]


# --- session statistics -------------------------------------------------------------------


def _fixed_history(client: TestClient) -> dict[str, Any]:
    """Sessions at known times in the last 30 days (and one before), for two users."""
    today = now().replace(hour=0, minute=0, second=0)
    day_a = today - dt.timedelta(days=3)
    day_b = today - dt.timedelta(days=5)
    starts = [
        ("alice", day_a.replace(hour=10, minute=5), 600),
        ("alice", day_a.replace(hour=10, minute=40), 300),
        ("bob", day_a.replace(hour=14, minute=0), 60),
        ("bob", day_b.replace(hour=9, minute=0), 120),
    ]
    for user, at, seconds in starts:
        run_session(client, user, at, active=dt.timedelta(seconds=seconds))
    # Still open: counts as a session started, not in the average.
    run_session(
        client, "carol", day_a.replace(hour=10, minute=50), active=dt.timedelta(), end=False
    )
    # Before the window.
    run_session(client, "dave", today - dt.timedelta(days=40), active=dt.timedelta(hours=1))
    # Another app.
    run_session(client, "alice", day_a.replace(hour=10), active=dt.timedelta(hours=2), app="other")
    return {"day_a": day_a, "day_b": day_b}


def test_session_heatmap(client: TestClient) -> None:
    days = _fixed_history(client)
    day_a, day_b = days["day_a"], days["day_b"]
    expected = {
        "heatmap_data": {
            "daily_sessions": {day_b.date().isoformat(): 1, day_a.date().isoformat(): 4},
            "weekly_hourly": {
                **{str(day_a.weekday()): {"10": 3, "14": 1}},
                **{str(day_b.weekday()): {"9": 1}},
            },
            "total_sessions": 5,
            "total_days_with_activity": 2,
            "date_range": {
                "start_date": day_b.date().isoformat(),
                "end_date": day_a.date().isoformat(),
            },
        }
    }
    assert read(client, "/api/v1/session_heatmap") == expected
    assert read(client, "/api/v1/session_heatmap", "POST", app="default") == expected
    bob = read(client, "/api/v1/session_heatmap", user="bob")["heatmap_data"]
    assert bob["total_sessions"] == 2
    assert bob["weekly_hourly"] == {
        **{str(day_a.weekday()): {"14": 1}},
        **{str(day_b.weekday()): {"9": 1}},
    }


def test_session_most_active(client: TestClient) -> None:
    days = _fixed_history(client)
    day_a, day_b = days["day_a"], days["day_b"]
    names = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
    expected = {
        "most_active_days": [
            {
                "date": day_a.date().isoformat(),
                "day": names[day_a.weekday()],
                "count": 4,
                "most_active_hours": [{"hour": 10, "count": 3}, {"hour": 14, "count": 1}],
            },
            {
                "date": day_b.date().isoformat(),
                "day": names[day_b.weekday()],
                "count": 1,
                "most_active_hours": [{"hour": 9, "count": 1}],
            },
        ]
    }
    assert read(client, "/api/v1/session_most_active") == expected
    assert read(client, "/api/v1/session_most_active", "POST", user="all") == expected
    assert (
        read(client, "/api/v1/session_most_active", user="carol")["most_active_days"][0]["count"]
        == 1
    )


def test_session_most_active_keeps_top_7_days_and_top_3_hours(
    client: TestClient, services: Services
) -> None:
    today = now().replace(hour=0, minute=0, second=0)
    starts = []
    for offset in range(1, 10):  # 9 days; day k has k sessions
        for i in range(offset):
            at = today - dt.timedelta(days=offset) + dt.timedelta(hours=i % 5, minutes=i)
            # Written in one batch, as session_start writes them (faster than 45 requests).
            starts.append(
                Event(
                    name="session_start",
                    user_id=f"u{offset}-{i}",
                    session_id=f"s{offset}-{i}",
                    ts=int(at.timestamp() * 1_000_000),
                )
            )
    services.writer.write_sync(starts)
    days = read(client, "/api/v1/session_most_active")["most_active_days"]
    assert [day["count"] for day in days] == [9, 8, 7, 6, 5, 4, 3]
    assert days[0]["most_active_hours"] == [
        {"hour": 0, "count": 2},
        {"hour": 1, "count": 2},
        {"hour": 2, "count": 2},
    ]


def test_session_stats(client: TestClient) -> None:
    _fixed_history(client)
    stats = read(client, "/api/v1/session_stats")
    # alice, bob, carol in the window; mean of 600, 300, 60, 120 active seconds.
    assert stats == {"total_users": 3, "avg_session_time": 270.0}
    assert read(client, "/api/v1/session_stats", "POST", user="alice") == {
        "total_users": 1,
        "avg_session_time": 450.0,
    }
    assert read(client, "/api/v1/session_stats", app="other") == {
        "total_users": 1,
        "avg_session_time": 7200.0,
    }


def test_sessions_summary(client: TestClient) -> None:
    _fixed_history(client)
    everyone = read(client, "/api/sessions/summary", "POST", app="default")
    assert everyone["app"] == "default" and everyone["user"] == "all"
    assert (
        everyone["total_sessions"],
        everyone["active_sessions"],
        everyone["ended_sessions"],
    ) == (
        6,
        1,
        5,
    )
    assert everyone["total_active_time"] == 600 + 300 + 60 + 120 + 3600
    assert everyone["avg_session_time"] == round((600 + 300 + 60 + 120 + 3600) / 5, 2)
    assert ISO_Z.match(everyone["last_session_at"])
    alice = read(client, "/api/sessions/summary", "POST", app="default", user="alice")
    assert (alice["user"], alice["total_sessions"], alice["total_active_time"]) == ("alice", 2, 900)
    assert read(client, "/api/sessions/summary", "POST", app="myapp", user="all") == {
        "app": "myapp",
        "user": "all",
        "total_sessions": 0,
        "active_sessions": 0,
        "ended_sessions": 0,
        "total_active_time": 0.0,
        "avg_session_time": 0.0,
        "last_session_at": None,
    }


def test_empty_answers_have_the_full_shape(client: TestClient) -> None:
    assert read(client, "/api/v1/page_stats") == {
        "page_counts": {},
        "time_spent": {"last_24hr": {}, "last_7days": {}, "last_1month": {}, "all_time": {}},
    }
    heatmap = read(client, "/api/v1/session_heatmap")["heatmap_data"]
    assert heatmap["daily_sessions"] == {} and heatmap["weekly_hourly"] == {}
    assert heatmap["total_sessions"] == heatmap["total_days_with_activity"] == 0
    assert set(heatmap["date_range"]) == {"start_date", "end_date"}
    assert read(client, "/api/v1/session_most_active") == {"most_active_days": []}
    assert read(client, "/api/v1/session_stats") == {"total_users": 0, "avg_session_time": 0.0}


@pytest.mark.parametrize("path", [*READ_ENDPOINTS, "/api/sessions/summary"])
def test_every_read_endpoint_isolates_apps(client: TestClient, path: str) -> None:
    recent = now() - dt.timedelta(hours=2)
    run_session(client, "alice", recent, active=dt.timedelta(minutes=5), app="mine")
    client.post(
        "/api/v1/page_track",
        headers=auth("alice"),
        json={"page": "p", "timespent": 5, "app": "mine"},
    )
    run_session(client, "zed", recent, active=dt.timedelta(minutes=9), app="theirs")
    client.post(
        "/api/v1/page_track",
        headers=auth("zed"),
        json={"page": "q", "timespent": 9, "app": "theirs"},
    )
    methods = ["POST"] if path == "/api/sessions/summary" else ["GET", "POST"]
    for method in methods:
        mine = read(client, path, method, app="mine")
        text = repr(mine)
        assert "zed" not in text and "'q'" not in text and "540" not in text
        empty = read(client, path, method)  # app default: nothing of either
        if path == "/api/v1/page_stats":
            assert mine["page_counts"] == {"p": 1}
            assert mine["time_spent"]["all_time"] == {"p": 5}
            assert empty["page_counts"] == {}
        elif path == "/api/v1/session_heatmap":
            assert mine["heatmap_data"]["total_sessions"] == 1
            assert empty["heatmap_data"]["total_sessions"] == 0
        elif path == "/api/v1/session_most_active":
            assert [d["count"] for d in mine["most_active_days"]] == [1]
            assert empty["most_active_days"] == []
        elif path == "/api/v1/session_stats":
            assert mine == {"total_users": 1, "avg_session_time": 300.0}
            assert empty == {"total_users": 0, "avg_session_time": 0.0}
        else:
            assert (mine["app"], mine["total_sessions"], mine["total_active_time"]) == (
                "mine",
                1,
                300.0,
            )
            assert empty["total_sessions"] == 0


# --- documentation ---------------------------------------------------------------------


def test_openapi_documents_every_004_endpoint(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    expected = {
        "/api/v1/auth/validate-token": {"get", "post"},
        "/api/v1/auth/token-info": {"get", "post"},
        "/api/v1/page_track": {"post"},
        "/api/v1/page_stats": {"get", "post"},
        **{f"/api/v1/{name}": {"post"} for name in LIFECYCLE},
        "/api/v1/session_heatmap": {"get", "post"},
        "/api/v1/session_most_active": {"get", "post"},
        "/api/v1/session_stats": {"get", "post"},
        "/api/sessions/summary": {"post"},
    }
    for path, methods in expected.items():
        assert set(spec["paths"][path]) >= methods, path
        for method in methods:
            operation = spec["paths"][path][method]
            assert operation["tags"] == ["004 sessions and page tracking"]
            assert "200" in operation["responses"] and "401" in operation["responses"]
            assert operation["security"], path  # the bearer scheme shows in /docs
    schemas = spec["components"]["schemas"]
    assert schemas["PageTrackRequest"]["examples"] == [{"page": "homepage", "timespent": 120}]
    assert "heatmap_data" in schemas["HeatmapResponse"]["properties"]
    assert schemas["SessionStatsResponse"]["examples"] == [
        {"total_users": 25, "avg_session_time": 45.5}
    ]
    assert client.get("/docs").status_code == 200


# --- a real server process -------------------------------------------------------------


@pytest.fixture
def jwt_server(tmp_path: Path) -> Iterator[ServerProcess]:
    env = {"FOOTFALL_JWT_SECRET": SECRET}
    with ServerProcess(tmp_path / "server-data", env=env) as proc:
        yield proc


@pytest.mark.slow
def test_through_a_real_server(jwt_server: ServerProcess) -> None:
    headers = auth()
    with httpx.Client(base_url=jwt_server.url, headers=headers, timeout=10) as http:
        assert http.post("/api/v1/auth/validate-token", json={"app": "myapp"}).json()["valid"]
        assert (
            http.post("/api/v1/page_track", json={"page": "homepage", "timespent": 120}).json()[
                "message"
            ]
            == "Page tracked successfully"
        )
        start = http.post(
            "/api/v1/session_start",
            json={"username": "john_doe", "time": "2024-01-01T12:00:00Z", "status": "active"},
        )
        assert start.status_code == 200

        def pause(i: int) -> int:
            return http.post(
                "/api/v1/session_pause",
                json={"username": "john_doe", "time": f"2024-01-01T12:30:{i:02d}Z"},
            ).status_code

        with ThreadPoolExecutor(max_workers=6) as pool:
            assert sorted(pool.map(pause, range(6))) == [200] + [409] * 5
        summary = http.post("/api/sessions/summary", json={"app": "default"}).json()
        assert summary["total_sessions"] == 1 and summary["active_sessions"] == 1
        assert http.get("/api/v1/page_stats").json()["page_counts"] == {"homepage": 1}
        refused = httpx.get(jwt_server.url + "/api/v1/page_stats", timeout=10)
        assert refused.status_code == 401
        assert refused.headers["www-authenticate"] == "Bearer"
