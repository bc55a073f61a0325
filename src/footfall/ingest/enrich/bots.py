"""Is this user agent a robot? ua-parser's Spider family, headless browsers, known bot tokens.

The tracker endpoints drop bot traffic before it is stored (as Plausible and
Umami do), so a crawler that runs JavaScript is not counted as a visitor.
Other APIs keep such events and the pipeline marks their device `bot`.
An empty or missing user agent is not called a bot (neither tracker does).
"""

from __future__ import annotations

import re
from functools import lru_cache

from ua_parser import parse_device

# Tokens of automation, lower case. Our own list: crawlers and link-preview fetchers
# (…bot, spider, crawl…), headless and scripted browsers, monitoring and HTTP libraries.
_TOKENS = re.compile(
    r"bot\b|bot[/_-]|crawl|spider|slurp|scrape|archiver|"
    r"headless|phantomjs|puppeteer|playwright|selenium|webdriver|cypress|jsdom|"
    r"lighthouse|pagespeed|gtmetrix|pingdom|uptime|statuscake|monitor|datadog|newrelic|"
    r"site24x7|nagios|check_http|zabbix|"
    r"preview|facebookexternalhit|facebookcatalog|embedly|iframely|vkshare|whatsapp/|"
    r"google-inspectiontool|google-site-verification|mediapartners|adsbot|feedfetcher|"
    r"feedly|inoreader|newsblur|chatgpt-user|anthropic-ai|claude-web|perplexity-user|"
    r"^curl/|^wget/|python-requests|python-urllib|python-httpx|aiohttp|^httpx|"
    r"go-http-client|^java/|okhttp|apache-httpclient|node-fetch|^axios/|undici|"
    r"libwww-perl|httpie|postmanruntime|insomnia|scrapy|^ruby|guzzlehttp"
)
# Real devices whose names contain a token: Cubot phones (…CUBOT_X19…).
_NOT_BOTS = re.compile(r"cubot")
# A user agent with no space at all is a tool's `name/version`, never a browser's.
_ONE_WORD = re.compile(r"^\S+$")


@lru_cache(maxsize=20_000)
def is_bot(user_agent: str | None) -> bool:
    """True for crawlers, headless or scripted browsers and HTTP libraries."""
    if not user_agent or not user_agent.strip():
        return False
    lowered = _NOT_BOTS.sub("", user_agent.strip().lower())
    if _TOKENS.search(lowered) or _ONE_WORD.match(lowered):
        return True
    device = parse_device(user_agent)
    return device is not None and device.family == "Spider"
