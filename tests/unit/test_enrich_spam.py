"""Referrer spam: the vendored Matomo list, matched by host and parent domain."""

from __future__ import annotations

import pytest

from footfall.ingest.enrich.spam import is_spam_referrer, spammers


def test_the_vendored_list_is_whole() -> None:
    listed = spammers()
    # Matomo's list has over two thousand entries; a truncated copy would miss most spam.
    assert len(listed) > 2000
    assert {"semalt.com", "darodar.com", "ilovevitaly.com", "buttons-for-website.com"} <= listed
    assert all(domain == domain.strip().lower() and "." in domain for domain in listed)


@pytest.mark.parametrize(
    "referrer",
    [
        "https://semalt.com/",
        "http://www.darodar.com/page?x=1",
        "https://forum.ilovevitaly.com/",
        "ILOVEVITALY.COM",
        "buttons-for-website.com",
    ],
)
def test_listed_hosts_and_their_subdomains_are_spam(referrer: str) -> None:
    assert is_spam_referrer(referrer)


@pytest.mark.parametrize(
    "referrer",
    [
        None,
        "",
        "https://www.google.com/",
        "https://news.ycombinator.com/item?id=1",
        "https://semalt.com.example.org/",  # a listed name inside another domain
        "https://notsemalt.com/",
        "https://com/",
    ],
)
def test_other_referrers_are_not(referrer: str | None) -> None:
    assert not is_spam_referrer(referrer)
