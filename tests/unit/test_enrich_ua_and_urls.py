"""User agents → browser/OS/device, and URLs → hostname/path/UTM: pure functions."""

from __future__ import annotations

import pytest

from footfall.ingest.enrich.ua import parse_user_agent
from footfall.ingest.urls import referrer_domain, split_url

IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1"
)
IPAD = IPHONE.replace("iPhone; CPU iPhone OS", "iPad; CPU OS")
WINDOWS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36"
)
ANDROID_TABLET = (
    "Mozilla/5.0 (Linux; Android 14; SM-X200) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0 Safari/537.36"
)
CUBOT = (
    "Mozilla/5.0 (Linux; Android 10; CUBOT_X19) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/88.0 Mobile Safari/537.36"
)


@pytest.mark.parametrize(
    ("user_agent", "browser", "os", "device"),
    [
        (IPHONE, "Mobile Safari", "iOS", "mobile"),
        (IPAD, "Mobile Safari", "iOS", "tablet"),
        (WINDOWS, "Chrome", "Windows", "desktop"),
        (ANDROID_TABLET, "Chrome", "Android", "tablet"),
        (CUBOT, "Chrome", "Android", "mobile"),  # a phone, though its name holds "bot"
        (
            "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
            "Googlebot",
            None,
            "bot",
        ),
        ("curl/8.4.0", "curl", None, "bot"),
    ],
)
def test_user_agents(user_agent: str, browser: str, os: str | None, device: str) -> None:
    info = parse_user_agent(user_agent)
    assert (info.browser, info.os, info.device) == (browser, os, device)


def test_versions_are_major_dot_minor() -> None:
    info = parse_user_agent(WINDOWS)
    assert (info.browser_version, info.os_version) == ("120.0", "10")


def test_an_empty_user_agent_is_nothing() -> None:
    assert parse_user_agent("") == (None, None, None, None, None)


def test_url_parts() -> None:
    parts = split_url("https://www.Example.com/pricing?utm_source=nl&utm_medium=email&x=1")
    assert parts.hostname == "example.com"
    assert parts.path == "/pricing"
    assert parts.utm == {"utm_source": "nl", "utm_medium": "email"}


def test_a_bare_path_is_a_url_too() -> None:
    assert split_url("/docs").path == "/docs"
    assert split_url("/docs").hostname is None


@pytest.mark.parametrize(
    ("query", "source"),
    [("utm_source=a&source=b&ref=c", "a"), ("source=b&ref=c", "b"), ("ref=c", "c")],
)
def test_source_tags_in_plausible_order(query: str, source: str) -> None:
    assert split_url(f"https://x.com/?{query}").utm["utm_source"] == source


def test_referrer_domain() -> None:
    assert referrer_domain("https://www.google.com/search?q=x") == "google.com"
    assert referrer_domain("news.ycombinator.com/item?id=1") == "news.ycombinator.com"
    assert referrer_domain("") is None
