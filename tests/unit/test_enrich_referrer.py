"""Named sources from the vendored referrer data, and the pipeline's source rule."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType

import pytest

from footfall.ingest.enrich.pipeline import Enricher
from footfall.ingest.enrich.referrer import (
    ReferrerSources,
    canonical_source,
    referrer_source,
    sources,
)
from footfall.model import Event

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("referrer", "name"),
    [
        # Search engines: the engine's own hosts, bare (as browsers send them today) …
        ("https://www.google.com/", "Google"),
        ("https://www.google.co.uk/", "Google"),
        ("https://www.google.de", "Google"),
        ("https://www.bing.com/", "Bing"),
        ("https://cn.bing.com/", "Bing"),
        ("https://duckduckgo.com/", "DuckDuckGo"),
        ("https://search.yahoo.com/", "Yahoo!"),
        ("https://de.search.yahoo.com/", "Yahoo!"),
        ("https://yandex.ru/", "Yandex"),
        ("https://www.ecosia.org/", "Ecosia"),
        ("https://search.brave.com/", "Brave Search"),
        ("android-app://com.google.android.googlequicksearchbox/https/www.google.com", "Google"),
        # … or with a keyword, or a "hidden keyword" path.
        ("https://www.google.com/search?q=footfall", "Google"),
        ("https://www.google.com/url?sa=t&url=x", "Google"),
        ("https://search.naver.com/search.naver?query=x", "Naver"),
        # A path prefix names a more specific source.
        ("https://www.bing.com/images/search?q=cats", "Bing Images"),
        ("https://images.google.fr/", "Google Images"),
        # Social networks and others by host, subdomains included.
        ("https://news.ycombinator.com/item?id=1", "Hacker News"),
        ("https://www.facebook.com/", "Facebook"),
        ("https://l.facebook.com/l.php?u=https%3A%2F%2Fexample.com", "Facebook"),
        ("https://old.reddit.com/r/selfhosted/", "Reddit"),
        ("https://www.reddit.com/", "Reddit"),
        ("https://t.co/abc", "Twitter"),
        ("https://x.com/someone/status/1", "Twitter"),
        ("https://x.com/i/grok?conversation=1", "Grok"),
        ("https://www.linkedin.com/feed/", "LinkedIn"),
        ("https://github.com/org/repo", "GitHub"),
        ("https://www.youtube.com/watch?v=1", "YouTube"),
        ("https://chatgpt.com/", "ChatGPT"),
        ("https://en.m.wikipedia.org/wiki/Web_analytics", "Wikipedia"),
        ("android-app://org.telegram.messenger", "Telegram"),
        ("news.ycombinator.com", "Hacker News"),  # no scheme
    ],
)
def test_known_referrers(referrer: str, name: str) -> None:
    assert referrer_source(referrer) == name


@pytest.mark.parametrize(
    "referrer",
    [
        "https://example.org/",
        "https://www.cnn.com/",  # listed only for searches "by Google" with a keyword
        "https://mail.google.com/",  # a parent domain does not make a search engine
        "https://www.yahoo.com/",
        "http://[::1/",
        "",
        "not a url",
    ],
)
def test_unknown_referrers(referrer: str) -> None:
    assert referrer_source(referrer) is None


def test_an_embedded_engine_needs_its_keyword() -> None:
    assert referrer_source("https://www.cnn.com/search?query=x") == "Google"


@pytest.mark.parametrize(
    ("tag", "name"),
    [
        ("google", "Google"),
        ("GOOGLE", "Google"),
        ("Google.com", "Google"),
        ("reddit", "Reddit"),
        ("news.ycombinator.com", "Hacker News"),
        ("ig", "Instagram"),
        ("fb", "Facebook"),
        ("newsletter", "newsletter"),
        ("Spring Campaign", "Spring Campaign"),
    ],
)
def test_utm_source_tags(tag: str, name: str) -> None:
    assert canonical_source(tag) == name


def test_the_vendored_data_has_the_sources_the_issue_names() -> None:
    data = json.loads(
        (ROOT / "src/footfall/ingest/enrich/data/referrers.json").read_text(encoding="utf-8")
    )
    names = {e["name"] for e in data["search"]} | {e["name"] for e in data["named"]}
    assert {"Google", "Bing", "DuckDuckGo", "Facebook", "Reddit", "Hacker News"} <= names
    assert (
        ROOT / "src/footfall/ingest/enrich/data/LICENSE-searchengine-and-social-list.txt"
    ).exists()
    assert len(sources().rules) > 300


def _refresh_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "refresh_referrers", ROOT / "scripts" / "refresh_referrers.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_refresh_script_converts_the_upstream_format(tmp_path: Path) -> None:
    (tmp_path / "SearchEngines.yml").write_text(
        "Engine:\n"
        "  -\n"
        "    urls:\n"
        "      - www.engine.{}\n"
        "      - engine.com/images\n"
        "    params:\n"
        "      - q\n"
        "    hiddenkeyword:\n"
        "      - '/^$/'\n"
        "  -\n"
        "    urls:\n"
        "      - portal.example.com\n"
        "    params:\n"
        "      - query\n"
    )
    (tmp_path / "Socials.yml").write_text("reddit:\n  - reddit.com\n  - 'android-app://x.y '\n")
    (tmp_path / "AIAssistants.yml").write_text("Helper:\n  - helper.ai\n")
    out = tmp_path / "referrers.json"
    assert _refresh_script().main(["--from", str(tmp_path), "--output", str(out)]) == 0
    data = json.loads(out.read_text())
    assert data["search"] == [
        {
            "name": "Engine",
            "primary": True,
            "urls": ["engine.com/images", "engine.{}"],
            "params": ["q"],
            "hidden": ["/^$/"],
        },
        {
            "name": "Engine",
            "primary": False,
            "urls": ["portal.example.com"],
            "params": ["query"],
            "hidden": [],
        },
    ]
    assert data["named"][:2] == [
        {"name": "Reddit", "kind": "social", "urls": ["reddit.com", "x.y"]},
        {"name": "Helper", "kind": "ai", "urls": ["helper.ai"]},
    ]
    assert set(data["inputs"]) == {"SearchEngines.yml", "Socials.yml", "AIAssistants.yml"}
    lookup = ReferrerSources(data)
    assert lookup.source_of("https://www.engine.co.uk/") == "Engine"
    assert lookup.source_of("https://engine.com/images/x?q=1") == "Engine"
    assert lookup.source_of("https://portal.example.com/") is None
    assert lookup.source_of("https://portal.example.com/?query=a") == "Engine"
    assert lookup.source_of("android-app://x.y/") == "Reddit"


# --- the pipeline ------------------------------------------------------------------------


def enrich(**fields: object) -> Event:
    event = Event(app="site", **fields)  # type: ignore[arg-type]
    return Enricher(None).enrich(event, ip="198.51.100.1", user_agent="agent/1")


def test_pipeline_names_a_known_referrer() -> None:
    event = enrich(url="https://example.com/", referrer="https://www.google.com/")
    assert (event.referrer_domain, event.source) == ("google.com", "Google")


def test_pipeline_keeps_an_unknown_referrer_domain() -> None:
    event = enrich(url="https://example.com/", referrer="https://blog.example.org/post")
    assert (event.referrer_domain, event.source) == ("blog.example.org", "blog.example.org")


def test_pipeline_utm_source_wins_and_is_named() -> None:
    event = enrich(url="https://example.com/?utm_source=reddit", referrer="https://www.google.com/")
    assert (event.utm_source, event.source) == ("reddit", "Reddit")
    event = enrich(url="https://example.com/?ref=producthunt", referrer="https://www.google.com/")
    assert event.source == "producthunt"


@pytest.mark.parametrize(
    "referrer", ["https://www.example.com/other", "https://example.com/", "http://localhost:3000/"]
)
def test_pipeline_own_site_and_localhost_are_no_source(referrer: str) -> None:
    event = enrich(url="https://example.com/", referrer=referrer)
    assert (event.referrer_domain, event.source) == (None, None)


def test_pipeline_keeps_a_source_the_client_set() -> None:
    event = enrich(url="https://example.com/", referrer="https://www.google.com/", source="Import")
    assert event.source == "Import"
