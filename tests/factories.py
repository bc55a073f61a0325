"""A small, deterministic event data set, and the answers a query should give on it.

`generate()` builds visits from a seeded RNG: each event knows the JSON that
`POST /api/v1/events` receives *and* the values footfall must derive from it
(path and hostname from the URL, referrer domain, source, UTM, visitor). The
`expected()` reference computes every metric in plain Python from those
values, never from SQL, so tests compare two independent computations.
"""

from __future__ import annotations

import datetime as dt
import random
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

UTC = dt.UTC
START = dt.datetime(2024, 2, 26, 6, 0, tzinfo=UTC)  # a Monday, days before a leap day

HOSTS = ("example.com", "www.example.com", "shop.example.com")
PATHS = ("/", "/pricing", "/blog/Hello-World", "/blog/second", "/docs/Intro", "/docs/api")
REFERRERS: tuple[tuple[str, str] | None, ...] = (
    None,
    None,
    ("https://www.google.com/search?q=footfall", "google.com"),
    ("https://news.ycombinator.com/item?id=1", "news.ycombinator.com"),
    ("https://t.co/xyz", "t.co"),
)
UTMS: tuple[dict[str, str], ...] = (
    {},
    {},
    {"utm_source": "newsletter", "utm_medium": "email", "utm_campaign": "spring"},
    {
        "utm_source": "twitter",
        "utm_medium": "social",
        "utm_campaign": "launch",
        "utm_term": "analytics",
        "utm_content": "banner",
    },
)
CLIENTS: tuple[tuple[str | None, str | None, str | None, str | None, str], ...] = (
    # browser, browser_version, os, os_version, device
    ("Chrome", "122", "Windows", "10", "desktop"),
    ("Chrome", "121", "Mac OS X", "14", "desktop"),
    ("Firefox", "123", "Ubuntu", None, "desktop"),
    ("Mobile Safari", "17", "iOS", "17.3", "mobile"),
    (None, None, None, None, "tablet"),  # nothing known but the device
)
COUNTRIES = ("DE", "US", "FR", None)
USERS = tuple(f"user-{i}" for i in range(8))
IPS = ("198.51.100.7", "203.0.113.9")
AGENTS = ("agent-a/1.0", "agent-b/2.0")
PLANS = ("free", "pro", "Pro Plus")
UTM_KEYS = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content")
# Sources the referrer data set names (footfall.ingest.enrich.referrer), written out here
# so the expected values do not come from the code under test.
NAMED_REFERRERS = {"google.com": "Google", "news.ycombinator.com": "Hacker News", "t.co": "Twitter"}
NAMED_TAGS = {"twitter": "Twitter"}


@dataclass(frozen=True)
class GenEvent:
    """One generated event: what is sent, and what footfall must make of it."""

    app: str
    seq: int  # order of generation = order of ingest
    name: str
    ts: dt.datetime  # aware, UTC
    session_id: str
    user_id: str | None
    ip: str | None
    user_agent: str | None
    hostname: str  # as stored: lower case, without www.
    url_host: str  # as sent
    path: str
    referrer: str | None
    # The event's own origin: its external referrer's domain (None for navigation inside
    # the site) and its URL's UTM. What footfall stores, and `visit:` dimensions read, is
    # its visit's: the origin of the visit's first received event (Reference).
    referrer_domain: str | None
    utm: dict[str, str]
    browser: str | None
    browser_version: str | None
    os: str | None
    os_version: str | None
    device: str
    country: str | None
    duration: float | None
    interactive: bool
    props: dict[str, Any] = field(default_factory=dict)

    @property
    def url(self) -> str:
        query = f"?{urlencode(self.utm)}" if self.utm else ""
        return f"https://{self.url_host}{self.path}{query}"

    @property
    def source(self) -> str | None:
        """The enrichment's rule: UTM source (a known one by its name), else the external
        referrer's name when it is a known one, else its domain."""
        tag = self.utm.get("utm_source")
        if tag:
            return NAMED_TAGS.get(tag.lower(), tag)
        if self.referrer_domain is None:
            return None
        return NAMED_REFERRERS.get(self.referrer_domain, self.referrer_domain)

    @property
    def visitor(self) -> tuple[str, ...]:
        """What makes a visitor: the user id, else the client address and agent of the day."""
        if self.user_id is not None:
            return ("user", self.user_id)
        assert self.ip is not None and self.user_agent is not None
        return ("anonymous", self.ts.date().isoformat(), self.ip, self.user_agent)

    def payload(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "app": self.app,
            "name": self.name,
            "ts": self.ts.isoformat().replace("+00:00", "Z"),
            "url": self.url,
            "session_id": self.session_id,
            "device": self.device,
            "interactive": self.interactive,
        }
        optional = {
            "user_id": self.user_id,
            "ip": self.ip,
            "user_agent": self.user_agent,
            "referrer": self.referrer,
            "browser": self.browser,
            "browser_version": self.browser_version,
            "os": self.os,
            "os_version": self.os_version,
            "country": self.country,
            "duration": self.duration,
            "props": self.props or None,
        }
        body.update({key: value for key, value in optional.items() if value is not None})
        return body


