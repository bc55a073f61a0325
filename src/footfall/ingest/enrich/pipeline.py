"""The enrichment every protocol shares: from a bare event to a row worth counting.

Parsers (v1 API, contracts, trackers) fill what their request says; `Enricher`
derives the rest — hostname/path/UTM from the URL, the referrer's domain, the
cookieless visitor id and the visit (session). Fields a client set explicitly
(an import that already knows the browser, say) are left as they are.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from footfall.ingest.enrich.sessionize import Sessionizer, VisitOrigins
from footfall.ingest.enrich.ua import parse_user_agent
from footfall.ingest.enrich.visitor import DailySalts, anonymous_visitor_id, known_visitor_id
from footfall.ingest.urls import referrer_domain, split_url
from footfall.model import Event


class Enricher:
    def __init__(self, data_dir: Path | None, *, store_ip: bool = False) -> None:
        self.salts = DailySalts(data_dir / "salts.json" if data_dir else None)
        self.sessions = Sessionizer()
        self.origins = VisitOrigins()
        self.store_ip = store_ip

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
            if domain is not None and domain == event.hostname:
                # Navigation inside the site is not where the visitor came from.
                event.referrer_domain = None
            else:
                event.referrer_domain = event.referrer_domain or domain
        # A tagged link names its source, whatever the referrer says (as in Plausible).
        event.source = event.source or event.utm_source or event.referrer_domain
        if user_agent and event.browser is None and event.os is None and event.device is None:
            info = parse_user_agent(user_agent)
            event.browser, event.browser_version = info.browser, info.browser_version
            event.os, event.os_version, event.device = info.os, info.os_version, info.device
        if event.visitor_id == 0:
            event.visitor_id = self.visitor_of(event, ip=ip, user_agent=user_agent)
        if event.session_id is None:
            event.session_id = self.sessions.session_for(event.app, event.visitor_id, event.ts)
        self.origins.carry(event)
        if self.store_ip and event.ip is None:
            event.ip = ip
        return event

    def visitor_of(self, event: Event, *, ip: str | None, user_agent: str | None) -> int:
        if event.user_id is not None:
            return known_visitor_id(event.app, event.user_id)
        day = dt.datetime.fromtimestamp(event.ts / 1_000_000, dt.UTC).date()
        salt = self.salts.salt_for(day)
        # Without a client address, a client-supplied session still identifies one visitor.
        anchor = ip or event.session_id or ""
        return anonymous_visitor_id(salt, event.app, anchor, user_agent or "")
