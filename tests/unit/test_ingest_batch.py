"""The batch path (footfall.ingest.batch) stores exactly the rows the per-event path stores.

Random batches go through both paths, each with its own Enricher (same daily salts,
same receive time) and its own DuckDB store, between single events that take the
per-event path in both; the stored rows must be the same. Two things are random by
design and compared for what they mean instead: footfall's own event ids (fresh
UUIDv7s: same positions hold client ids, the others are distinct ids of their own),
and derived session ids (fresh UUIDs: compared as "which events share a visit").
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mmdb_writer import MMDBWriter
from netaddr import IPSet  # type: ignore[import-untyped]

from footfall.ingest.batch import enrich_batch, fresh_ids
from footfall.ingest.enrich.pipeline import Enricher
from footfall.ingest.v1 import IngestRejected, V1Event, parse_body, timestamp_us, to_events
from footfall.model import EVENT_COLUMNS, Event
from footfall.storage.duckdb_store import DuckDBStore
from footfall.web.ingest_api import BATCH_MIN_EVENTS

RECEIVED = dt.datetime(2026, 3, 4, 12, 0, tzinfo=dt.UTC)
RECEIVED_US = timestamp_us(RECEIVED)

APPS = ["site", "shop.example", "b"]
URLS = [
    None,
    "https://site.example/",
    "https://www.site.example/pricing?utm_source=newsletter&utm_medium=email",
    "https://site.example/a?ref=producthunt",
    "https://site.example/b?utm_source=google&utm_campaign=brand&utm_term=x",
    "http://localhost:3000/dev",
    "/bare/path",
    "https://other.example/x?source=ig",
]
REFERRERS = [
    None,
    "",
    "https://www.google.com/",
    "https://www.google.com/search?q=footfall",
    "https://site.example/previous",
    "http://localhost:3000/",
    "https://news.ycombinator.com/item?id=1",
    "https://t.co/abc",
    "android-app://com.slack",
    "https://unknown.example/page",
]
AGENTS = [
    None,
    "",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1",
    "curl/8.5.0",
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
]
IPS = [None, "81.2.69.1", "81.2.69.2", "203.0.113.9", "198.51.100.3", "2001:db8::1", "10.0.0.1"]
TAGS = [None, "newsletter", "google", "ig", "Spring Sale"]


@st.composite
def items(draw: st.DrawFn, client_ids: list[str]) -> dict[str, Any]:
    """One event as a client sends it: every field optional, values from small pools so
    that visitors, visits, URLs and ids repeat within a batch."""
    item: dict[str, Any] = {}

    def maybe(key: str, strategy: st.SearchStrategy[Any]) -> None:
        value = draw(strategy)
        if value is not None:
            item[key] = value

    maybe("app", st.sampled_from([None, *APPS]))
    maybe("name", st.sampled_from([None, "pageview", "signup"]))
    maybe("id", st.sampled_from([None, None, *client_ids]))
    # Minutes around the receive time, out of order, across the 30-minute visit timeout
    # and a UTC midnight (a new day's salt); offsets and naive times too.
    minutes = draw(st.one_of(st.none(), st.integers(-13 * 60, 9)))
    if minutes is not None:
        moment = RECEIVED + dt.timedelta(minutes=minutes, seconds=draw(st.integers(0, 59)))
        form = draw(st.sampled_from(["z", "offset", "naive"]))
        if form == "z":
            item["ts"] = moment.strftime("%Y-%m-%dT%H:%M:%SZ")
        elif form == "offset":
            item["ts"] = moment.astimezone(dt.timezone(dt.timedelta(hours=2))).isoformat()
        else:
            item["ts"] = moment.replace(tzinfo=None).isoformat()
    maybe("url", st.sampled_from(URLS))
    maybe("referrer", st.sampled_from(REFERRERS))
    maybe("user_id", st.sampled_from([None, None, None, "u-1", "u-2"]))
    maybe("session_id", st.sampled_from([None, None, None, "s-1", "s-2"]))
    maybe("ip", st.sampled_from(IPS))
    maybe("user_agent", st.sampled_from(AGENTS))
    maybe("source", st.sampled_from([None, None, None, "Partner"]))
    maybe("utm_source", st.sampled_from(TAGS + [None] * 4))
    maybe("utm_campaign", st.sampled_from([None, None, None, "launch"]))
    if draw(st.integers(0, 5)) == 0:
        item.update(browser="Firefox", os="Linux", device="desktop")
    maybe("country", st.sampled_from([None, None, None, "NZ"]))
    maybe("duration", st.sampled_from([None, 0.0, 12.5]))
    maybe("description", st.sampled_from([None, "d"]))
    maybe("props", st.sampled_from([None, {}, {"plan": "pro"}, {"n": [1, {"x": None}]}]))
    maybe("interactive", st.sampled_from([None, False]))
    return item


@st.composite
def requests(draw: st.DrawFn) -> dict[str, Any]:
    """Single events, then a batch, then single events, all of one set of visitors."""
    client_ids = [str(draw(st.uuids(version=4))) for _ in range(3)]
    item = items(client_ids)
    return {
        "before": draw(st.lists(item, max_size=4)),
        "batch": draw(st.lists(item, min_size=1, max_size=60)),
        "after": draw(st.lists(item, max_size=6)),
        "client_ip": draw(st.sampled_from(IPS)),
        "client_ua": draw(st.sampled_from(AGENTS)),
    }


def decode(lines: list[dict[str, Any]]) -> list[V1Event]:
    body = "".join(json.dumps(line) + "\n" for line in lines).encode()
    return parse_body(body, "application/x-ndjson")


def write_geo_db(path: Path) -> Path:
    writer = MMDBWriter(ip_version=6, ipv4_compatible=True, database_type="GeoLite2-Country")
    writer.insert_network(IPSet(["81.2.69.0/24"]), {"country": {"iso_code": "GB"}})
    writer.insert_network(IPSet(["203.0.113.0/24"]), {"registered_country": {"iso_code": "fr"}})
    writer.insert_network(IPSet(["2001:db8::/32"]), {"country": {"iso_code": "DE"}})
    writer.to_db_file(str(path))
    return path


class Side:
    """One way of ingesting: its own enricher (sharing the other's salts) and store."""

    def __init__(self, root: Path, name: str, geo_db: Path, salts_of: Side | None) -> None:
        self.enricher = Enricher(root / name, store_ip=True, geoip_db=geo_db)
        if salts_of is not None:
            self.enricher.salts = salts_of.enricher.salts
        self.store = DuckDBStore(root / f"{name}.duckdb")
        self.store.open()
        self.seq = 1

    def single(self, lines: list[dict[str, Any]], ip: str | None, ua: str | None) -> list[Event]:
        if not lines:
            return []
        parsed = to_events(decode(lines), client_ip=ip, client_ua=ua, received_us=RECEIVED_US)
        return [self.enricher.enrich(p.event, ip=p.ip, user_agent=p.user_agent) for p in parsed]

    def store_events(self, events: list[Event]) -> None:
        if not events:
            return
        seqs = self.store.append(events, self.seq)
        self.seq += sum(1 for seq in seqs if seq is not None)

    def rows(self, since_seq: int) -> list[dict[str, Any]]:
        columns = ", ".join(EVENT_COLUMNS)
        found = self.store.query(
            f"SELECT {columns} FROM events WHERE seq >= ? ORDER BY seq", [since_seq]
        )
        return [dict(zip(EVENT_COLUMNS, row, strict=True)) for row in found]


@pytest.fixture(scope="module")
def sides() -> Iterator[tuple[Side, Side]]:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        geo_db = write_geo_db(root / "geo.mmdb")
        per_event = Side(root, "per-event", geo_db, None)
        batch = Side(root, "batch", geo_db, per_event)
        yield per_event, batch
        per_event.store.close()
        batch.store.close()


def same_rows(
    expected: list[dict[str, Any]], got: list[dict[str, Any]], client_ids: set[uuid.UUID]
) -> None:
    assert len(got) == len(expected)
    visits: dict[str, str] = {}
    for want, have in zip(expected, got, strict=True):
        want, have = dict(want), dict(have)
        if want["id"] in client_ids:
            assert have["id"] == want["id"]
        else:
            assert have["id"] not in client_ids
        want.pop("id"), have.pop("id")
        # A derived session id is a fresh UUID on each side: the same visits must hold
        # the same events, so the mapping between the two sides' ids is one to one.
        mapped = visits.setdefault(want["session_id"], have["session_id"])
        assert mapped == have["session_id"], "an event landed in another visit"
        want.pop("session_id"), have.pop("session_id")
        assert have == want
    assert len(set(visits.values())) == len(visits)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(request=requests())
def test_the_batch_path_stores_the_rows_of_the_per_event_path(
    sides: tuple[Side, Side], request: dict[str, Any]
) -> None:
    per_event, batch = sides
    since = per_event.seq
    assert batch.seq == since
    ip, ua = request["client_ip"], request["client_ua"]
    for side in sides:
        side.store_events(side.single(request["before"], ip, ua))
    per_event.store_events(per_event.single(request["batch"], ip, ua))
    enriched = enrich_batch(
        decode(request["batch"]),
        batch.enricher,
        client_ip=ip,
        client_ua=ua,
        received_us=RECEIVED_US,
    )
    batch.store_events(enriched)
    for side in sides:
        side.store_events(side.single(request["after"], ip, ua))
    client_ids = {
        uuid.UUID(line["id"])
        for part in ("before", "batch", "after")
        for line in request[part]
        if "id" in line
    }
    same_rows(per_event.rows(since), batch.rows(since), client_ids)


def test_a_timestamp_in_the_future_names_each_item_and_changes_no_visit() -> None:
    enricher = Enricher(None)
    future = (RECEIVED + dt.timedelta(minutes=11)).strftime("%Y-%m-%dT%H:%M:%SZ")
    lines = [{"ip": "10.0.0.1"}, {"ts": future}, {}, {"ts": future}]
    with pytest.raises(IngestRejected) as caught:
        enrich_batch(
            decode(lines), enricher, client_ip=None, client_ua=None, received_us=RECEIVED_US
        )
    assert caught.value.status == 422
    assert [(e.index, e.field) for e in caught.value.errors] == [(1, "ts"), (3, "ts")]
    assert len(enricher.sessions) == 0 and len(enricher.visits) == 0


def test_fresh_ids_are_distinct_uuid7s() -> None:
    ids = list(itertools.islice(fresh_ids(), 10_000))
    assert len(set(ids)) == len(ids)
    assert {value.version for value in ids} == {7}
    assert {value.variant for value in ids} == {uuid.RFC_4122}
    assert ids == sorted(ids)
    assert next(fresh_ids()) not in set(ids)


def ndjson(lines: list[dict[str, Any]]) -> str:
    return "".join(json.dumps(line) + "\n" for line in lines)


def test_a_big_request_is_stored_and_visits_continue_in_single_events(
    client: TestClient,
) -> None:
    """Over HTTP: a batch (the batch path) and then a single event of the same visitor
    (the per-event path) are one visit, whose origin is the batch's first event's."""
    agent = AGENTS[2]
    lines = [
        {"app": "t", "url": f"https://t.example/p{i}", "ip": "81.2.69.7", "user_agent": agent}
        for i in range(BATCH_MIN_EVENTS + 4)
    ]
    lines[0]["referrer"] = "https://news.ycombinator.com/"
    response = client.post(
        "/api/v1/events", content=ndjson(lines), headers={"content-type": "application/x-ndjson"}
    )
    assert response.status_code == 202, response.text
    assert response.json() == {"accepted": len(lines), "duplicates": 0}
    single = {"app": "t", "url": "https://t.example/after", "ip": "81.2.69.7", "user_agent": agent}
    assert client.post("/api/v1/events", json=single).status_code == 202
    answer = client.post(
        "/api/v1/query",
        json={
            "app": "t",
            "date_range": "all",
            "metrics": ["visits", "pageviews"],
            "dimensions": ["visit:source", "visit:browser"],
        },
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["results"] == [
        {"dimensions": ["Hacker News", "Chrome"], "metrics": [1, len(lines) + 1]}
    ]


def test_a_big_request_with_a_future_timestamp_is_422_and_stores_nothing(
    client: TestClient,
) -> None:
    future = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    lines: list[dict[str, Any]] = [{"app": "t"} for _ in range(BATCH_MIN_EVENTS + 4)]
    lines[5]["ts"] = future
    response = client.post(
        "/api/v1/events", content=ndjson(lines), headers={"content-type": "application/x-ndjson"}
    )
    assert response.status_code == 422, response.text
    assert "5" in response.text and "ts" in response.text
    answer = client.post(
        "/api/v1/query", json={"app": "t", "date_range": "all", "metrics": ["events"]}
    )
    assert answer.json()["results"][0]["metrics"] == [0]


@settings(max_examples=40, deadline=None)
@given(lines=st.lists(items([str(uuid.uuid4())]), min_size=1, max_size=30))
def test_compact_ndjson_decodes_as_line_by_line(lines: list[dict[str, Any]]) -> None:
    """One call for the whole body (compact NDJSON) gives the items of one call per line."""
    compact = "\n".join(json.dumps(line, separators=(",", ":")) for line in lines).encode()
    loose = b"\r\n\n".join(b"  " + json.dumps(line).encode() for line in lines)
    assert parse_body(compact, "application/x-ndjson") == parse_body(loose, "application/x-ndjson")


@pytest.mark.parametrize(
    ("body", "bad_lines"),
    [
        # Two objects on one line, and an object across two lines: as many objects as
        # lines, but not one per line.
        (b'{"app":"a"} {"app":"b"}\n{"app":"c","props":{"x":[1,\n2]}}\n', [0, 1, 2]),
        (b'{"app":"a"}{"app":"b"}\n{"app":"c"}', [0]),
        (b'{"app":"a"}\n{"description":"}\n{"}', [1, 2]),
        (b'{"app":"a"}\n{"app":"$"}', [1]),
    ],
)
def test_ndjson_is_one_object_per_line(body: bytes, bad_lines: list[int]) -> None:
    with pytest.raises(IngestRejected) as caught:
        parse_body(body, "application/x-ndjson")
    assert caught.value.status == 422
    assert [error.index for error in caught.value.errors] == bad_lines
