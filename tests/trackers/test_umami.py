"""`POST /api/send` with the bodies Umami's trackers send, read back through the query API."""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.trackers.conftest import (
    CHROME,
    GOOGLEBOT,
    IPHONE,
    WEBSITE,
    all_fixtures,
    fixture,
    query,
    total,
)


def send(
    client: TestClient,
    body: bytes | dict[str, Any],
    *,
    user_agent: str = CHROME,
    headers: dict[str, str] | None = None,
) -> Any:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    sent = {"user-agent": user_agent, "content-type": "application/json", **(headers or {})}
    return client.post("/api/send", content=content, headers=sent)


def stored(response: Any) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    assert set(answer) == {"cache", "sessionId", "visitId"}
    uuid.UUID(answer["sessionId"])
    uuid.UUID(answer["visitId"])
    assert isinstance(answer["cache"], str) and answer["cache"]
    return answer


def payload(**fields: Any) -> dict[str, Any]:
    base = {"website": WEBSITE, "hostname": "example.com", "url": "/", "referrer": ""}
    return {"type": "event", "payload": {**base, **fields}}


@pytest.mark.parametrize("name", all_fixtures("umami"))
def test_every_captured_body_is_accepted(client: TestClient, name: str) -> None:
    stored(send(client, fixture(name)))


def test_v2_pageview_end_to_end(client: TestClient) -> None:
    stored(send(client, fixture("umami/v2_pageview")))
    dims = [
        "event:hostname",
        "event:page",
        "visit:source",
        "visit:referrer_domain",
        "visit:utm_medium",
        "visit:browser",
        "visit:device",
    ]
    assert query(client, WEBSITE, ["pageviews", "visitors", "visits"], dims) == {
        ("example.com", "/pricing", "newsletter", "google.com", "email", "Chrome", "desktop"): [
            1,
            1,
            1,
        ]
    }


def test_v2_custom_event(client: TestClient) -> None:
    stored(send(client, fixture("umami/v2_pageview")))
    stored(send(client, fixture("umami/v2_custom_event")))
    rows = query(
        client,
        WEBSITE,
        ["events", "visits"],
        ["event:name", "event:props:plan", "event:props:seats", "visit:source"],
    )
    # The custom event's empty referrer keeps the visit's origin.
    assert rows == {
        ("pageview", None, None, "newsletter"): [1, 1],
        ("signup-button", "pro", "3", "newsletter"): [1, 1],
    }
    assert query(client, WEBSITE, ["bounce_rate", "visitors"]) == {(): [0.0, 1]}


def test_v3_pageview_custom_event_and_identify(client: TestClient) -> None:
    first = stored(send(client, fixture("umami/v3_pageview"), user_agent=IPHONE))
    second = stored(send(client, fixture("umami/v3_custom_event"), user_agent=IPHONE))
    third = stored(send(client, fixture("umami/v3_identify"), user_agent=IPHONE))
    # One visitor, one visit, whatever the distinct id says.
    assert first["sessionId"] == second["sessionId"] == third["sessionId"]
    assert first["visitId"] == second["visitId"] == third["visitId"]
    assert query(client, WEBSITE, ["visitors", "visits", "users", "events", "pageviews"]) == {
        (): [1, 1, 1, 3, 1]
    }
    pages = query(
        client, WEBSITE, ["events"], ["event:name", "event:hostname", "event:page", "visit:source"]
    )
    assert pages == {
        ("pageview", "example.com", "/blog/hello world", "Hacker News"): [1],
        ("checkout", "example.com", "/blog/hello world", "Hacker News"): [1],
        ("$identify", "example.com", "/blog/hello world", "Hacker News"): [1],
    }
    props = query(
        client,
        WEBSITE,
        ["events"],
        ["event:name", "event:props:cart.items", "event:props:coupons", "event:props:tag"],
        [["is", "event:name", ["checkout"]]],
    )
    assert props == {("checkout", "3", '["SPRING","VIP"]', "spring-launch"): [1]}
    identify = query(
        client,
        WEBSITE,
        ["events"],
        ["user_id", "event:props:plan", "event:props:company"],
        [["is", "event:name", ["$identify"]]],
    )
    assert identify == {("user-42", "pro", "ACME"): [1]}
    # identify is not an interaction: the visit has a pageview and one custom event.
    assert query(client, WEBSITE, ["bounce_rate"]) == {(): [0.0]}
    assert query(client, WEBSITE, ["visitors"], ["visit:device", "visit:os"]) == {
        ("mobile", "iOS"): [1]
    }


def test_hash_route_is_part_of_the_path(client: TestClient) -> None:
    stored(send(client, fixture("umami/v3_hash_route")))
    assert query(client, WEBSITE, ["pageviews"], ["event:page"]) == {("/#/settings",): [1]}


