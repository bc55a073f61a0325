"""Referrer spam: sites that send fake visits to get their domain into analytics reports.

The list is Matomo's community-maintained referrer-spam list (public domain),
the one Plausible drops tracker events by, vendored as
`data/referrer-spammers.txt` (refresh: `scripts/refresh_spammers.sh`). A
referrer matches when its host, or any parent domain of it, is listed:
`www.semalt.com` and `x.semalt.com` are spam because `semalt.com` is.
"""

from __future__ import annotations

from functools import cache, lru_cache
from importlib.resources import files

from footfall.ingest.urls import referrer_domain


@cache
def spammers() -> frozenset[str]:
    text = files("footfall.ingest.enrich").joinpath("data/referrer-spammers.txt").read_text()
    return frozenset(line.strip().lower() for line in text.splitlines() if line.strip())


@lru_cache(maxsize=4096)
def is_spam_domain(host: str) -> bool:
    listed = spammers()
    labels = host.lower().rstrip(".").split(".")
    # The host itself and each parent with at least two labels (never a bare TLD).
    return any(".".join(labels[i:]) in listed for i in range(len(labels) - 1))


def is_spam_referrer(referrer: str | None) -> bool:
    """Whether a referrer URL (or bare host) comes from a listed spam domain."""
    host = referrer_domain(referrer)
    return host is not None and is_spam_domain(host)