def generate(
    seed: int = 7,
    *,
    app: str = "site",
    visits: int = 60,
    start: dt.datetime = START,
    days: int = 12,
) -> list[GenEvent]:
    """`visits` visits spread over `days` days from `start`; session ids `s0`, `s1`, …

    Every app gets the same session ids and user ids, so a query that leaked
    across apps would be caught. Some later events of a visit arrive from an external
    referrer or a tagged URL of their own, or from another client (drawn from a second
    RNG, so the rest of the data set is the same with or without them): `visit:`
    dimensions must still read the visit's first event, `event:` ones their own.
    """
    rng = random.Random(f"{seed}:{app}")
    twist = random.Random(f"{seed}:{app}:twist")
    events: list[GenEvent] = []
    for visit in range(visits):
        anonymous = rng.random() < 0.3
        user_id = None if anonymous else rng.choice(USERS)
        ip = rng.choice(IPS) if anonymous else None
        agent = rng.choice(AGENTS) if anonymous else None
        browser, browser_version, os_name, os_version, device = rng.choice(CLIENTS)
        country = rng.choice(COUNTRIES)
        url_host = rng.choice(HOSTS)
        hostname = url_host.removeprefix("www.")
        landing_ref = rng.choice(REFERRERS)
        utm = rng.choice(UTMS)
        # Whole seconds and a few exact halves: every duration is exact in binary.
        ts = start + dt.timedelta(seconds=rng.randrange(days * 86_400))
        count = rng.choice((1, 1, 1, 2, 2, 3, 4, 6))
        for position in range(count):
            if position:
                ts += dt.timedelta(seconds=rng.choice((5, 30, 45, 90, 240, 600, 1200)))
            if position == 0:
                name, interactive = "pageview", True
            else:
                name = rng.choice(("pageview", "pageview", "pageview", "signup", "heartbeat"))
                interactive = name != "heartbeat"
            own_utm = utm if position == 0 else {}
            client = (browser, browser_version, os_name, os_version, device, country)
            if position == 0:
                referrer, ref_domain = landing_ref or (None, None)
            elif twist.random() < 0.1:
                # Back from another site mid-visit: the visit's origin stays its landing's.
                referrer, ref_domain = twist.choice([r for r in REFERRERS if r is not None])
            else:
                # Navigation inside the site: a referrer that is not a source.
                referrer, ref_domain = f"https://{url_host}/", None
            if position and twist.random() < 0.1:
                own_utm = twist.choice([u for u in UTMS if u])
            if position and twist.random() < 0.15:
                client = (*twist.choice(CLIENTS), twist.choice(COUNTRIES))
            props: dict[str, Any] = {}
            if rng.random() < 0.5:
                props["plan"] = rng.choice(PLANS)
            if name == "signup":
                props["step"] = rng.choice((1, 2))
            events.append(
                GenEvent(
                    app=app,
                    seq=len(events),
                    name=name,
                    ts=ts,
                    session_id=f"s{visit}",
                    user_id=user_id,
                    ip=ip,
                    user_agent=agent,
                    hostname=hostname,
                    url_host=url_host,
                    path=rng.choice(PATHS),
                    referrer=referrer,
                    referrer_domain=ref_domain,
                    utm=own_utm,
                    browser=client[0],
                    browser_version=client[1],
                    os=client[2],
                    os_version=client[3],
                    device=client[4],
                    country=client[5],
                    duration=rng.choice((None, None, 1.5, 2.0, 4.25, 10.0)),
                    interactive=interactive,
                    props=props,
                )
            )
    return events


