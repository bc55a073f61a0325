"""What the ingest measurements send: one small event per request, or NDJSON batches.

Each single-event endpoint gets its own app, so the events the load adds never
change the answers of the query measurements (app `shop.example`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from bench.loadgen import JsonClient

QUERY_PATH = "/api/v1/query"
# Plausible's tracker is a browser: footfall drops requests without a user agent as bots.
BROWSER_UA = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
)


@dataclass(frozen=True)
class Endpoint:
    """One single-event POST: path, body, and the app its events land in."""

    label: str
    path: str
    body: bytes
    app: str
    headers: dict[str, str] = field(default_factory=dict)


V1 = Endpoint(
    "POST /api/v1/events (one event)",
    "/api/v1/events",
    b'{"app":"bench-wrk","url":"https://bench.example/pricing",'
    b'"referrer":"https://www.google.com/"}',
    "bench-wrk",
)
# Contract 000/001's visit: 001's clients send no body, 000's a small JSON one.
VISIT = Endpoint(
    "POST /visit",
    "/visit",
    b'{"app":"bench-visit","user_id":"u-1","page_url":"https://bench.example/pricing"}',
    "bench-visit",
)
PLAUSIBLE = Endpoint(
    "POST /api/event (Plausible)",
    "/api/event",
    b'{"n":"pageview","u":"https://plausible.example/pricing","d":"plausible.example",'
    b'"r":"https://www.google.com/"}',
    "plausible.example",
    {"User-Agent": BROWSER_UA, "X-Forwarded-For": "203.0.113.7"},
)
# Contract 003's event, as its README's example; footfall stores it in app `default`.
EVENT003 = Endpoint(
    "POST /events/ (003)",
    "/events/",
    b'{"user_id":"user_123","event_type":"page_view","metadata":{"page":"/products"}}',
    "default",
)
SINGLE_EVENT_ENDPOINTS = (V1, VISIT, PLAUSIBLE)


def stored_events(client: JsonClient, app: str) -> int:
    """Events of `app` in the store, through the query API."""
    status, body, _ = client.post(
        QUERY_PATH, {"app": app, "date_range": "all", "metrics": ["events"]}
    )
    if status != 200:
        raise RuntimeError(f"count query for {app}: HTTP {status}: {body}")
    return int(body["results"][0]["metrics"][0]) if body["results"] else 0


def settled_count(client: JsonClient, app: str, timeout: float = 5.0) -> int:
    """The app's event count once it stops changing (requests in flight still commit)."""
    stored, previous = -1, -2
    deadline = time.monotonic() + timeout
    while stored != previous and time.monotonic() < deadline:
        previous = stored
        time.sleep(0.3)
        stored = stored_events(client, app)
    return stored


def rename_apps(bodies: list[bytes], prefix: str) -> list[bytes]:
    """NDJSON bodies with every `"app":"x"` turned into `"app":"<prefix>x"`."""
    return [body.replace(b'"app":"', b'"app":"' + prefix.encode()) for body in bodies]
