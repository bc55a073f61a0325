"""The enrichment every protocol shares: from a bare event to a row worth counting.

Parsers (v1 API, contracts, trackers) fill what their request says; `Enricher`
derives the rest — hostname/path/UTM from the URL, the referrer's domain, the
cookieless visitor id and the visit (session). Fields a client set explicitly
(an import that already knows the browser, say) are left as they are.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from footfall.ingest.enrich.bots import is_bot
from footfall.ingest.enrich.geo import GeoIP
from footfall.ingest.enrich.referrer import canonical_source, referrer_source
from footfall.ingest.enrich.sessionize import Sessionizer, VisitStamper
from footfall.ingest.enrich.ua import parse_user_agent
from footfall.ingest.enrich.visitor import (
    SALT_RETENTION,
    DailySalts,
    anonymous_visitor_id,
    known_visitor_id,
)
from footfall.ingest.urls import referrer_domain, split_url
from footfall.model import Event, now_us

_DAY_US = 86_400_000_000
_SALT_RETENTION_US = int(SALT_RETENTION.total_seconds()) * 1_000_000
_EPOCH_ORDINAL = dt.date(1970, 1, 1).toordinal()


class Enricher:
    def __init__(
        self, data_dir: Path | None, *, store_ip: bool = False, geoip_db: Path | None = None
    ) -> None:
        self.salts = DailySalts(data_dir / "salts.json" if data_dir else None)
        self.sessions = Sessionizer()
        self.visits = VisitStamper()
        self.store_ip = store_ip
        self.geo = GeoIP(geoip_db) if geoip_db else None
        # (day number, its salt, whether that day was already past retention)
        self._last_salt: tuple[int, bytes, bool] = (-1, b"", False)

    def enrich(self, event: Event, *, ip: str | None, user_agent: str | None) -> Event:
        """Fill the derived fields of `event` in place and return it."""
        if event.url is not None:
            parts = split_url(event.url)
            event.hostname = event.hostname or parts.hostname
            event.path = event.path or parts.path
            for key, value in parts.utm.items():
                if getattr(event, key) is None:
                    setattr(event, key, value)
        if event.referrer:
            domain = referrer_domain(event.referrer)
            if domain is not None and domain in (event.hostname, "localhost"):
                # Navigation inside the site (or a developer's machine) is not where the
                # visitor came from.
                event.referrer_domain = None
            else:
                event.referrer_domain = event.referrer_domain or domain
        if event.source is None:
            # A tagged link names its source, whatever the referrer says (as in Plausible);
            # a known one by its name (utm_source=google is Google). Else a known referrer
            # by its name, or the referrer's domain.
            if event.utm_source:
                event.source = canonical_source(event.utm_source)
            elif event.referrer_domain:
                named = referrer_source(event.referrer) if event.referrer else None
                event.source = named or event.referrer_domain
        if user_agent and event.browser is None and event.os is None and event.device is None:
            info = parse_user_agent(user_agent)
            event.browser, event.browser_version = info.browser, info.browser_version
            event.os, event.os_version = info.os, info.os_version
            event.device = "bot" if is_bot(user_agent) else info.device
        if event.country is None and self.geo is not None:
            event.country = self.geo.country(ip)
        if event.visitor_id == 0:
            event.visitor_id = self.visitor_of(event, ip=ip, user_agent=user_agent)
        if event.session_id is None:
            event.session_id = self.sessions.session_for(event.app, event.visitor_id, event.ts)
        self.visits.stamp(event)
        if self.store_ip and event.ip is None:
            event.ip = ip
        return event

    def salt_of(self, ts: int) -> bytes:
        """The salt of `ts`'s UTC day. The last day asked for is remembered (~1.5 us of
        date arithmetic per event otherwise), but never past the day DailySalts forgets
        its salt: from then on that day gets a fresh, unlinkable one, cached or not."""
        day = ts // _DAY_US
        cached_day, cached_salt, forgotten = self._last_salt
        if day == cached_day and (forgotten or day >= (now_us() - _SALT_RETENTION_US) // _DAY_US):
            return cached_salt
        date = dt.date.fromordinal(_EPOCH_ORDINAL + day)
        salt = self.salts.salt_for(date)
        forgotten = date < (dt.datetime.now(dt.UTC) - SALT_RETENTION).date()
        self._last_salt = (day, salt, forgotten)
        return salt

    def visitor_of(self, event: Event, *, ip: str | None, user_agent: str | None) -> int:
        if event.user_id is not None:
            return known_visitor_id(event.app, event.user_id)
        salt = self.salt_of(event.ts)
        # Without a client address, a client-supplied session still identifies one visitor.
        anchor = ip or event.session_id or ""
        return anonymous_visitor_id(salt, event.app, anchor, user_agent or "")