# -- the reference implementation ---------------------------------------------------


def _utm(key: str) -> Callable[[GenEvent], str | None]:
    return lambda event: event.utm.get(key)


# What a `visit:` dimension reads: the value of the visit's first event footfall received
# (ingest stamps it on every event of the visit), whatever the date range.
VISIT_ATTRIBUTES: dict[str, Callable[[GenEvent], str | None]] = {
    "visit:referrer_domain": lambda e: e.referrer_domain,
    "visit:source": lambda e: e.source,
    **{f"visit:{key}": _utm(key) for key in UTM_KEYS},
    "visit:browser": lambda e: e.browser,
    "visit:browser_version": lambda e: e.browser_version,
    "visit:os": lambda e: e.os,
    "visit:os_version": lambda e: e.os_version,
    "visit:device": lambda e: e.device,
    "visit:country": lambda e: e.country,
    "visit:os_family": lambda e: os_family(e.os),
}


# Contract 002's operating-system classes, for the OS values the generator uses.
OS_FAMILIES = {"Windows": "Windows", "Mac OS X": "MacOS", "Ubuntu": "Linux", "iOS": "iOS"}


def os_family(os_name: str | None) -> str:
    return OS_FAMILIES.get(os_name or "", "Other")


def _iso_z(value: dt.datetime) -> str:
    return value.replace(tzinfo=None).isoformat() + "Z"


def time_bucket(unit: str, ts: dt.datetime) -> str:
    """Start of the UTC minute/hour (ISO with Z) or day/week/month (a date; weeks on Monday)."""
    if unit == "minute":
        return _iso_z(ts.replace(second=0, microsecond=0))
    if unit == "hour":
        return _iso_z(ts.replace(minute=0, second=0, microsecond=0))
    day = ts.date()
    if unit == "day":
        return day.isoformat()
    if unit == "week":
        return (day - dt.timedelta(days=day.weekday())).isoformat()
    if unit == "month":
        return day.replace(day=1).isoformat()
    raise ValueError(unit)


