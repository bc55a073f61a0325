"""`POST /api/event` with the bodies Plausible's trackers send, read back through the query API."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.trackers.conftest import (
    CHROME,
    GOOGLEBOT,
    HEADLESS,
    IPHONE,
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
    content_type: str | None = "text/plain",
    headers: dict[str, str] | None = None,
) -> Any:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    sent = {"user-agent": user_agent, **(headers or {})}
    if content_type is not None:
        sent["content-type"] = content_type
    return client.post("/api/event", content=content, headers=sent)


def accepted(response: Any) -> None:
    assert response.status_code == 202, response.text
    assert response.text == "ok"
    assert "x-plausible-dropped" not in response.headers


@pytest.mark.parametrize("name", all_fixtures("plausible"))
def test_every_captured_body_is_accepted(client: TestClient, name: str) -> None:
    if "engagement" in name:
        # Engagement extends a visit; the tracker sends it after the page's pageview.
        accepted(send(client, {**json.loads(fixture(name)), "n": "pageview"}))
    accepted(send(client, fixture(name)))


def test_legacy_script_pageview_end_to_end(client: TestClient) -> None:
    accepted(send(client, fixture("plausible/legacy_pageview")))
    dims = [
        "event:hostname",
        "event:page",
        "visit:source",
        "visit:referrer_domain",
        "visit:utm_medium",
        "visit:utm_campaign",
        "visit:browser",
        "visit:os",
        "visit:device",
    ]
    assert query(client, "example.com", ["pageviews", "visitors", "visits"], dims) == {
        (
            "example.com",
            "/pricing",
            "newsletter",  # a tagged link names the source, whatever the referrer
            "google.com",
            "email",
            "spring",
            "Chrome",
            "Windows",
            "desktop",
        ): [1, 1, 1]
    }


def test_a_known_referrer_is_named(client: TestClient) -> None:
    accepted(send(client, fixture("plausible/pageview")))
    accepted(send(client, fixture("plausible/legacy_outbound_link"), user_agent=IPHONE))
    rows = query(client, "example.com", ["visitors"], ["visit:source", "visit:device"])
    assert rows == {("Hacker News", "desktop"): [1], (None, "mobile"): [1]}


@pytest.mark.parametrize(
    ("referrer", "source"),
    [
        ("https://www.google.com/", "Google"),
        ("https://www.google.co.uk/", "Google"),
        ("https://duckduckgo.com/", "DuckDuckGo"),
        ("https://www.bing.com/search?q=footfall", "Bing"),
        ("https://l.facebook.com/l.php?u=x", "Facebook"),
        ("https://old.reddit.com/r/selfhosted/", "Reddit"),
        ("https://t.co/abc", "Twitter"),
        ("https://news.ycombinator.com/item?id=1", "Hacker News"),
        ("https://blog.other.org/post", "blog.other.org"),
        ("https://www.example.com/elsewhere", None),  # the site itself
        ("http://localhost:3000/", None),
    ],
)
def test_source_from_referrer(client: TestClient, referrer: str, source: str | None) -> None:
    body = {"n": "pageview", "u": "https://example.com/", "d": "example.com", "r": referrer}
    accepted(send(client, body))
    assert query(client, "example.com", ["visits"], ["visit:source"]) == {(source,): [1]}


def test_utm_source_is_named_like_a_referrer(client: TestClient) -> None:
    url = "https://example.com/?utm_source=google&utm_medium=cpc"
    accepted(send(client, {"n": "pageview", "u": url, "d": "example.com", "r": None}))
    assert query(client, "example.com", ["visits"], ["visit:source", "visit:utm_source"]) == {
        ("Google", "google"): [1]
    }


def test_hash_mode_keeps_the_route(client: TestClient) -> None:
    accepted(send(client, fixture("plausible/legacy_pageview_hash")))
    without_hash = {"n": "pageview", "u": "https://example.com/app/#/other", "d": "example.com"}
    accepted(send(client, without_hash))
    assert query(client, "example.com", ["pageviews"], ["event:page"]) == {
        ("/app/#/settings/billing",): [1],
        ("/app/",): [1],
    }


def test_path_is_decoded_like_plausible(client: TestClient) -> None:
    url = "https://example.com/caf%C3%A9/menu%20du%20jour  "
    accepted(send(client, {"n": "pageview", "u": url, "d": "example.com"}))
    assert query(client, "example.com", ["pageviews"], ["event:page"]) == {
        ("/café/menu du jour",): [1]
    }


def test_props_and_meta(client: TestClient) -> None:
    accepted(send(client, fixture("plausible/custom_event_props")))
    accepted(send(client, fixture("plausible/legacy_custom_event_meta")))
    files = query(
        client,
        "example.com",
        ["events"],
        ["event:name", "event:props:file", "event:props:pages", "event:props:draft"],
    )
    assert files[("Download", "report.pdf", "12", "false")] == [1]
    plans = query(client, "example.com", ["events"], ["event:props:plan", "event:props:seats"])
    assert plans == {("pro", "3"): [1], (None, None): [1]}


def test_props_rules(client: TestClient) -> None:
    props: dict[str, Any] = {f"k{i:02}": i for i in range(40)}
    props.update({"nested": {"a": 1}, "list": [1], "blank": " ", "null": None, " ": "x"})
    body = {"n": "Many", "u": "https://example.com/", "d": "example.com", "p": props}
    accepted(send(client, body))
    stored = query(client, "example.com", ["events"], ["event:props:k00", "event:props:k29"])
    assert stored == {("0", "29"): [1]}
    assert query(client, "example.com", ["events"], ["event:props:k30"]) == {(None,): [1]}
    for key in ("nested", "list", "blank", "null"):
        assert query(client, "example.com", ["events"], [f"event:props:{key}"]) == {(None,): [1]}


def test_props_as_json_text_and_garbage(client: TestClient) -> None:
    base = {"u": "https://example.com/", "d": "example.com"}
    accepted(send(client, {**base, "n": "Text", "props": json.dumps({"plan": "pro"})}))
    accepted(send(client, {**base, "n": "Garbage", "props": "not json"}))
    accepted(send(client, {**base, "n": "Array", "props": [1, 2]}))
    rows = query(client, "example.com", ["events"], ["event:name", "event:props:plan"])
    assert rows == {("Text", "pro"): [1], ("Garbage", None): [1], ("Array", None): [1]}


def test_revenue(client: TestClient) -> None:
    accepted(send(client, fixture("plausible/revenue")))
    bad = {"n": "Purchase", "u": "https://example.com/", "d": "example.com"}
    accepted(send(client, {**bad, "revenue": {"amount": "lots", "currency": "EUR"}}))
    accepted(send(client, {**bad, "$": json.dumps({"amount": 5, "currency": "USD"})}))
    rows = query(
        client,
        "example.com",
        ["events"],
        ["event:props:revenue_amount", "event:props:revenue_currency", "event:props:plan"],
    )
    assert rows == {("29.90", "EUR", "pro"): [1], (None, None, None): [1], ("5", "USD", None): [1]}


def test_integer_name_is_a_string(client: TestClient) -> None:
    accepted(send(client, {"n": 404, "u": "https://example.com/gone", "d": "example.com"}))
    assert query(client, "example.com", ["events"], ["event:name"]) == {("404",): [1]}


def test_long_field_names(client: TestClient) -> None:
    body = {
        "name": "Signup",
        "url": "https://example.com/#/join",
        "domain": "example.com",
        "referrer": "https://news.ycombinator.com/",
        "props": {"plan": "pro"},
        "hashMode": 1,
        "interactive": False,
    }
    accepted(send(client, body))
    rows = query(
        client,
        "example.com",
        ["events", "bounce_rate"],
        ["event:name", "event:page", "visit:source", "event:props:plan"],
    )
    assert rows == {("Signup", "/#/join", "Hacker News", "pro"): [1, 100.0]}


def test_non_interactive_events_do_not_affect_bounce(client: TestClient) -> None:
    accepted(send(client, fixture("plausible/pageview")))
    accepted(send(client, fixture("plausible/non_interactive")))
    assert query(client, "example.com", ["visits", "events", "bounce_rate"]) == {(): [1, 2, 100.0]}
    accepted(send(client, fixture("plausible/custom_event_props")))
    assert query(client, "example.com", ["visits", "events", "bounce_rate"]) == {(): [1, 3, 0.0]}


def test_engagement_is_stored_non_interactive_with_its_time(client: TestClient) -> None:
    accepted(send(client, fixture("plausible/pageview")))
    accepted(send(client, fixture("plausible/engagement")))
    accepted(send(client, fixture("plausible/legacy_engagement")))
    assert query(client, "example.com", ["pageviews", "events", "visits", "bounce_rate"]) == {
        (): [1, 3, 1, 100.0]
    }
    engagement = [["is", "event:name", ["engagement"]]]
    rows = query(
        client,
        "example.com",
        ["events", "avg_duration"],
        ["event:page", "event:props:sd", "event:props:e", "event:props:author"],
        engagement,
    )
    assert rows == {
        ("/blog/hello-world", "80", "12500", "ada"): [1, 12.5],
        ("/docs", "45", None, None): [1, None],
    }


def test_rollup_domains_record_the_event_in_each(client: TestClient) -> None:
    accepted(send(client, fixture("plausible/rollup_domains")))
    for app in ("blog.example.com", "example-rollup.com"):
        assert query(client, app, ["pageviews", "visitors"], ["event:hostname"]) == {
            ("blog.example.com",): [1, 1]
        }


def test_domain_defaults_to_the_url_host_without_www(client: TestClient) -> None:
    accepted(send(client, {"n": "pageview", "u": "https://www.example.org/a"}))
    assert total(client, "example.org", "pageviews") == 1


def test_body_is_json_whatever_the_content_type(client: TestClient) -> None:
    body = fixture("plausible/pageview")
    for content_type in ("text/plain", "application/json", "application/x-www-form-urlencoded"):
        accepted(send(client, body, content_type=content_type))
    accepted(send(client, body, content_type=None))
    assert total(client, "example.com", "pageviews") == 4


def test_a_visit_spans_pageviews(client: TestClient) -> None:
    for path in ("/", "/pricing", "/signup"):
        accepted(send(client, {"n": "pageview", "u": f"https://example.com{path}", "d": "x.io"}))
    assert query(client, "x.io", ["visitors", "visits", "views_per_visit", "bounce_rate"]) == {
        (): [1, 1, 3.0, 0.0]
    }


# --- errors, field by field ------------------------------------------------------------

OK = {"n": "pageview", "u": "https://example.com/", "d": "example.com"}


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        (b"not json", {"request": ["Unable to parse request body as json"]}),
        (b"[1, 2]", {"request": ["Unable to parse request body as json"]}),
        (b"", {"request": ["Unable to parse request body as json"]}),
        ({**OK, "n": None}, {"event_name": ["can't be blank"]}),
        ({"u": OK["u"], "d": OK["d"]}, {"event_name": ["can't be blank"]}),
        ({**OK, "n": ""}, {"event_name": ["can't be blank"]}),
        ({**OK, "n": "   "}, {"event_name": ["can't be blank"]}),
        ({**OK, "n": True}, {"event_name": ["is invalid"]}),
        ({**OK, "n": 1.5}, {"event_name": ["is invalid"]}),
        ({**OK, "n": {"a": 1}}, {"event_name": ["is invalid"]}),
        ({**OK, "n": "x" * 121}, {"event_name": ["should be at most 120 character(s)"]}),
        ({"n": "pageview", "d": "example.com"}, {"url": ["is required"]}),
        ({**OK, "u": 42}, {"url": ["must be a valid url"]}),
        ({**OK, "u": "https://example.com/" + "a" * 1990}, {"url": ["must be a valid url"]}),
        ({**OK, "u": "http://[::1/"}, {"url": ["must be a valid url"]}),
        ({**OK, "u": "https://example.com:port/"}, {"url": ["must be a valid url"]}),
        ({**OK, "u": "data:text/html,<p>hi</p>"}, {"url": ["scheme is not allowed"]}),
        ({**OK, "d": ""}, {"domain": ["can't be blank"]}),
        ({**OK, "d": "   "}, {"domain": ["can't be blank"]}),
        ({"n": "pageview", "u": "/relative/path"}, {"domain": ["can't be blank"]}),
        ({**OK, "h": "yes"}, {"hash_mode": ["is invalid"]}),
        ({**OK, "h": True}, {"hash_mode": ["is invalid"]}),
        (
            {**OK, "p": {"k" * 301: "v"}},
            {"props": ["keys should have at most 300 bytes and values 2000 bytes"]},
        ),
        (
            {**OK, "p": {"k": "v" * 2001}},
            {"props": ["keys should have at most 300 bytes and values 2000 bytes"]},
        ),
        (
            {**OK, "n": "engagement", "sd": "deep", "e": -1},
            {
                "event_name": [
                    "engagement event requires a valid integer value for at least one of "
                    "'sd' or 'e' fields"
                ]
            },
        ),
        (
            {"n": "", "u": "data:x"},
            {
                "url": ["scheme is not allowed"],
                "event_name": ["can't be blank"],
                "domain": ["can't be blank"],
            },
        ),
    ],
)
def test_invalid_requests(client: TestClient, body: Any, errors: dict[str, list[str]]) -> None:
    response = send(client, body)
    assert response.status_code == 400
    assert response.json() == {"errors": errors}
    assert response.headers["access-control-allow-origin"] == "*"
    assert total(client, "example.com", "events") == 0


def test_accepted_edge_values(client: TestClient) -> None:
    """What Plausible lets through: a 120-character name, a 2000-byte URL, `h` as text,
    an empty URL with a domain, a non-string referrer (ignored), a long one (cut)."""
    accepted(send(client, {**OK, "n": "x" * 120}))
    accepted(send(client, {**OK, "u": "https://example.com/" + "a" * 1980}))
    accepted(send(client, {**OK, "u": "https://example.com/#/a", "h": "1"}))
    accepted(send(client, {**OK, "u": ""}))
    accepted(send(client, {**OK, "r": 42}))
    assert total(client, "example.com", "events") == 5
    pages = query(client, "example.com", ["events"], ["event:page"])
    assert pages[("/#/a",)] == [1]
    assert pages[("/",)] == [3]
    long_referrer = {**OK, "d": "cut.example", "r": "https://ref.example.org/" + "r" * 3000}
    accepted(send(client, long_referrer))
    refs = query(client, "cut.example", ["events"], ["visit:referrer_domain"])
    assert refs == {("ref.example.org",): [1]}


def test_body_over_64_kib_is_refused(client: TestClient) -> None:
    body = {**OK, "p": {"pad": "x" * (70 * 1024)}}
    response = send(client, body)
    assert response.status_code == 413
    assert response.json() == {"errors": {"request": ["body is over 65536 bytes"]}}


def test_every_answer_carries_its_own_headers_once(client: TestClient) -> None:
    # The usual answer is built once and shared: no request may leave anything on it.
    body = fixture("plausible/rollup_domains")
    answers = [
        send(client, body),
        send(client, body, user_agent=GOOGLEBOT),
        send(client, body),
        send(client, body),
    ]
    for index, response in enumerate(answers):
        assert response.status_code == 202
        allow_origin = response.headers.get_list("access-control-allow-origin")
        assert allow_origin == ["*"], index
        dropped = response.headers.get_list("x-plausible-dropped")
        assert dropped == (["2"] if index == 1 else []), index
    assert answers[0].headers.raw == answers[2].headers.raw == answers[3].headers.raw


# --- dropped on purpose ----------------------------------------------------------------


@pytest.mark.parametrize("agent", [GOOGLEBOT, HEADLESS, "curl/8.5.0", "python-requests/2.32"])
def test_bots_are_dropped(client: TestClient, agent: str) -> None:
    response = send(client, fixture("plausible/rollup_domains"), user_agent=agent)
    assert response.status_code == 202
    assert response.text == "ok"
    assert response.headers["x-plausible-dropped"] == "2"
    assert total(client, "blog.example.com", "events") == 0
    dropped = client.get("/api/trackers/dropped").json()["dropped"]
    assert dropped == [
        {"app": "blog.example.com", "reason": "bot", "events": 1},
        {"app": "example-rollup.com", "reason": "bot", "events": 1},
    ]


def test_allow_list_drops_other_apps(client_factory: Callable[..., TestClient]) -> None:
    client = client_factory(apps="blog.example.com, example.com")
    response = send(client, fixture("plausible/rollup_domains"))
    assert response.status_code == 202
    assert response.headers["x-plausible-dropped"] == "1"
    assert total(client, "blog.example.com", "pageviews") == 1
    assert total(client, "example-rollup.com", "pageviews") == 0
    accepted(send(client, fixture("plausible/pageview")))
    assert client.get("/api/trackers/dropped").json()["dropped"] == [
        {"app": "example-rollup.com", "reason": "unknown_app", "events": 1}
    ]


@pytest.mark.parametrize(
    "referrer", ["https://semalt.com/", "http://www.darodar.com/x", "https://a.ilovevitaly.com"]
)
def test_referrer_spam_is_dropped(client: TestClient, referrer: str) -> None:
    response = send(client, {**OK, "r": referrer})
    assert response.status_code == 202 and response.text == "ok"
    assert response.headers["x-plausible-dropped"] == "1"
    assert total(client, "example.com", "events") == 0
    accepted(send(client, {**OK, "r": "https://news.ycombinator.com/"}))
    assert total(client, "example.com", "events") == 1
    assert client.get("/api/trackers/dropped").json()["dropped"] == [
        {"app": "example.com", "reason": "spam_referrer", "events": 1}
    ]


def test_engagement_without_an_open_visit_is_dropped(client: TestClient) -> None:
    engagement = json.loads(fixture("plausible/engagement"))
    response = send(client, engagement)
    assert response.headers["x-plausible-dropped"] == "1"
    assert total(client, "example.com", "events") == 0
    # Another visitor's visit does not count: the visit must be this visitor's.
    accepted(send(client, {**engagement, "n": "pageview"}, user_agent=IPHONE))
    assert send(client, engagement).headers["x-plausible-dropped"] == "1"
    accepted(send(client, engagement, user_agent=IPHONE))
    assert total(client, "example.com", "events") == 2
    assert client.get("/api/trackers/dropped").json()["dropped"] == [
        {"app": "example.com", "reason": "no_visit", "events": 2}
    ]


def test_a_domain_that_is_no_app_name_is_dropped(client: TestClient) -> None:
    response = send(client, {**OK, "d": "example.com,not a domain/with spaces"})
    assert response.headers["x-plausible-dropped"] == "1"
    assert total(client, "example.com", "pageviews") == 1


# --- CORS -------------------------------------------------------------------------------


def test_cors(client: TestClient) -> None:
    response = send(client, fixture("plausible/pageview"), headers={"origin": "https://a.site"})
    assert response.headers["access-control-allow-origin"] == "*"
    preflight = client.options(
        "/api/event",
        headers={
            "origin": "https://a.site",
            "access-control-request-method": "POST",
            "access-control-request-headers": "content-type",
        },
    )
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == "*"
    assert "POST" in preflight.headers["access-control-allow-methods"]
    assert preflight.headers["access-control-allow-headers"] == "content-type"
