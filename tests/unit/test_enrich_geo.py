"""Country lookup in a MaxMind DB that the test writes with mmdb-writer."""

from __future__ import annotations

from pathlib import Path

import pytest
from mmdb_writer import MMDBWriter
from netaddr import IPSet

from footfall.ingest.enrich.geo import GeoIP, GeoIPError, country_code
from footfall.ingest.enrich.pipeline import Enricher
from footfall.model import Event
from footfall.settings import Settings


def write_db(path: Path, ip_version: int = 6) -> Path:
    writer = MMDBWriter(
        ip_version=ip_version,
        ipv4_compatible=ip_version == 6,
        database_type="GeoLite2-Country",
        languages=["en"],
        description="footfall test",
    )
    writer.insert_network(
        IPSet(["81.2.69.0/24"]),
        {
            "country": {"iso_code": "GB", "names": {"en": "United Kingdom"}},
            "continent": {"code": "EU"},
        },
    )
    writer.insert_network(IPSet(["203.0.113.0/24"]), {"registered_country": {"iso_code": "fr"}})
    writer.insert_network(IPSet(["198.51.100.0/24"]), {"country_code": "JP"})
    if ip_version == 6:
        writer.insert_network(IPSet(["2001:db8::/32"]), {"country": {"iso_code": "DE"}})
    writer.to_db_file(str(path))
    return path


@pytest.fixture
def geo(tmp_path: Path) -> GeoIP:
    return GeoIP(write_db(tmp_path / "countries.mmdb"))


@pytest.mark.parametrize(
    ("ip", "country"),
    [
        ("81.2.69.160", "GB"),
        ("2001:db8::1", "DE"),
        ("::ffff:81.2.69.1", "GB"),  # IPv4-mapped, as a dual-stack socket reports it
        ("203.0.113.9", "FR"),  # registered country when no country
        ("198.51.100.9", "JP"),  # a flat country_code
        ("8.8.8.8", None),  # not in the database
        ("testclient", None),  # not an address
        ("", None),
        (None, None),
    ],
)
def test_country(geo: GeoIP, ip: str | None, country: str | None) -> None:
    assert geo.country(ip) == country


def test_ipv6_in_an_ipv4_database(tmp_path: Path) -> None:
    geo = GeoIP(write_db(tmp_path / "v4.mmdb", ip_version=4))
    assert geo.country("81.2.69.1") == "GB"
    assert geo.country("2001:db8::1") is None


def test_a_missing_or_broken_database_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(GeoIPError, match="cannot open the GeoIP database"):
        GeoIP(tmp_path / "missing.mmdb")
    broken = tmp_path / "broken.mmdb"
    broken.write_bytes(b"not a database")
    with pytest.raises(GeoIPError):
        GeoIP(broken)


@pytest.mark.parametrize("record", [None, "GB", 1, [], {"country": "GB"}, {"country": {}}])
def test_records_without_a_country(record: object) -> None:
    assert country_code(record) is None  # type: ignore[arg-type]


def test_enricher_sets_the_country_and_never_keeps_the_ip(tmp_path: Path) -> None:
    enricher = Enricher(tmp_path, geoip_db=write_db(tmp_path / "countries.mmdb"))
    event = enricher.enrich(Event(url="/"), ip="81.2.69.7", user_agent="agent/1")
    assert (event.country, event.ip) == ("GB", None)
    told = enricher.enrich(Event(url="/", country="NL"), ip="81.2.69.7", user_agent="agent/1")
    assert told.country == "NL"  # a client that knows the country keeps it
    assert (
        Enricher(tmp_path).enrich(Event(url="/"), ip="81.2.69.7", user_agent="a/1").country is None
    )


def test_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FOOTFALL_GEOIP_DB", str(tmp_path / "countries.mmdb"))
    monkeypatch.setenv("FOOTFALL_APPS", " example.com, ,shop.example.com ")
    settings = Settings()
    assert settings.geoip_db == tmp_path / "countries.mmdb"
    assert settings.allowed_apps() == frozenset({"example.com", "shop.example.com"})
    monkeypatch.setenv("FOOTFALL_GEOIP_DB", "")
    monkeypatch.delenv("FOOTFALL_APPS")
    assert Settings().geoip_db is None
    assert Settings().allowed_apps() == frozenset()