@pytest.mark.parametrize(
    ("fields", "page", "hostname"),
    [
        ({"url": "/a%2Fb/c%C3%A9?x=1"}, "/a%2Fb/cé", "example.com"),  # decodeURI keeps %2F
        ({"url": "/bad%E0%A4%A"}, "/bad%E0%A4%A", "example.com"),  # malformed: kept
        ({"hostname": None, "url": "https://Shop.Example.org/x"}, "/x", "shop.example.org"),
        ({"url": "https://other.example.net/y"}, "/y", "example.com"),  # hostname wins
    ],
)
def test_url_and_hostname(
    client: TestClient, fields: dict[str, Any], page: str, hostname: str
) -> None:
    body = payload(**fields)
    body["payload"] = {k: v for k, v in body["payload"].items() if v is not None}
    stored(send(client, body))
    assert query(client, WEBSITE, ["pageviews"], ["event:page", "event:hostname"]) == {
        (page, hostname): [1]
    }


@pytest.mark.parametrize(
    ("referrer", "source", "domain"),
    [
        ("https://www.google.com/", "Google", "google.com"),
        ("https://www.example.com/pricing", None, None),  # own site
        ("/pricing", None, None),  # a path: resolved against the site itself
        ("http://localhost:8080/", None, None),
        ("https://lobste.rs/s/abc", "Lobsters", "lobste.rs"),
    ],
)
def test_referrer(
    client: TestClient, referrer: str, source: str | None, domain: str | None
) -> None:
    stored(send(client, payload(referrer=referrer)))
    assert query(client, WEBSITE, ["visits"], ["visit:source", "visit:referrer_domain"]) == {
        (source, domain): [1]
    }


def test_session_and_visit_ids(client: TestClient) -> None:
    one = stored(send(client, payload(url="/a")))
    two = stored(send(client, payload(url="/b")))
    other = stored(send(client, payload(url="/a"), user_agent=IPHONE))
    assert one["sessionId"] == two["sessionId"] != other["sessionId"]
    assert one["visitId"] == two["visitId"] != other["visitId"]
    token = json.loads(base64.urlsafe_b64decode(one["cache"] + "=="))
    assert token["websiteId"] == WEBSITE
    assert token["sessionId"] == one["sessionId"]
    assert token["visitId"] == one["visitId"]
    # The tracker sends the token back; it changes nothing.
    again = stored(send(client, payload(url="/c"), headers={"x-umami-cache": "forged"}))
    assert again["visitId"] == one["visitId"]
    assert query(client, WEBSITE, ["visitors", "visits", "pageviews"]) == {(): [2, 2, 4]}


def test_website_id_is_case_insensitive(client: TestClient) -> None:
    body = payload()
    body["payload"]["website"] = WEBSITE.upper()
    stored(send(client, body))
    assert total(client, WEBSITE, "pageviews") == 1


def test_server_side_sender_sets_ip_user_agent_and_timestamp(client: TestClient) -> None:
    when = int(time.time()) - 3 * 86_400
    body = payload(url="/api", ip="203.0.113.9", userAgent=IPHONE, timestamp=when)
    stored(send(client, body, user_agent="my-backend/1.0"))  # the header is not the client
    rows = query(client, WEBSITE, ["pageviews"], ["visit:device", "time:day"])
    day = time.strftime("%Y-%m-%d", time.gmtime(when))
    assert len(rows) == 1
    ((device, bucket),) = rows
    assert device == "mobile" and bucket.startswith(day)


def test_engagement_and_performance(client: TestClient) -> None:
    stored(send(client, payload(url="/read")))
    stored(
        send(
            client, {"type": "engagement", "payload": {**payload()["payload"], "engagement": 4200}}
        )
    )
    stored(send(client, {"type": "performance", "payload": {**payload()["payload"], "lcp": 812.5}}))
    stored(send(client, {"type": "identify", "payload": payload()["payload"]}))  # nothing to say
    assert query(client, WEBSITE, ["events", "pageviews", "bounce_rate"]) == {(): [2, 1, 100.0]}
    rows = query(
        client,
        WEBSITE,
        ["events", "total_duration"],
        ["event:props:e"],
        [["is", "event:name", ["engagement"]]],
    )
    assert rows == {("4200",): [1, 4.2]}


# --- bots, apps, errors ---------------------------------------------------------------


def test_bots_get_beep_boop(client: TestClient) -> None:
    response = send(client, fixture("umami/v2_pageview"), user_agent=GOOGLEBOT)
    assert response.status_code == 200
    assert response.json() == {"beep": "boop"}
    body = json.loads(fixture("umami/v2_pageview"))
    body["payload"]["userAgent"] = "Mozilla/5.0 (compatible; bingbot/2.0)"
    assert send(client, body).json() == {"beep": "boop"}
    assert total(client, WEBSITE, "events") == 0
    assert client.get("/api/trackers/dropped").json()["dropped"] == [
        {"app": WEBSITE, "reason": "bot", "events": 2}
    ]


