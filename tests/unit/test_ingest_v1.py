"""`POST /api/v1/events`: one object, a JSON array or NDJSON; all or nothing.

What is stored is checked through the query API, as a user would.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient

from footfall.app import create_app
from footfall.ingest.v1 import (
    MAX_BODY_BYTES,
    MAX_EVENTS_PER_REQUEST,
    IngestRejected,
    parse_body,
    timestamp_us,
    to_events,
)
from footfall.settings import Settings

NDJSON = {"content-type": "application/x-ndjson"}
TS = "2024-03-04T10:00:00Z"


def ingest(client: TestClient, body: Any, **kwargs: Any) -> Any:
    if isinstance(body, (bytes, str)):
        return client.post("/api/v1/events", content=body, **kwargs)
    return client.post("/api/v1/events", json=body, **kwargs)


def count(
    client: TestClient,
    app: str = "t",
    dimensions: list[str] | None = None,
    metrics: list[str] | None = None,
    date_range: str | list[str] = "all",
) -> list[dict[str, Any]]:
    response = client.post(
        "/api/v1/query",
        json={
            "app": app,
            "date_range": date_range,
            "metrics": metrics or ["events"],
            "dimensions": dimensions or [],
        },
    )
    assert response.status_code == 200, response.text
    results: list[dict[str, Any]] = response.json()["results"]
    return results


def total(client: TestClient, app: str = "t") -> int:
    value: int = count(client, app)[0]["metrics"][0]
    return value


# -- shapes of a request -------------------------------------------------------------


def test_one_object(client: TestClient) -> None:
    response = ingest(client, {"app": "t", "ts": TS, "url": "/a"})
    assert response.status_code == 202
    assert response.json() == {"accepted": 1, "duplicates": 0}
    assert total(client) == 1


def test_an_array(client: TestClient) -> None:
    events = [{"app": "t", "ts": TS, "name": f"e{i}"} for i in range(3)]
    response = ingest(client, events)
    assert response.status_code == 202
    assert response.json()["accepted"] == 3
    names = count(client, dimensions=["event:name"])
    assert sorted(r["dimensions"][0] for r in names) == ["e0", "e1", "e2"]


def test_ndjson(client: TestClient) -> None:
    lines = "\n".join(json.dumps({"app": "t", "ts": TS, "url": f"/p{i}"}) for i in range(4))
    response = ingest(client, lines + "\n\n", headers=NDJSON)
    assert response.status_code == 202, response.text
    assert response.json()["accepted"] == 4
    assert total(client) == 4


def test_defaults_app_name_and_time(client: TestClient) -> None:
    before = dt.datetime.now(dt.UTC)
    assert ingest(client, {}).status_code == 202
    rows = count(client, "default", ["event:name", "time:minute"])
    assert len(rows) == 1
    name, minute = rows[0]["dimensions"]
    assert name == "pageview"
    stored = dt.datetime.fromisoformat(minute)
    assert before.replace(second=0, microsecond=0) <= stored <= dt.datetime.now(dt.UTC)


# -- limits ----------------------------------------------------------------------------


def test_more_than_10000_events_is_413(client: TestClient) -> None:
    too_many = [{"app": "t"}] * (MAX_EVENTS_PER_REQUEST + 1)
    response = ingest(client, too_many)
    assert response.status_code == 413
    assert str(MAX_EVENTS_PER_REQUEST) in response.json()["detail"]
    lines = "\n".join(['{"app":"t"}'] * (MAX_EVENTS_PER_REQUEST + 1))
    assert ingest(client, lines, headers=NDJSON).status_code == 413
    assert total(client) == 0


def test_exactly_10000_events_are_fine(client: TestClient) -> None:
    events = [{"app": "t", "ts": TS}] * MAX_EVENTS_PER_REQUEST
    response = ingest(client, events)
    assert response.status_code == 202
    assert total(client) == MAX_EVENTS_PER_REQUEST


def test_more_than_5_mib_is_413(client: TestClient) -> None:
    padding = "x" * 1900
    one = json.dumps({"app": "t", "description": padding})
    body = "[" + ",".join([one] * (MAX_BODY_BYTES // len(one) + 1)) + "]"
    assert len(body) > MAX_BODY_BYTES
    response = ingest(client, body, headers={"content-type": "application/json"})
    assert response.status_code == 413
    assert "limit" in response.json()["detail"]
    assert total(client) == 0


def test_the_size_limit_holds_without_a_content_length(client: TestClient) -> None:
    def chunks() -> Any:
        for _ in range(6):
            yield b" " * (1024 * 1024)

    response = client.post("/api/v1/events", content=chunks())
    assert response.status_code == 413


# -- bad input -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "headers"),
    [
        ('{"app": "t",', {}),
        ('[{"app": "t"}', {}),
        ("[1, 2", {}),
        ("nonsense", {}),
        ("", {}),
        ("   ", NDJSON),
        ("[]", {}),
    ],
)
def test_malformed_bodies_are_400(client: TestClient, body: str, headers: dict[str, str]) -> None:
    response = ingest(client, body, headers={"content-type": "application/json", **headers})
    assert response.status_code == 400, response.text
    assert response.json()["detail"]


def test_every_bad_item_is_named_and_nothing_is_stored(client: TestClient) -> None:
    events = [
        {"app": "t", "ts": TS},
        {"app": "t", "name": ""},
        {"app": "t", "ts": TS},
        {"app": "t", "duration": -1},
        {"app": "t", "colour": "red"},
        {"app": "bad app!"},
        {"app": "t", "ts": "yesterday"},
        {"app": "t", "props": "not an object"},
        {"app": "t", "id": "not-a-uuid"},
        {"app": "t", "user_id": 42},
    ]
    response = ingest(client, events)
    assert response.status_code == 422, response.text
    errors = response.json()["errors"]
    named = {(e["index"], e["field"]) for e in errors}
    assert named == {
        (1, "name"),
        (3, "duration"),
        (4, "colour"),
        (5, "app"),
        (6, "ts"),
        (7, "props"),
        (8, "id"),
        (9, "user_id"),
    }
    for error in errors:
        assert error["message"]
        assert error["loc"] == ["body", error["index"], error["field"]]
    assert total(client) == 0


def test_ndjson_names_bad_lines(client: TestClient) -> None:
    lines = '{"app":"t"}\n{"app":"t", "name": 5}\n{oops\n{"app":"t"}\n'
    response = ingest(client, lines, headers=NDJSON)
    assert response.status_code == 422, response.text
    assert [(e["index"], e["field"]) for e in response.json()["errors"]] == [
        (1, "name"),
        (2, "(event)"),
    ]
    assert total(client) == 0


def test_a_single_bad_object_names_its_field(client: TestClient) -> None:
    response = ingest(client, {"app": "t", "duration": "long"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["index"] == 0
    assert response.json()["errors"][0]["field"] == "duration"


# -- timestamps ------------------------------------------------------------------------


def test_ts_beyond_10_minutes_in_the_future_is_422(client: TestClient) -> None:
    now = dt.datetime.now(dt.UTC)
    later = (now + dt.timedelta(minutes=11)).isoformat()
    events = [{"app": "t", "ts": TS}, {"app": "t", "ts": later}]
    response = ingest(client, events)
    assert response.status_code == 422
    assert [(e["index"], e["field"]) for e in response.json()["errors"]] == [(1, "ts")]
    assert total(client) == 0
    soon = (now + dt.timedelta(minutes=5)).isoformat()
    assert ingest(client, {"app": "t", "ts": soon}).status_code == 202
    assert total(client) == 1


def test_naive_ts_is_utc_and_offsets_are_converted(client: TestClient) -> None:
    events = [
        {"app": "t", "ts": "2024-03-04T10:00:00"},
        {"app": "t", "ts": "2024-03-04T12:00:00+02:00"},
        {"app": "t", "ts": "2024-03-04T05:00:00-05:00"},
        {"app": "t", "ts": "2024-03-04T10:00:00.5Z"},
    ]
    assert ingest(client, events).status_code == 202
    rows = count(client, dimensions=["time:minute"])
    assert rows == [{"dimensions": ["2024-03-04T10:00:00Z"], "metrics": [4]}]
    inside = count(client, date_range=["2024-03-04T10:00:00Z", "2024-03-04T10:00:00.5Z"])
    assert inside[0]["metrics"] == [4]
    before = count(client, date_range=["2024-03-04T09:00:00Z", "2024-03-04T09:59:59Z"])
    assert before[0]["metrics"] == [0]


def test_timestamp_us() -> None:
    assert timestamp_us(dt.datetime(1970, 1, 1, 0, 0, 1)) == 1_000_000
    aware = dt.datetime(2024, 3, 4, 12, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    assert timestamp_us(aware) == timestamp_us(dt.datetime(2024, 3, 4, 10))
    assert timestamp_us(dt.datetime(2024, 3, 4, 10, 0, 0, 7)) % 1_000_000 == 7


# -- what is derived -------------------------------------------------------------------


def test_path_hostname_and_utm_come_from_the_url(client: TestClient) -> None:
    event = {
        "app": "t",
        "ts": TS,
        "url": "https://WWW.Example.com/pricing/plans?utm_source=nl&utm_medium=email&x=1#top",
        "referrer": "https://www.google.com/search?q=a",
    }
    assert ingest(client, [event, {"app": "t", "ts": TS, "url": "/bare/path"}]).status_code == 202
    rows = count(client, dimensions=["event:page", "event:hostname"])
    assert {tuple(r["dimensions"]) for r in rows} == {
        ("/pricing/plans", "example.com"),
        ("/bare/path", None),
    }
    origin = count(
        client,
        dimensions=[
            "visit:utm_source",
            "visit:utm_medium",
            "visit:referrer_domain",
            "visit:source",
        ],
    )
    assert ["nl", "email", "google.com", "nl"] in [r["dimensions"] for r in origin]


def test_a_client_id_makes_retries_idempotent(client: TestClient) -> None:
    event_id = str(uuid.uuid4())
    event = {"app": "t", "ts": TS, "id": event_id}
    first = ingest(client, [event, {"app": "t", "ts": TS}])
    assert first.json() == {"accepted": 2, "duplicates": 0}
    again = ingest(client, [event, {"app": "t", "ts": TS}])
    assert again.status_code == 202
    assert again.json() == {"accepted": 2, "duplicates": 1}
    assert total(client) == 3
    assert ingest(client, event).json()["duplicates"] == 1
    assert total(client) == 3


def test_the_same_id_twice_in_one_request_is_stored_once(client: TestClient) -> None:
    event = {"app": "t", "ts": TS, "id": str(uuid.uuid4())}
    response = ingest(client, [event, event])
    assert response.status_code == 202
    assert response.json()["duplicates"] == 1
    assert total(client) == 1


# -- the parser alone ------------------------------------------------------------------


def test_parse_body_shapes() -> None:
    assert len(parse_body(b'{"app":"t"}', "application/json")) == 1
    assert len(parse_body(b' [{"app":"t"},{"app":"u"}]', "application/json")) == 2
    assert len(parse_body(b'{"app":"t"}\n\n{"app":"u"}\n', "application/x-ndjson")) == 2
    with pytest.raises(IngestRejected) as info:
        parse_body(b'{"app":"t"}\n{"app":"u"}', "application/json")
    assert info.value.status == 400


def test_to_events_checks_every_timestamp() -> None:
    items = parse_body(
        json.dumps(
            [
                {"ts": "2030-01-01T00:00:00Z"},
                {"ts": "2024-01-01T00:00:00"},
                {"ts": "2031-01-01T00:00:00Z"},
            ]
        ).encode(),
        "application/json",
    )
    received = timestamp_us(dt.datetime(2024, 6, 1))
    with pytest.raises(IngestRejected) as info:
        to_events(items, client_ip=None, client_ua=None, received_us=received)
    assert [(e.index, e.field) for e in info.value.errors] == [(0, "ts"), (2, "ts")]
    parsed = to_events(items[1:2], client_ip="192.0.2.1", client_ua="ua", received_us=received)
    assert parsed[0].event.ts == timestamp_us(dt.datetime(2024, 1, 1))
    assert parsed[0].ip == "192.0.2.1"


def test_footfall_apps_applies_to_the_server_api_too(settings: Settings) -> None:
    listed = settings.model_copy(update={"apps": "shop, blog"})
    with TestClient(create_app(listed)) as client:
        accepted = ingest(client, [{"app": "shop"}, {"app": "blog"}])
        assert (accepted.status_code, accepted.json()) == (202, {"accepted": 2, "duplicates": 0})
        refused = ingest(
            client, '{"app": "shop"}\n{"app": "other"}\n{"app": "blog"}\n', headers=NDJSON
        )
        assert refused.status_code == 422
        body = refused.json()
        assert body["detail"] == "1 of 3 events are for apps not accepted here"
        [error] = body["errors"]
        assert (error["index"], error["field"]) == (1, "app")
        assert "'other'" in error["message"] and "FOOTFALL_APPS" in error["message"]
        assert "shop" not in error["message"]  # the configuration is not disclosed
        # All or nothing: the refused request stored neither of its accepted events.
        assert total(client, app="shop") == 1
        assert total(client, app="other") == 0
        single = ingest(client, {"app": "other"})
        assert single.status_code == 422
        assert single.json()["errors"][0]["field"] == "app"
