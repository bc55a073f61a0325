"""The lean ingest door answers exactly as the documented FastAPI route would."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi.testclient import TestClient

from footfall.ingest.v1 import MAX_BODY_BYTES
from footfall.services import Services
from footfall.web.hot_paths import FootfallApp


def test_the_hot_route_stays_documented(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    operation = spec["paths"]["/api/v1/events"]["post"]
    assert set(operation["responses"]) >= {"202", "400", "413", "422", "503"}
    assert "application/x-ndjson" in operation["requestBody"]["content"]


def test_other_methods_fall_through_to_fastapi(client: TestClient) -> None:
    response = client.get("/api/v1/events")
    assert response.status_code == 405
    assert response.json() == {"detail": "Method Not Allowed"}


def test_a_chunked_body_over_the_limit_is_refused_while_reading(client: TestClient) -> None:
    def chunks() -> Iterator[bytes]:
        piece = b" " * (1 << 20)
        for _ in range(MAX_BODY_BYTES // len(piece) + 2):
            yield piece

    response = client.post("/api/v1/events", content=chunks())
    assert response.status_code == 413
    assert "limit" in response.json()["detail"]


def test_answers_are_json_with_a_length(client: TestClient) -> None:
    response = client.post("/api/v1/events", json={"name": "Signup"})
    assert response.status_code == 202
    assert response.headers["content-type"] == "application/json"
    assert int(response.headers["content-length"]) == len(response.content)
    assert response.json() == {"accepted": 1, "duplicates": 0}


LEAN_ENDPOINTS = [("POST", "/visit"), ("POST", "/api/event"), ("POST", "/api/send")]


def test_tracker_and_visit_routes_take_the_door_and_stay_documented(client: TestClient) -> None:
    app = client.app
    assert isinstance(app, FootfallApp)
    assert set(LEAN_ENDPOINTS) <= set(app.hot_endpoints)
    spec = client.get("/openapi.json").json()
    for method, path in LEAN_ENDPOINTS:
        assert method.lower() in spec["paths"][path], path


def test_lean_visit_answers_as_fastapi_would(client: TestClient) -> None:
    # The lean door serves these two...
    first = client.post("/visit")
    body = {"user_id": "u1", "page_url": "https://example.com/a"}
    second = client.post("/visit", json=body)
    # ...and hands these to FastAPI: a query string, an invalid body, another content type.
    third = client.post("/visit", params={"app": "default"})
    invalid = client.post("/visit", json={"user_id": 42, "page_url": "/"})
    form = client.post("/visit", content=b"user_id=u1", headers={"content-type": "text/plain"})
    assert [r.json()["visits"] for r in (first, second, third)] == [1, 2, 3]
    assert first.headers["content-type"] == "application/json"
    assert first.content == (
        b'{"success":true,"visit_count":1,"visits":1,'
        b'"message":"Visit logged successfully. Total visits: 1"}'
    )
    assert invalid.status_code == 422
    assert invalid.json()["detail"][0]["loc"] == ["body", "user_id"]
    assert form.status_code == 422
    assert client.get("/stats").json()["total_visits"] == 3


def test_lean_endpoints_answer_503_with_retry_after_when_nothing_can_be_stored(
    client: TestClient, services: Services
) -> None:
    services.writer.stop()  # what a shutting-down server does: no more writes
    plausible = {"n": "pageview", "u": "https://example.com/", "d": "example.com"}
    website = "5a1f2a3c-7d5e-4f60-9a61-7b8c9d0e1f23"
    umami = {"type": "event", "payload": {"website": website, "url": "/", "hostname": "x.org"}}
    browser = {"user-agent": "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121"}
    for response in (
        client.post("/visit"),
        client.post("/api/event", json=plausible, headers=browser),
        client.post("/api/send", json=umami, headers=browser),
        client.post("/api/v1/events", json={"name": "Signup"}),
    ):
        assert response.status_code == 503, response.url
        assert response.headers["retry-after"] == str(services.settings.retry_after_seconds)
        assert "nothing was stored" in response.json()["detail"]
