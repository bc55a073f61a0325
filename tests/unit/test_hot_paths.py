"""The lean ingest door answers exactly as the documented FastAPI route would."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi.testclient import TestClient

from footfall.ingest.v1 import MAX_BODY_BYTES


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
