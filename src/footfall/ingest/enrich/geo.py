"""Client IP → ISO country code, from a MaxMind DB file (`FOOTFALL_GEOIP_DB`).

Any mmdb with countries works: MaxMind's GeoLite2/GeoIP2 Country or City,
DB-IP's lite databases (same layout), or one that stores a flat
`country_code`. The IP is only looked up, never kept (see docs/privacy.md).
Without a database, or for an address it does not know, the country is null.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path

import maxminddb
from maxminddb.types import Record


class GeoIPError(Exception):
    """The configured database cannot be opened."""


class GeoIP:
    def __init__(self, path: Path) -> None:
        try:
            self._reader = maxminddb.open_database(str(path))
        except (OSError, ValueError, maxminddb.InvalidDatabaseError) as exc:
            raise GeoIPError(f"cannot open the GeoIP database {path}: {exc}") from exc
        self.path = path

    def country(self, ip: str | None) -> str | None:
        """The ISO 3166-1 alpha-2 code of `ip`'s country, or None."""
        if not ip:
            return None
        try:
            address = ipaddress.ip_address(ip)
        except ValueError:
            return None
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped  # ::ffff:192.0.2.1, as dual-stack sockets report
        try:
            record = self._reader.get(address)
        except ValueError:  # IPv6 in an IPv4-only database
            return None
        return country_code(record)

    def close(self) -> None:
        self._reader.close()


def country_code(record: Record | None) -> str | None:
    """`country.iso_code`, else `registered_country.iso_code`, else a flat `country_code`."""
    if not isinstance(record, dict):
        return None
    for key in ("country", "registered_country"):
        place = record.get(key)
        if isinstance(place, dict):
            code = place.get("iso_code")
            if isinstance(code, str) and code:
                return code.upper()
    flat = record.get("country_code")
    if isinstance(flat, str) and flat:
        return flat.upper()
    return None