def test_allow_list(client_factory: Callable[..., TestClient]) -> None:
    other = "0e6f4c1a-1111-4222-8333-944455556666"
    client = client_factory(apps=f"{WEBSITE.upper()},example.com")
    stored(send(client, fixture("umami/v2_pageview")))
    body = json.loads(fixture("umami/v2_pageview"))
    body["payload"]["website"] = other
    response = send(client, body)
    assert response.status_code == 400
    assert response.json() == {
        "error": {"message": "Website not found.", "code": "bad-request", "status": 400}
    }
    assert total(client, WEBSITE, "pageviews") == 1
    assert total(client, other, "pageviews") == 0


def field_error(path: list[str], message: str) -> dict[str, Any]:
    tree: dict[str, Any] = {"errors": [message]}
    for part in reversed(path):
        tree = {"errors": [], "properties": {part: tree}}
    return tree


@pytest.mark.parametrize(
    ("body", "tree"),
    [
        (b"not json", {"errors": ["Invalid input: expected object, received undefined"]}),
        (b"[]", {"errors": ["Invalid input: expected object, received array"]}),
        (
            {"payload": payload()["payload"]},
            field_error(
                ["type"],
                'Invalid option: expected one of "event"|"identify"|"engagement"|"performance"',
            ),
        ),
        (
            {"type": "event", "payload": "x"},
            field_error(["payload"], "Invalid input: expected object, received string"),
        ),
        (
            {"type": "event", "payload": {"url": "/"}},
            field_error(
                ["payload", "website"], "Invalid input: expected string, received undefined"
            ),
        ),
        (payload(website="not-a-uuid"), field_error(["payload", "website"], "Invalid UUID")),
        (
            payload(website=None),
            field_error(["payload", "website"], "Invalid input: expected string, received null"),
        ),
        (payload(url="http://[::1/"), field_error(["payload", "url"], "Invalid URL.")),
        (payload(referrer="http://[::1/"), field_error(["payload", "referrer"], "Invalid URL.")),
        (
            payload(url=5),
            field_error(["payload", "url"], "Invalid input: expected string, received number"),
        ),
        (
            payload(name="n" * 51),
            field_error(["payload", "name"], "Too big: expected string to have <=50 characters"),
        ),
        (
            payload(name="=HYPERLINK()"),
            field_error(
                ["payload", "name"],
                "Value must not start with =, +, -, @, tab, or carriage return",
            ),
        ),
        (
            payload(tag="@x"),
            field_error(
                ["payload", "tag"], "Value must not start with =, +, -, @, tab, or carriage return"
            ),
        ),
        (
            payload(data=[1]),
            field_error(["payload", "data"], "Invalid input: expected object, received array"),
        ),
        (payload(ip="10.0.0.300"), field_error(["payload", "ip"], "Invalid IP address")),
        (
            payload(timestamp="soon"),
            field_error(["payload", "timestamp"], "Invalid input: expected int, received string"),
        ),
        (
            payload(timestamp=int(time.time()) + 3600),
            field_error(
                ["payload", "timestamp"], "timestamp is more than 10 minutes in the future"
            ),
        ),
        (
            payload(hostname=["example.com"]),
            field_error(["payload", "hostname"], "Invalid input: expected string, received array"),
        ),
        (
            {"type": "event", "payload": {"link": WEBSITE, "url": "/"}},
            field_error(["payload", "website"], "links and pixels are not supported: send website"),
        ),
    ],
)
def test_invalid_requests(client: TestClient, body: Any, tree: dict[str, Any]) -> None:
    response = send(client, body)
    assert response.status_code == 400
    assert response.json() == {
        "error": {"message": "Bad request", "code": "bad-request", "status": 400, **tree}
    }
    assert response.headers["access-control-allow-origin"] == "*"
    assert total(client, WEBSITE, "events") == 0


def test_several_errors_are_named_together(client: TestClient) -> None:
    response = send(client, {"type": "nope", "payload": {"website": "x", "name": 1}})
    properties = response.json()["error"]["properties"]
    assert set(properties) == {"type", "payload"}
    assert set(properties["payload"]["properties"]) == {"website", "name"}


def test_body_over_64_kib_is_refused(client: TestClient) -> None:
    response = send(client, payload(data={"pad": "x" * (70 * 1024)}))
    assert response.status_code == 413
    assert response.json() == {
        "error": {"message": "Payload too large", "code": "payload-too-large", "status": 413}
    }


def test_cors_preflight_allows_the_cache_header(client: TestClient) -> None:
    preflight = client.options(
        "/api/send",
        headers={
            "origin": "https://a.site",
            "access-control-request-method": "POST",
            "access-control-request-headers": "content-type,x-umami-cache",
        },
    )
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == "*"
    assert preflight.headers["access-control-allow-headers"] == "content-type,x-umami-cache"
    response = send(client, payload(), headers={"origin": "https://a.site"})
    assert response.headers["access-control-allow-origin"] == "*"
