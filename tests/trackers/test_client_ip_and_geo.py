"""Whose address a tracker event is counted by: the TCP peer, or `X-Forwarded-For` only from a
trusted proxy; and the country that address has in a GeoIP database the test writes."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from mmdb_writer import MMDBWriter
from netaddr import IPSet

from tests.trackers.conftest import CHROME, WEBSITE, query

PAGEVIEW = b'{"n":"pageview","u":"https://example.com/","d":"example.com","r":null}'
UMAMI = (
    b'{"type":"event","payload":{"website":"' + WEBSITE.encode() + b'",'
    b'"hostname":"example.com","url":"/","referrer":""}}'
)


@pytest.fixture
def geoip_db(tmp_path: Path) -> Path:
    writer = MMDBWriter(
        ip_version=6,
        ipv4_compatible=True,
        database_type="GeoLite2-Country",
        languages=["en"],
        description="footfall test countries",
    )
    writer.insert_network(IPSet(["81.2.69.0/24"]), {"country": {"iso_code": "GB"}})
    writer.insert_network(IPSet(["2001:db8::/32"]), {"country": {"iso_code": "DE"}})
    writer.insert_network(IPSet(["203.0.113.0/24"]), {"registered_country": {"iso_code": "FR"}})
    path = tmp_path / "countries.mmdb"
    writer.to_db_file(str(path))
    return path


def plausible(client: TestClient, forwarded: str | None = None) -> None:
    headers = {"user-agent": CHROME, "content-type": "text/plain"}
    if forwarded is not None:
        headers["x-forwarded-for"] = forwarded
    assert client.post("/api/event", content=PAGEVIEW, headers=headers).status_code == 202


def umami(client: TestClient, forwarded: str | None = None) -> None:
    headers = {"user-agent": CHROME, "content-type": "application/json"}
    if forwarded is not None:
        headers["x-forwarded-for"] = forwarded
    assert client.post("/api/send", content=UMAMI, headers=headers).status_code == 200


def test_forwarded_for_from_a_trusted_proxy(
    client_factory: Callable[..., TestClient], geoip_db: Path
) -> None:
    client = client_factory("10.1.2.3", trusted_proxies="10.0.0.0/8", geoip_db=geoip_db)
    plausible(client, "81.2.69.10")
    plausible(client, "198.51.100.1, 2001:db8::5")  # the right-most untrusted hop
    plausible(client, "81.2.69.10, 10.9.9.9")  # another trusted proxy in the chain
    umami(client, "81.2.69.11")
    umami(client, "2001:db8::6")
    assert query(client, "example.com", ["visitors", "pageviews"], ["visit:country"]) == {
        ("GB",): [1, 2],
        ("DE",): [1, 1],
    }
    assert query(client, WEBSITE, ["visitors"], ["visit:country"]) == {
        ("GB",): [1],
        ("DE",): [1],
    }


def test_forwarded_for_from_anyone_else_is_ignored(
    client_factory: Callable[..., TestClient], geoip_db: Path
) -> None:
    client = client_factory("203.0.113.50", trusted_proxies="10.0.0.0/8", geoip_db=geoip_db)
    plausible(client, "81.2.69.10")
    plausible(client, "2001:db8::5")
    plausible(client)
    umami(client, "81.2.69.10")
    # One visitor, counted by the TCP peer and its country; the claimed addresses changed nothing.
    assert query(client, "example.com", ["visitors", "pageviews"], ["visit:country"]) == {
        ("FR",): [1, 3]
    }
    assert query(client, WEBSITE, ["visitors"], ["visit:country"]) == {("FR",): [1]}


def test_no_trusted_proxies_means_the_peer(client_factory: Callable[..., TestClient]) -> None:
    client = client_factory("198.51.100.7")
    plausible(client, "81.2.69.10")
    plausible(client, "81.2.69.11")
    assert query(client, "example.com", ["visitors", "pageviews"], ["visit:country"]) == {
        (None,): [1, 2]  # no GeoIP database: no country
    }


def test_umami_payload_ip_is_the_client(
    client_factory: Callable[..., TestClient], geoip_db: Path
) -> None:
    """A server-side sender names the visitor's address in the payload, as Umami allows."""
    client = client_factory("203.0.113.50", geoip_db=geoip_db)
    body = UMAMI.replace(b'"url":"/"', b'"url":"/","ip":"2001:db8::77"')
    response = client.post("/api/send", content=body, headers={"user-agent": CHROME})
    assert response.status_code == 200
    assert query(client, WEBSITE, ["visitors"], ["visit:country"]) == {("DE",): [1]}