def _prop_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class Reference:
    """Answers queries on a list of generated events, the slow and obvious way.

    `events` are in the order footfall received them (each list of `generate` is sent
    in its `seq` order), which decides each visit's attributes: its first event's.
    """

    def __init__(self, events: Sequence[GenEvent]) -> None:
        self.events = list(events)
        self.first_received: dict[tuple[str, str], GenEvent] = {}
        for event in self.events:
            self.first_received.setdefault((event.app, event.session_id), event)

    def in_range(
        self, app: str, start: dt.datetime | None = None, end: dt.datetime | None = None
    ) -> list[GenEvent]:
        return [
            e
            for e in self.events
            if e.app == app and (start is None or e.ts >= start) and (end is None or e.ts < end)
        ]

    @staticmethod
    def entries(events: Iterable[GenEvent]) -> dict[str, GenEvent]:
        first: dict[str, GenEvent] = {}
        for event in sorted(events, key=lambda e: (e.ts, e.seq)):
            first.setdefault(event.session_id, event)
        return first

    @staticmethod
    def exits(events: Iterable[GenEvent]) -> dict[str, GenEvent]:
        return {e.session_id: e for e in sorted(events, key=lambda e: (e.ts, e.seq))}

    def value(
        self,
        dimension: str,
        event: GenEvent,
        entries: dict[str, GenEvent],
        exits: dict[str, GenEvent] | None = None,
    ) -> Any:
        """`dimension`'s value for `event`. Entry and exit pages are the visit's first and
        last event's within the date range (`entries`, `exits`); other visit attributes
        its first received event's, even when that lies outside the range."""
        if dimension == "visit:entry_page":
            return entries[event.session_id].path
        if dimension == "visit:exit_page":
            assert exits is not None, "visit:exit_page needs the visits' last events"
            return exits[event.session_id].path
        if dimension.startswith("time:"):
            return time_bucket(dimension.removeprefix("time:"), event.ts)
        if dimension.startswith("event:props:"):
            return _prop_text(event.props.get(dimension.removeprefix("event:props:")))
        if dimension in VISIT_ATTRIBUTES:
            return VISIT_ATTRIBUTES[dimension](self.first_received[event.app, event.session_id])
        return {
            "event:name": event.name,
            "event:page": event.path,
            "event:hostname": event.hostname,
            "user_id": event.user_id,
            "event:browser": event.browser,
            "event:browser_version": event.browser_version,
            "event:os": event.os,
            "event:os_version": event.os_version,
            "event:os_family": os_family(event.os),
            "event:device": event.device,
        }[dimension]

    @staticmethod
    def passes(flt: Sequence[Any], value: str | None) -> bool:
        op: str = flt[0]
        values = flt[2]
        case_sensitive = bool(flt[3].get("case_sensitive", True)) if len(flt) == 4 else True
        values = [str(v) for v in (values if isinstance(values, list) else [values])]
        if value is None:
            return op.endswith("_not")
        subject = value if case_sensitive else value.lower()
        wanted = values if case_sensitive else [v.lower() for v in values]
        if op.startswith("is"):
            hit = subject in wanted
        elif op.startswith("contains"):
            hit = any(v in subject for v in wanted)
        else:
            flags = 0 if case_sensitive else re.IGNORECASE
            hit = any(re.search(v, value, flags) for v in values)
        return not hit if op.endswith("_not") else hit

    def query(
        self,
        *,
        app: str,
        metrics: Sequence[str],
        dimensions: Sequence[str] = (),
        filters: Sequence[Sequence[Any]] = (),
        start: dt.datetime | None = None,
        end: dt.datetime | None = None,
    ) -> dict[tuple[Any, ...], list[Any]]:
        """{dimension values: metric values} for every group with at least one event."""
        ranged = self.in_range(app, start, end)
        entries, exits = self.entries(ranged), self.exits(ranged)
        visits: dict[str, list[GenEvent]] = defaultdict(list)
        for event in ranged:
            visits[event.session_id].append(event)
        groups: dict[tuple[Any, ...], list[GenEvent]] = defaultdict(list)
        for event in ranged:
            if all(self.passes(f, self.value(f[1], event, entries, exits)) for f in filters):
                key = tuple(self.value(d, event, entries, exits) for d in dimensions)
                groups[key].append(event)
        if not dimensions and not groups:
            groups[()] = []
        return {
            key: [metric_value(m, members, visits) for m in metrics]
            for key, members in groups.items()
        }


def _mean(values: list[float]) -> float | None:
    return round(sum(values) / len(values), 2) if values else None


def metric_value(name: str, members: list[GenEvent], visits: dict[str, list[GenEvent]]) -> Any:
    """One metric over a group's events; visit metrics use each touched visit whole."""
    touched = [visits[s] for s in sorted({e.session_id for e in members})]
    if name == "events":
        return len(members)
    if name == "pageviews":
        return sum(e.name == "pageview" for e in members)
    if name == "visitors":
        return len({e.visitor for e in members})
    if name == "visits":
        return len(touched)
    if name == "avg_duration":
        return _mean([e.duration for e in members if e.duration is not None])
    if name == "bounce_rate":
        bounces = [100.0 if sum(e.interactive for e in v) <= 1 else 0.0 for v in touched]
        return _mean(bounces)
    if name == "visit_duration":
        seconds = [(max(e.ts for e in v) - min(e.ts for e in v)).total_seconds() for v in touched]
        return _mean(seconds)
    if name == "views_per_visit":
        return _mean([float(sum(e.name == "pageview" for e in v)) for v in touched])
    raise ValueError(name)
