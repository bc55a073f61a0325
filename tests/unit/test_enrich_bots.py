"""Bot detection: ua-parser's spiders, headless browsers, known tokens; real browsers pass."""

from __future__ import annotations

import pytest

from footfall.ingest.enrich.bots import is_bot
from footfall.ingest.enrich.pipeline import Enricher
from footfall.model import Event

BROWSERS = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:123.0) Gecko/20100101 Firefox/123.0",
    "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:109.0) Gecko/20100101 Firefox/118.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_3 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.3 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "CriOS/119.0 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 13; SM-S908B) AppleWebKit/537.36 (KHTML, like Gecko) "
    "SamsungBrowser/23.0 Chrome/115.0.0.0 Mobile Safari/537.36",
    # A Cubot phone: "…bot" in the device name is not a robot.
    "Mozilla/5.0 (Linux; Android 9; CUBOT_P30) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/99.0 Mobile Safari/537.36",
]

BOTS = [
    # ua-parser's Spider family and …bot tokens
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, like "
    "Gecko) Chrome/131.0.0.0 Mobile Safari/537.36 (compatible; Googlebot/2.1; "
    "+http://www.google.com/bot.html)",
    "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
    "Mozilla/5.0 (compatible; YandexBot/3.0; +http://yandex.com/bots)",
    "Mozilla/5.0 (compatible; SemrushBot/7~bl; +http://www.semrush.com/bot.html)",
    "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.0; "
    "+https://openai.com/gptbot)",
    "Mozilla/5.0 (compatible; Baiduspider/2.0; +http://www.baidu.com/search/spider.html)",
    "DuckDuckBot-Https/1.1; (+https://duckduckgo.com/duckduckbot)",
    # link previews
    "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
    "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
    "WhatsApp/2.23.20.0",
    # headless and scripted browsers, audits
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "HeadlessChrome/131.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Unknown; Linux x86_64) AppleWebKit/538.1 (KHTML, like Gecko) PhantomJS/2.1.1 "
    "Safari/538.1",
    "Mozilla/5.0 (Linux; Android 11; moto g power (2022)) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Mobile Safari/537.36 Chrome-Lighthouse",
    # monitoring and HTTP libraries
    "Mozilla/5.0 (compatible; UptimeRobot/2.0; http://www.uptimerobot.com/)",
    "curl/8.5.0",
    "Wget/1.21.4",
    "python-requests/2.32.3",
    "python-httpx/0.28.1",
    "Go-http-client/2.0",
    "okhttp/4.12.0",
    "axios/1.7.2",
    "node-fetch/1.0 (+https://github.com/bitinn/node-fetch)",
    "agent-a/1.0",  # one word: a tool's name/version, never a browser
]


@pytest.mark.parametrize("user_agent", BROWSERS)
def test_browsers_are_not_bots(user_agent: str) -> None:
    assert is_bot(user_agent) is False


@pytest.mark.parametrize("user_agent", BOTS)
def test_bots(user_agent: str) -> None:
    assert is_bot(user_agent) is True


@pytest.mark.parametrize("user_agent", [None, "", "   "])
def test_no_user_agent_is_not_called_a_bot(user_agent: str | None) -> None:
    assert is_bot(user_agent) is False


def test_pipeline_marks_the_device_of_bot_events() -> None:
    enricher = Enricher(None)
    crawler = enricher.enrich(Event(url="/"), ip="192.0.2.1", user_agent=BOTS[0])
    assert crawler.device == "bot"
    headless = enricher.enrich(Event(url="/"), ip="192.0.2.1", user_agent=BOTS[11])
    assert (headless.device, headless.browser) == ("bot", "HeadlessChrome")
    person = enricher.enrich(Event(url="/"), ip="192.0.2.1", user_agent=BROWSERS[0])
    assert person.device == "desktop"
