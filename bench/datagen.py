"""A deterministic, realistic analytics data set, as NDJSON bodies for `POST /api/v1/events`.

Shape (all drawn from one seeded numpy generator, so the same seed, size and
`now` give byte-identical output):

- 8 apps of skewed size (the largest, `shop.example`, holds ~30 % of events);
- 90 days ending at `now` (the newest event is at least an hour old), more
  traffic on weekdays and in the European/American afternoon, growing ~50 %
  over the period;
- visits of 1–10 events (~45 % bounce), events a few seconds to 5 minutes
  apart, with an explicit `session_id`; visitors return (a skewed pool per app)
  and ~12 % of them send a `user_id`;
- Zipf-distributed pages per app; referrers from Google, Bing, DuckDuckGo,
  Hacker News, Reddit, Twitter or none (direct); UTM tags on ~12 % of visits
  (on the landing URL, then carried as fields like an import would);
- browser, OS, device and country as explicit fields (the import shape:
  footfall has no UA parser or GeoIP to derive them), an `ip` per visitor;
- ~15 % of the non-landing events are custom events (signup, purchase,
  download, outbound_click, video_play), each with props.

Events are sorted by time, as live traffic arrives, and packed into NDJSON
bodies of at most `batch_size` events and `max_body_bytes` bytes.

`python -m bench.datagen --events 1000 > events.ndjson` writes the events out.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

DEFAULT_SEED = 20261123
DAYS = 90
MAX_EVENTS_PER_BODY = 10_000
MAX_BODY_BYTES = 5 * 1024 * 1024

# (app, share of visits)
APPS: tuple[tuple[str, float], ...] = (
    ("shop.example", 0.30),
    ("blog.example", 0.20),
    ("docs.example", 0.15),
    ("app.example", 0.12),
    ("news.example", 0.09),
    ("status.example", 0.06),
    ("careers.example", 0.05),
    ("labs.example", 0.03),
)
MAIN_APP = APPS[0][0]

# (referrer URL or None for direct, share of visits)
REFERRERS: tuple[tuple[str | None, float], ...] = (
    (None, 0.40),
    ("https://www.google.com/", 0.30),
    ("https://www.bing.com/", 0.06),
    ("https://duckduckgo.com/", 0.05),
    ("https://news.ycombinator.com/", 0.06),
    ("https://www.reddit.com/r/programming/", 0.07),
    ("https://t.co/", 0.06),
)
UTM_SHARE = 0.12
# (utm_source, utm_medium, utm_campaign, share among tagged visits)
CAMPAIGNS: tuple[tuple[str, str, str, float], ...] = (
    ("newsletter", "email", "november-launch", 0.35),
    ("twitter", "social", "launch-week", 0.25),
    ("google", "cpc", "brand", 0.25),
    ("facebook", "paid_social", "retargeting", 0.15),
)
# (browser, os, device, share of visitors)
CLIENTS: tuple[tuple[str, str, str, float], ...] = (
    ("Chrome", "Windows", "desktop", 0.28),
    ("Safari", "iOS", "mobile", 0.18),
    ("Chrome", "Android", "mobile", 0.17),
    ("Chrome", "Mac", "desktop", 0.10),
    ("Safari", "Mac", "desktop", 0.08),
    ("Firefox", "Windows", "desktop", 0.05),
    ("Edge", "Windows", "desktop", 0.05),
    ("Firefox", "Linux", "desktop", 0.03),
    ("Safari", "iOS", "tablet", 0.03),
    ("Samsung Internet", "Android", "mobile", 0.03),
)
COUNTRIES: tuple[tuple[str, float], ...] = (
    ("US", 0.30), ("DE", 0.08), ("GB", 0.07), ("IN", 0.07), ("FR", 0.05),
    ("CA", 0.04), ("BR", 0.04), ("NL", 0.03), ("JP", 0.03), ("ES", 0.03),
    ("IT", 0.03), ("AU", 0.03), ("PL", 0.02), ("SE", 0.02), ("CH", 0.02),
    ("MX", 0.02), ("KR", 0.02), ("TR", 0.02), ("ID", 0.02), ("ZA", 0.02),
    ("AR", 0.01), ("NG", 0.01), ("NO", 0.01), ("FI", 0.01),
)  # fmt: skip
# Events per visit: 1..10.
VISIT_LENGTHS = (0.45, 0.17, 0.11, 0.08, 0.06, 0.04, 0.03, 0.025, 0.02, 0.015)
CUSTOM_SHARE = 0.15
# (name, share among custom events, prop key, prop values)
CUSTOM_EVENTS: tuple[tuple[str, float, str, tuple[str, ...]], ...] = (
    ("signup", 0.25, "plan", ("free", "pro", "team")),
    ("purchase", 0.10, "plan", ("pro", "team", "enterprise")),
    ("download", 0.25, "file", tuple(f"report-{i}.pdf" for i in range(8))),
    ("outbound_click", 0.25, "url", ("github.com", "twitter.com", "youtube.com", "x.com")),
    ("video_play", 0.15, "video", ("intro", "demo", "webinar")),
)
USER_ID_SHARE = 0.12
PAGES_PER_APP = 400
ZIPF_EXPONENT = 1.1
# Relative traffic per UTC hour: quiet night in Europe, peak in the afternoon.
HOURLY = (
    0.35, 0.30, 0.25, 0.22, 0.22, 0.28, 0.40, 0.60, 0.80, 0.95, 1.00, 1.05,
    1.10, 1.20, 1.30, 1.35, 1.30, 1.20, 1.05, 0.95, 0.85, 0.70, 0.55, 0.45,
)  # fmt: skip


@dataclass
class Dataset:
    """The generated events as ready-to-send NDJSON bodies, and what is in them."""

    bodies: list[bytes]
    events: int
    visits: int
    visitors: int
    per_app: dict[str, int]
    custom_events: int
    first_ts: str
    last_ts: str
    seconds: float
    seed: int
    now: dt.datetime
    body_events: list[int] = field(default_factory=list)

    @property
    def total_bytes(self) -> int:
        return sum(len(body) for body in self.bodies)


FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


def _probabilities(weights: Sequence[float] | FloatArray) -> FloatArray:
    array = np.asarray(weights, dtype=np.float64)
    result: FloatArray = array / array.sum()
    return result


def _page_catalog(rng: np.random.Generator) -> list[str]:
    """PAGES_PER_APP paths in popularity order (rank 1 first)."""
    head = ["/", "/pricing", "/features", "/blog", "/docs", "/about", "/signup", "/login"]
    families = (
        [f"/blog/post-{i}" for i in range(200)]
        + [f"/docs/guide/{i}" for i in range(120)]
        + [f"/products/item-{i}" for i in range(100)]
        + ["/contact", "/careers", "/security", "/changelog", "/status", "/legal/privacy"]
    )
    order = rng.permutation(len(families))
    pages = head + [families[i] for i in order]
    return pages[:PAGES_PER_APP]


def _zipf_ranks(rng: np.random.Generator, count: int, size: int) -> IntArray:
    ranks = np.arange(1, size + 1, dtype=np.float64)
    chosen: IntArray = rng.choice(size, size=count, p=_probabilities(ranks**-ZIPF_EXPONENT))
    return chosen


@dataclass
class Simulation:
    """The data set as numpy arrays (one entry per visit, visitor or event), before any
    text is made of it: `generate` turns it into NDJSON, bench/direct_load.py into an
    Arrow table. Event arrays are in generation order; `order` sorts them by time."""

    events: int
    now: dt.datetime
    n_visits: int
    n_visitors: int
    lengths: IntArray
    visit_app: IntArray
    visit_visitor: IntArray
    visitor_client: IntArray
    visitor_country: IntArray
    visitor_has_user: npt.NDArray[np.bool_]
    visit_referrer: IntArray
    visit_campaign: IntArray
    ts_us: IntArray
    visit_of: IntArray
    position: IntArray
    is_custom: npt.NDArray[np.bool_]
    custom_kind: IntArray
    prop_pick: IntArray
    page_rank: IntArray
    is_last: npt.NDArray[np.bool_]
    next_gap: FloatArray
    order: IntArray
    catalogs: list[list[str]]


def simulate(
    events: int, *, seed: int = DEFAULT_SEED, now: dt.datetime | None = None
) -> Simulation:
    """Draw `events` events ending at `now` (default: the current minute, UTC)."""
    if events < 1:
        raise ValueError("events must be at least 1")
    if now is None:
        now = dt.datetime.now(dt.UTC).replace(second=0, microsecond=0)
    now = now.astimezone(dt.UTC)
    rng = np.random.default_rng(seed)
    # --- visits --------------------------------------------------------------------
    lengths_p = _probabilities(VISIT_LENGTHS)
    mean_length = float((np.arange(1, 11) * lengths_p).sum())
    n_visits = int(events / mean_length * 1.1) + 16
    lengths = rng.choice(np.arange(1, 11), size=n_visits, p=lengths_p)
    ends = np.cumsum(lengths)
    n_visits = int(np.searchsorted(ends, events)) + 1
    lengths = lengths[:n_visits]
    lengths[-1] -= int(ends[n_visits - 1]) - events  # trim the last visit to hit `events`

    visit_app = rng.choice(len(APPS), size=n_visits, p=_probabilities([w for _, w in APPS]))

    # Visitors: a pool per app about half the app's visits; low indices return often.
    app_visits = np.bincount(visit_app, minlength=len(APPS))
    pool = np.maximum(app_visits // 2, 1)
    pool_offset = np.concatenate(([0], np.cumsum(pool)[:-1]))
    local = np.floor(pool[visit_app] * rng.random(n_visits) ** 2).astype(np.int64)
    visit_visitor = pool_offset[visit_app] + local
    n_visitors = int(pool.sum())
    visitor_client = rng.choice(
        len(CLIENTS), size=n_visitors, p=_probabilities([c[3] for c in CLIENTS])
    )
    visitor_country = rng.choice(
        len(COUNTRIES), size=n_visitors, p=_probabilities([c[1] for c in COUNTRIES])
    )
    visitor_has_user = rng.random(n_visitors) < USER_ID_SHARE

    visit_referrer = rng.choice(
        len(REFERRERS), size=n_visits, p=_probabilities([r[1] for r in REFERRERS])
    )
    visit_campaign = np.where(
        rng.random(n_visits) < UTM_SHARE,
        rng.choice(len(CAMPAIGNS), size=n_visits, p=_probabilities([c[3] for c in CAMPAIGNS])),
        -1,
    )

    # Visit start: a day (weekday/trend weighted) and a second of that day (hourly weighted).
    end_us = int(now.timestamp() * 1_000_000) - 3_600_000_000
    first_day = (now - dt.timedelta(days=DAYS - 1)).replace(
        hour=0, minute=0, second=0, microsecond=0
    )
    first_day_us = int(first_day.timestamp() * 1_000_000)
    day_weights = [
        (1.0 + 0.5 * d / DAYS) * (0.7 if (first_day + dt.timedelta(days=d)).weekday() >= 5 else 1.0)
        for d in range(DAYS)
    ]
    day = rng.choice(DAYS, size=n_visits, p=_probabilities(day_weights))
    hour = rng.choice(24, size=n_visits, p=_probabilities(HOURLY))
    second = hour * 3600 + rng.integers(0, 3600, size=n_visits)
    start_us = first_day_us + (day * 86_400 + second) * 1_000_000
    start_us += rng.integers(0, 1_000_000, size=n_visits)
    start_us = np.where(start_us > end_us, start_us - 86_400_000_000, start_us)

    # --- events --------------------------------------------------------------------
    visit_of = np.repeat(np.arange(n_visits), lengths)
    visit_first = np.concatenate(([0], np.cumsum(lengths)[:-1]))
    position = np.arange(events) - visit_first[visit_of]
    gaps_s = np.clip(rng.exponential(90.0, size=events), 5.0, 300.0)
    gaps_s[position == 0] = 0.0
    # Offset of each event from its visit start: cumulative gaps within the visit.
    cum = np.cumsum(gaps_s)
    offset_s = cum - cum[visit_first[visit_of]]
    ts_us = start_us[visit_of] + (offset_s * 1_000_000).astype(np.int64)
    is_last = np.append(visit_of[1:] != visit_of[:-1], True)
    next_gap = np.append(gaps_s[1:], 0.0)

    is_custom = (position > 0) & (rng.random(events) < CUSTOM_SHARE)
    custom_kind = rng.choice(
        len(CUSTOM_EVENTS), size=events, p=_probabilities([c[1] for c in CUSTOM_EVENTS])
    )
    prop_pick = rng.integers(0, 1 << 30, size=events)
    page_rank = _zipf_ranks(rng, events, PAGES_PER_APP)

    order = np.argsort(ts_us, kind="stable")
    catalogs = [_page_catalog(rng) for _ in APPS]

    return Simulation(
        events=events, now=now, n_visits=n_visits, n_visitors=n_visitors, lengths=lengths,
        visit_app=visit_app, visit_visitor=visit_visitor, visitor_client=visitor_client,
        visitor_country=visitor_country, visitor_has_user=visitor_has_user,
        visit_referrer=visit_referrer, visit_campaign=visit_campaign, ts_us=ts_us,
        visit_of=visit_of, position=position, is_custom=is_custom, custom_kind=custom_kind,
        prop_pick=prop_pick, page_rank=page_rank, is_last=is_last, next_gap=next_gap,
        order=order, catalogs=catalogs,
    )  # fmt: skip


def generate(
    events: int,
    *,
    seed: int = DEFAULT_SEED,
    now: dt.datetime | None = None,
    batch_size: int = MAX_EVENTS_PER_BODY,
    max_body_bytes: int = MAX_BODY_BYTES,
) -> Dataset:
    """Generate `events` events ending at `now` (default: the current minute, UTC)."""
    started = time.perf_counter()
    sim = simulate(events, seed=seed, now=now)
    now = sim.now
    n_visits, visit_app, visit_visitor = sim.n_visits, sim.visit_app, sim.visit_visitor
    visitor_client, visitor_country = sim.visitor_client, sim.visitor_country
    visitor_has_user, visit_referrer = sim.visitor_has_user, sim.visit_referrer
    visit_campaign, ts_us, visit_of, position = (
        sim.visit_campaign,
        sim.ts_us,
        sim.visit_of,
        sim.position,
    )
    is_custom, custom_kind, prop_pick = sim.is_custom, sim.custom_kind, sim.prop_pick
    page_rank, is_last, next_gap, order, catalogs = (
        sim.page_rank,
        sim.is_last,
        sim.next_gap,
        sim.order,
        sim.catalogs,
    )

    ts_text = np.datetime_as_string(
        ts_us.astype("datetime64[us]").astype("datetime64[ms]"), unit="ms"
    )

    # Every value comes from the fixed tables above or is a number, so JSON lines are
    # built as text (no escaping needed): ~4x faster than dicts through orjson.
    # The visit's own fields are formatted once per visit, then shared by its events.
    visit_tail: list[str] = []  # fields of the visit's landing event
    visit_tail_utm: list[str] = []  # the same plus explicit UTM fields, for later events
    landing_query: list[str] = []
    for visit, (visitor, ref, campaign) in enumerate(
        zip(visit_visitor.tolist(), visit_referrer.tolist(), visit_campaign.tolist(), strict=True)
    ):
        browser, os_name, device, _ = CLIENTS[int(visitor_client[visitor])]
        referrer = REFERRERS[ref][0]
        tail = (
            f'"referrer":"{referrer}",' if referrer is not None else ""
        ) + f'"session_id":"s{visit:x}",'
        if visitor_has_user[visitor]:
            tail += f'"user_id":"user-{visitor}",'
        tail += (
            f'"ip":"10.{(visitor >> 16) & 255}.{(visitor >> 8) & 255}.{visitor & 255}",'
            f'"browser":"{browser}","os":"{os_name}","device":"{device}",'
            f'"country":"{COUNTRIES[int(visitor_country[visitor])][0]}"}}'
        )
        visit_tail.append(tail)
        if campaign >= 0:
            source, medium, name, _ = CAMPAIGNS[campaign]
            landing_query.append(f"?utm_source={source}&utm_medium={medium}&utm_campaign={name}")
            visit_tail_utm.append(
                f'"utm_source":"{source}","utm_medium":"{medium}","utm_campaign":"{name}",' + tail
            )
        else:
            landing_query.append("")
            visit_tail_utm.append(tail)

    custom_parts = [
        [f'"name":"{name}","props":{{"{key}":"{value}"}},' for value in values]
        for name, _, key, values in CUSTOM_EVENTS
    ]
    v_app = visit_app.tolist()
    # Python lists: indexing them in the loop below is far cheaper than numpy scalars.
    e_visit = visit_of.tolist()
    e_pos = position.tolist()
    e_custom = is_custom.tolist()
    e_kind = custom_kind.tolist()
    e_pick = prop_pick.tolist()
    e_rank = page_rank.tolist()
    e_last = is_last.tolist()
    e_gap = np.round(next_gap, 1).tolist()
    e_ts = ts_text.tolist()

    lines: list[str] = []
    per_app: Counter[str] = Counter()
    for i in order.tolist():
        visit = e_visit[i]
        app_index = v_app[visit]
        app = APPS[app_index][0]
        if e_custom[i]:
            parts = custom_parts[e_kind[i]]
            name_part = parts[e_pick[i] % len(parts)]
        elif e_last[i]:
            name_part = '"name":"pageview",'
        else:
            name_part = f'"name":"pageview","duration":{e_gap[i]},'
        if e_pos[i] == 0:
            url = f"https://{app}{catalogs[app_index][e_rank[i]]}{landing_query[visit]}"
            tail = visit_tail[visit]
        else:
            url = f"https://{app}{catalogs[app_index][e_rank[i]]}"
            tail = visit_tail_utm[visit]
        lines.append(f'{{"app":"{app}","ts":"{e_ts[i]}Z",{name_part}"url":"{url}",{tail}')
        per_app[app] += 1

    bodies, body_events = pack_ndjson(lines, batch_size=batch_size, max_body_bytes=max_body_bytes)
    first, last = int(ts_us.min()), int(ts_us.max())
    return Dataset(
        bodies=bodies,
        events=events,
        visits=n_visits,
        visitors=int(np.unique(visit_visitor).size),
        per_app=dict(sorted(per_app.items(), key=lambda kv: -kv[1])),
        custom_events=int(is_custom.sum()),
        first_ts=_iso(first),
        last_ts=_iso(last),
        seconds=time.perf_counter() - started,
        seed=seed,
        now=now,
        body_events=body_events,
    )


def pack_ndjson(
    lines: list[str], *, batch_size: int, max_body_bytes: int
) -> tuple[list[bytes], list[int]]:
    """Join ASCII JSON lines into NDJSON bodies within both limits; return bodies and counts."""
    bodies: list[bytes] = []
    counts: list[int] = []
    current: list[str] = []
    size = 0
    for line in lines:
        if current and (len(current) >= batch_size or size + len(line) + 1 > max_body_bytes):
            bodies.append(("\n".join(current) + "\n").encode("ascii"))
            counts.append(len(current))
            current, size = [], 0
        current.append(line)
        size += len(line) + 1
    if current:
        bodies.append(("\n".join(current) + "\n").encode("ascii"))
        counts.append(len(current))
    return bodies, counts


def _iso(us: int) -> str:
    return dt.datetime.fromtimestamp(us / 1_000_000, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--now", help="ISO timestamp the data ends at (default: now)")
    args = parser.parse_args(argv)
    now = dt.datetime.fromisoformat(args.now) if args.now else None
    if now is not None and now.tzinfo is None:
        now = now.replace(tzinfo=dt.UTC)
    data = generate(args.events, seed=args.seed, now=now)
    out = sys.stdout.buffer
    for body in data.bodies:
        out.write(body)
    print(
        f"{data.events} events, {data.visits} visits, {data.visitors} visitors, "
        f"{data.total_bytes / 1e6:.1f} MB in {data.seconds:.1f} s",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
