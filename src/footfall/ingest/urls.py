"""Pure helpers that split URLs into the parts the event table stores."""

from __future__ import annotations

from functools import lru_cache
from typing import NamedTuple
from urllib.parse import parse_qs, urlsplit

UTM_KEYS = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content")


class UrlParts(NamedTuple):
    hostname: str | None
    path: str | None
    utm: dict[str, str]


@lru_cache(maxsize=16_384)
def split_url(url: str | None) -> UrlParts:
    """Hostname (lower case, no `www.`), path and UTM parameters of a page URL.

    A bare path ("/pricing") is accepted as well: server-side clients often
    know only the path.
    """
    if not url:
        return UrlParts(None, None, {})
    parts = urlsplit(url)
    hostname = parts.hostname.removeprefix("www.") if parts.hostname else None
    path = parts.path or "/"
    query = parse_qs(parts.query, keep_blank_values=False)
    utm = {key: query[key][0] for key in UTM_KEYS if key in query}
    if "utm_source" not in utm:
        # Plausible also reads ?ref= and ?source= as the source tag.
        for alias in ("source", "ref"):
            if alias in query:
                utm["utm_source"] = query[alias][0]
                break
    return UrlParts(hostname, path, utm)


@lru_cache(maxsize=16_384)
def referrer_domain(referrer: str | None) -> str | None:
    """The host of a referrer URL without `www.`, or None when there is none."""
    if not referrer:
        return None
    host = urlsplit(referrer if "//" in referrer else f"//{referrer}").hostname
    return host.removeprefix("www.") if host else None
