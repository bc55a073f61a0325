#!/usr/bin/env python3
"""Rebuild footfall's referrer data set from Matomo's search-engine and social lists.

    python scripts/refresh_referrers.py                 # download the upstream lists
    python scripts/refresh_referrers.py --from DIR      # or read local copies of them

Upstream: https://github.com/matomo-org/searchengine-and-social-list, whose
definitions are public domain (its composer.json says "Unlicense", its
package.json "CC0-1.0"). Three of its files are read: SearchEngines.yml,
Socials.yml and AIAssistants.yml. The result is written, with the upstream
files' SHA-256, to src/footfall/ingest/enrich/data/referrers.json, which
`footfall.ingest.enrich.referrer` reads. Needs PyYAML (a dev dependency).

What the conversion does, so that a refresh changes nothing else:
- search engines keep their configurations in order; the first one of each
  engine is marked `primary` (its own hosts, as opposed to sites that embed
  its results); `urls` lose a leading `www.` and an `android-app://` scheme;
- social networks and AI assistants become `named` entries;
- `RENAMES` gives a few upstream names their usual spelling, and `EXTRA`
  and `ALIASES` are footfall's own additions (sources newer than the upstream
  lists, and utm_source shorthands); they are part of this script, under
  footfall's licence, and are marked `"origin": "footfall"` in the output.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import urllib.request
from pathlib import Path
from typing import Any

import yaml

UPSTREAM = "https://github.com/matomo-org/searchengine-and-social-list"
RAW = "https://raw.githubusercontent.com/matomo-org/searchengine-and-social-list/master/"
FILES = ("SearchEngines.yml", "Socials.yml", "AIAssistants.yml")
OUTPUT = (
    Path(__file__).resolve().parent.parent
    / "src"
    / "footfall"
    / "ingest"
    / "enrich"
    / "data"
    / "referrers.json"
)

# Upstream names written the way the services write them.
RENAMES = {
    "Google%2B": "Google+",
    "Haboo": "Habbo",
    "instagram": "Instagram",
    "reddit": "Reddit",
    "tumblr": "Tumblr",
}

# footfall's additions: (name, kind, urls). Sources the upstream lists do not
# have (yet); `urls` follow the upstream syntax.
EXTRA: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("Brave Search", "search", ("search.brave.com",)),
    ("Kagi", "search", ("kagi.com",)),
    ("Bluesky", "social", ("bsky.app",)),
    ("Threads", "social", ("threads.net", "threads.com")),
    ("Mastodon", "social", ("mastodon.social",)),
    ("Lobsters", "social", ("lobste.rs",)),
    ("Reddit", "social", ("old.reddit.com", "out.reddit.com", "com.reddit.frontpage")),
    ("Twitter", "social", ("x.com", "mobile.twitter.com")),
    ("Facebook", "social", ("lm.facebook.com", "mbasic.facebook.com")),
    ("LinkedIn", "social", ("com.linkedin.android",)),
    ("Discord", "social", ("discord.com", "discordapp.com")),
    ("Slack", "social", ("slack.com", "app.slack.com")),
    ("Wikipedia", "other", ("wikipedia.org",)),
)

# utm_source shorthands seen in tagged links, lower case → source name.
ALIASES = {
    "fb": "Facebook",
    "ig": "Instagram",
    "hn": "Hacker News",
    "yt": "YouTube",
    "li": "LinkedIn",
    "tw": "Twitter",
    "x": "Twitter",
    "adwords": "Google",
}


def normalise_url(url: str) -> str:
    """`www.google.{}` → `google.{}`; `android-app://org.x` → `org.x`; lower case."""
    url = url.strip().lower()
    for scheme in ("android-app://", "android-app//"):
        url = url.removeprefix(scheme)
    return url.removeprefix("www.")


def read_upstream(source: Path | None) -> dict[str, bytes]:
    texts: dict[str, bytes] = {}
    for name in FILES:
        if source is not None:
            texts[name] = (source / name).read_bytes()
        else:
            with urllib.request.urlopen(RAW + name, timeout=30) as response:
                texts[name] = response.read()
    return texts


def convert(texts: dict[str, bytes]) -> dict[str, Any]:
    engines = yaml.safe_load(texts["SearchEngines.yml"]) or {}
    search: list[dict[str, Any]] = []
    for name, configs in engines.items():
        for index, config in enumerate(configs or []):
            urls = sorted({normalise_url(u) for u in config.get("urls") or [] if u})
            if not urls:
                continue
            search.append(
                {
                    "name": RENAMES.get(str(name), str(name)),
                    "primary": index == 0,
                    "urls": urls,
                    "params": [str(p) for p in config.get("params") or [] if str(p).strip()],
                    "hidden": [str(h) for h in config.get("hiddenkeyword") or []],
                }
            )
    named: list[dict[str, Any]] = []
    for kind, file in (("social", "Socials.yml"), ("ai", "AIAssistants.yml")):
        for name, urls in (yaml.safe_load(texts[file]) or {}).items():
            named.append(
                {
                    "name": RENAMES.get(str(name), str(name)),
                    "kind": kind,
                    "urls": sorted({normalise_url(u) for u in urls or [] if u}),
                }
            )
    for name, kind, urls in EXTRA:
        named.append(
            {
                "name": name,
                "kind": kind,
                "urls": sorted(normalise_url(u) for u in urls),
                "origin": "footfall",
            }
        )
    return {
        "about": "Referrer hosts and their source names, built by scripts/refresh_referrers.py "
        "from Matomo's searchengine-and-social-list (public domain); see "
        "LICENSE-searchengine-and-social-list.txt. Entries with origin 'footfall' are "
        "footfall's own additions.",
        "upstream": UPSTREAM,
        "inputs": {name: hashlib.sha256(texts[name]).hexdigest() for name in FILES},
        "search": search,
        "named": named,
        "aliases": ALIASES,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--from",
        dest="source",
        type=Path,
        help="directory with local copies of " + ", ".join(FILES),
    )
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args(argv)
    data = convert(read_upstream(args.source))
    args.output.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n")
    print(
        f"{args.output}: {len(data['search'])} search configurations, "
        f"{len(data['named'])} named sources",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
