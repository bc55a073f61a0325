"""Referrer → a named source (Google, Facebook, Hacker News, …), from a vendored data set.

The data (`data/referrers.json`) is Matomo's public-domain search-engine and
social lists, converted by `scripts/refresh_referrers.py`. Hosts are matched as
Matomo does: `{}` in a host pattern stands for one label (`{}.bing.com`) or a
top-level domain, combined ones like `co.uk` included (`google.{}`), and a
pattern may carry a path prefix (`bing.com/images/search` is Bing Images).

Search engines are strict, because their lists also name sites that merely
embed an engine (`www.cnn.com` searches "by Google"): a configuration matches
when the referrer carries a keyword parameter or one of its "hidden keyword"
paths, or, for the engine's own (primary) hosts, when the referrer is bare —
today's browsers send only the origin (`https://www.google.com/`) to other
sites. Social networks and the rest match by host, subdomains included
(`old.reddit.com` is Reddit).

Own-site referrers are not sources; the pipeline drops them before asking.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib.resources import files
from typing import Any
from urllib.parse import parse_qs, urlsplit

# Second-level labels that Matomo's `{}` also swallows as part of a top-level domain.
_COMBINED_TLD_LABELS = frozenset({"com", "org", "net", "co", "it", "edu"})


@dataclass(frozen=True, slots=True)
class Rule:
    name: str
    path: str  # path prefix, lower case; "" for any path
    search: bool
    primary: bool = False
    params: tuple[str, ...] = ()
    path_params: tuple[re.Pattern[str], ...] = ()  # keyword in the path, e.g. /s/<kw>
    hidden_paths: frozenset[str] = frozenset()
    hidden_patterns: tuple[re.Pattern[str], ...] = ()

    def matches(self, path: str, query: str, exact_host: bool) -> bool:
        if self.path and not path.lower().startswith(self.path):
            return False
        if not self.search:
            return True
        if not exact_host:
            return False  # mail.google.com is not Google search
        if query and any(key in self.params for key in parse_qs(query)):
            return True
        if any(pattern.search(path) for pattern in self.path_params):
            return True
        with_query = f"{path}?{query}" if query else path
        if path in self.hidden_paths or any(p.search(with_query) for p in self.hidden_patterns):
            return True
        return self.primary and path in ("", "/") and not query


def _regex(text: str) -> re.Pattern[str] | None:
    """Matomo writes a regular expression between slashes: `/\\/search(\\?.*)?/`."""
    if len(text) > 2 and text.startswith("/") and text.endswith("/"):
        try:
            return re.compile(text[1:-1])
        except re.error:
            return None
    return None


def _split_pattern(url: str) -> tuple[str, str]:
    host, slash, path = url.partition("/")
    return host, (slash + path).lower() if slash else ""


class ReferrerSources:
    """The lookup tables built from one data file."""

    def __init__(self, data: dict[str, Any]) -> None:
        rules: dict[str, list[Rule]] = {}
        names: dict[str, str] = {}
        for config in data.get("search", []):
            params = tuple(p for p in config["params"] if _regex(p) is None)
            path_params = tuple(r for p in config["params"] if (r := _regex(p)) is not None)
            hidden = config.get("hidden", [])
            patterns = tuple(r for h in hidden if (r := _regex(h)) is not None)
            exact = frozenset(h for h in hidden if _regex(h) is None)
            for url in config["urls"]:
                host, path = _split_pattern(url)
                rule = Rule(
                    config["name"],
                    path,
                    search=True,
                    primary=bool(config.get("primary")),
                    params=params,
                    path_params=path_params,
                    hidden_paths=exact,
                    hidden_patterns=patterns,
                )
                rules.setdefault(host, []).append(rule)
                if rule.primary and "{" not in host and not path:
                    names.setdefault(host, config["name"])
            names.setdefault(config["name"].lower(), config["name"])
        for entry in data.get("named", []):
            for url in entry["urls"]:
                host, path = _split_pattern(url)
                rules.setdefault(host, []).append(Rule(entry["name"], path, search=False))
                if "{" not in host and not path:
                    names.setdefault(host, entry["name"])
            names.setdefault(entry["name"].lower(), entry["name"])
        for alias, name in data.get("aliases", {}).items():
            names.setdefault(alias.lower(), name)
        # Longer path prefixes first: bing.com/images/search before bing.com.
        self.rules = {
            host: sorted(found, key=lambda r: len(r.path), reverse=True)
            for host, found in rules.items()
        }
        self.names = names

    def source_of(self, referrer: str) -> str | None:
        """The named source of a referrer URL, or None when it is not a known one."""
        try:
            parts = urlsplit(referrer.strip() if "//" in referrer else f"//{referrer.strip()}")
            host = parts.hostname
        except ValueError:
            return None
        if not host:
            return None
        for key, exact in _candidates(host.removeprefix("www.")):
            for rule in self.rules.get(key, ()):
                if rule.matches(parts.path, parts.query, exact):
                    return rule.name
        return None

    def canonical(self, tag: str) -> str:
        """A utm_source written as a known source's name, host or shorthand → that source."""
        key = tag.strip().lower()
        return self.names.get(key.removeprefix("www."), tag)


def _candidates(host: str) -> Iterator[tuple[str, bool]]:
    """Keys to try for `host`, most specific first; the flag says the key is the host itself
    (or a wildcard of it) rather than a parent domain."""
    labels = host.split(".")
    yield host, True
    if len(labels) >= 3 and labels[-2] in _COMBINED_TLD_LABELS:
        yield ".".join([*labels[:-2], "{}"]), True
    for index in range(len(labels) - 1, -1, -1):
        yield ".".join([*labels[:index], "{}", *labels[index + 1 :]]), True
    for start in range(1, len(labels) - 1):
        yield ".".join(labels[start:]), False


@cache
def sources() -> ReferrerSources:
    """The vendored data set, read once."""
    text = (files("footfall.ingest.enrich") / "data" / "referrers.json").read_text("utf-8")
    return ReferrerSources(json.loads(text))


@lru_cache(maxsize=16_384)
def referrer_source(referrer: str) -> str | None:
    """The named source of `referrer` (Google, Facebook, …), or None when it is not known."""
    return sources().source_of(referrer)


@lru_cache(maxsize=4_096)
def canonical_source(tag: str) -> str:
    """`utm_source=google` → Google, `ig` → Instagram; other tags unchanged (as Plausible does)."""
    return sources().canonical(tag)
