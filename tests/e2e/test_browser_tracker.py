"""footfall's /script.js in headless Chromium, against a real `footfall serve`.

A small http.server on another port serves the test pages; each loads the tracker
from the footfall server, so the page and the endpoint are cross-origin as on a real
site. The numbers are read back through POST /api/v1/query. Debian's chromium is
driven with Playwright (`executable_path`); no browser is downloaded.
"""

from __future__ import annotations

import html
import json
import os
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.browser import CHROMIUM, skip_module_without_chromium
from tests.support.server import ServerProcess

try:
    from playwright.sync_api import BrowserContext, Page, Playwright, Request, sync_playwright
except ImportError:  # in CI the dev extra has it, and the test must not skip
    if os.environ.get("CI") == "true":
        raise
    pytest.skip("playwright is a dev dependency: pip install -e '.[dev]'", allow_module_level=True)

skip_module_without_chromium()


pytestmark = pytest.mark.slow

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Headless Chromium says "HeadlessChrome", which bot filtering rightly drops: present
# as the desktop Chrome a visitor would use.
USER_AGENT = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)
REFERRER = "https://news.example.org/item?id=1"
WAIT_S = 15.0


# --- the site that embeds the tracker -------------------------------------------------

QUEUE_SNIPPET = (
    "<script>window.footfall = window.footfall || function () {"
    " (window.footfall.q = window.footfall.q || []).push(arguments) };"
    " footfall('Queued', {props: {plan: 'free'}});</script>"
)


def _page(server: str, attributes: str, body: str = "", head: str = "") -> str:
    return (
        "<!doctype html><html><head><title>t</title>"
        f'{head}<script defer {attributes} src="{html.escape(server)}/script.js"></script>'
        f"</head><body>{body}</body></html>"
    )


def _localhost(url: str) -> str:
    return url.replace("//127.0.0.1:", "//localhost:")


class Site:
    """Test pages on 127.0.0.1 (another port than footfall); the first path segment
    picks the page, the rest is free for SPA routes."""

    def __init__(self, pages: dict[str, str]) -> None:
        self.pages = pages
        handler = self._handler()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.port = self.httpd.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        pages = self.pages

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                section = self.path.lstrip("/").split("/", 1)[0].split("?", 1)[0]
                text = pages.get(section)
                body = (text or "not found").encode()
                self.send_response(200 if text is not None else 404)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler

    def __enter__(self) -> Site:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


# --- fixtures ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def footfall(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with ServerProcess(tmp_path_factory.mktemp("tracker") / "data") as proc:
        yield proc


@pytest.fixture(scope="module")
def site(footfall: ServerProcess) -> Iterator[Site]:
    server = footfall.url
    allow = 'data-allow-localhost data-domain="{}"'
    pages = {
        "spa": _page(server, allow.format("test.site"), head=QUEUE_SNIPPET),
        "privacy": _page(server, allow.format("privacy.site")),
        "dnt": _page(server, allow.format("dnt.site")),
        "local": _page(server, 'data-domain="local.site"'),
        "hash": _page(server, allow.format("hash.site") + " data-hash"),
        "links": _page(
            server,
            allow.format("links.site") + " data-outbound-links data-file-downloads",
            body=(
                '<a id="pdf" href="/files/Report.PDF?v=2" onclick="event.preventDefault()">'
                "report</a> "
                '<a id="inside" href="/links/next" onclick="event.preventDefault()">next</a> '
                '<a id="out" href="http://localhost:{port}/landed/"><span>away</span></a>'
            ),
        ),
        "landed": "<!doctype html><p>landed</p>",
        # No data-domain (location.hostname is the default), and another endpoint URL.
        "api": _page(
            server,
            f'data-allow-localhost data-api="{_localhost(server)}/api/event"',
        ),
    }
    with Site(pages) as running:
        links = pages["links"].replace("{port}", str(running.port))
        pages["links"] = links
        yield running


@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@dataclass
class Browser:
    context: BrowserContext
    endpoint: str
    requests: list[Request] = field(default_factory=list)

    def new_page(self) -> Page:
        page = self.context.new_page()
        page.on("request", self._record)
        return page

    def _record(self, request: Request) -> None:
        if request.url == self.endpoint:
            self.requests.append(request)

    def bodies(self) -> list[dict[str, Any]]:
        return [json.loads(request.post_data or "null") for request in self.requests]

    def wait_for_requests(self, page: Page, count: int) -> None:
        deadline = time.monotonic() + WAIT_S
        while len(self.requests) < count and time.monotonic() < deadline:
            page.wait_for_timeout(50)
        assert len(self.requests) == count, self.bodies()


@pytest.fixture
def browser_factory(
    playwright: Playwright, footfall: ServerProcess, tmp_path: Path
) -> Iterator[Callable[..., Browser]]:
    contexts: list[BrowserContext] = []

    def launch(*, do_not_track: bool = False, endpoint: str = "") -> Browser:
        profile = tmp_path / f"profile-{len(contexts)}"
        (profile / "Default").mkdir(parents=True)
        # Chromium's own "Send a Do Not Track request" setting, as a user would set it.
        preferences = {"enable_do_not_track": do_not_track}
        (profile / "Default" / "Preferences").write_text(json.dumps(preferences))
        context = playwright.chromium.launch_persistent_context(
            str(profile),
            executable_path=str(CHROMIUM),
            headless=True,
            args=CHROMIUM_FLAGS,
            user_agent=USER_AGENT,
        )
        contexts.append(context)
        return Browser(context, endpoint or footfall.url + "/api/event")

    yield launch
    for context in contexts:
        context.close()
    for index in range(len(contexts)):
        shutil.rmtree(tmp_path / f"profile-{index}", ignore_errors=True)


def assert_accepted(request: Request) -> None:
    """POST /api/event answered 202 in a way the page could read (CORS included)."""
    response = request.response()
    assert response is not None, (
        f"POST /api/event failed in the browser ({request.failure}): "
        "is the endpoint there, and does it answer CORS?"
    )
    assert response.status == 202, f"{response.status}: {response.text()}"


# --- reading the numbers back ----------------------------------------------------------


def query(server: ServerProcess, **body: Any) -> list[dict[str, Any]]:
    response = httpx.post(
        server.url + "/api/v1/query", json={"date_range": "all", **body}, timeout=10
    )
    assert response.status_code == 200, response.text
    results: list[dict[str, Any]] = response.json()["results"]
    return results


def table(results: list[dict[str, Any]]) -> dict[tuple[Any, ...], list[Any]]:
    return {tuple(row["dimensions"]): row["metrics"] for row in results}


def wait_for_events(server: ServerProcess, app: str, expected: int) -> None:
    """Poll (bounded) until `app` has `expected` events stored."""
    deadline = time.monotonic() + WAIT_S
    total = None
    while time.monotonic() < deadline:
        rows = query(server, app=app, metrics=["events"])
        total = rows[0]["metrics"][0] if rows else 0
        if total >= expected:
            break
        time.sleep(0.05)
    assert total == expected, f"{app}: {total} events stored, expected {expected}"


# --- tests -------------------------------------------------------------------------------


def test_pageviews_spa_navigation_and_custom_events(
    browser_factory: Callable[..., Browser], footfall: ServerProcess, site: Site
) -> None:
    browser = browser_factory()
    page = browser.new_page()
    page.goto(site.url + "/spa/home", referer=REFERRER)
    browser.wait_for_requests(page, 2)  # the queued event, then the pageview
    page.evaluate("history.pushState({}, '', '/spa/pricing')")
    page.evaluate("history.pushState({}, '', '/spa/signup')")
    page.evaluate("history.pushState({}, '', '/spa/signup?step=2')")  # same path: no pageview
    page.evaluate("history.replaceState({}, '', '/spa/signup?step=3')")  # not a navigation
    page.evaluate("history.back()")  # popstate: /spa/signup?step=2 → /spa/signup, same path
    page.wait_for_function("location.search === ''")
    page.evaluate("history.back()")  # popstate: /spa/pricing
    browser.wait_for_requests(page, 5)
    page.evaluate("new Promise(done => footfall('Signup', {props: {plan: 'pro'}, callback: done}))")
    browser.wait_for_requests(page, 6)

    # What went over the wire: Plausible's body, as text/plain, answered 202.
    home, pricing, signup = (site.url + p for p in ("/spa/home", "/spa/pricing", "/spa/signup"))
    base = {"d": "test.site", "r": REFERRER}
    assert browser.bodies() == [
        {"n": "Queued", "u": home, **base, "p": {"plan": "free"}},
        {"n": "pageview", "u": home, **base},
        {"n": "pageview", "u": pricing, **base},
        {"n": "pageview", "u": signup, **base},
        {"n": "pageview", "u": pricing, **base},
        {"n": "Signup", "u": pricing, **base, "p": {"plan": "pro"}},
    ]
    for request in browser.requests:
        assert request.method == "POST"
        assert request.headers["content-type"] == "text/plain"
        assert_accepted(request)

    # What footfall counted.
    wait_for_events(footfall, "test.site", 6)
    by_page = query(
        footfall,
        app="test.site",
        metrics=["pageviews", "events", "visitors"],
        dimensions=["event:page"],
    )
    assert table(by_page) == {
        ("/spa/home",): [1, 2, 1],
        ("/spa/pricing",): [2, 3, 1],
        ("/spa/signup",): [1, 1, 1],
    }
    by_plan = query(
        footfall,
        app="test.site",
        metrics=["events"],
        dimensions=["event:props:plan"],
        filters=[["is", "event:name", ["Signup"]]],
    )
    assert table(by_plan) == {("pro",): [1]}
    by_name = query(footfall, app="test.site", metrics=["events"], dimensions=["event:name"])
    assert table(by_name) == {("pageview",): [4], ("Queued",): [1], ("Signup",): [1]}


def test_no_cookie_and_no_storage(
    browser_factory: Callable[..., Browser], footfall: ServerProcess, site: Site
) -> None:
    browser = browser_factory()
    # Record every attempt to write a cookie or web storage, even one undone later.
    browser.context.add_init_script(
        """
        window.__writes = [];
        const cookie = Object.getOwnPropertyDescriptor(Document.prototype, 'cookie');
        Object.defineProperty(Document.prototype, 'cookie', {
          get() { return cookie.get.call(this) },
          set(value) { window.__writes.push('cookie ' + value); cookie.set.call(this, value) },
        });
        for (const method of ['setItem', 'removeItem', 'clear']) {
          const original = Storage.prototype[method];
          Storage.prototype[method] = function (...args) {
            window.__writes.push(method + ' ' + args.join('='));
            return original.apply(this, args);
          };
        }
        """
    )
    page = browser.new_page()
    page.goto(site.url + "/privacy/")
    browser.wait_for_requests(page, 1)
    page.evaluate("history.pushState({}, '', '/privacy/next')")
    page.evaluate("footfall('Signup', {props: {plan: 'pro'}})")
    browser.wait_for_requests(page, 3)
    wait_for_events(footfall, "privacy.site", 3)

    state = page.evaluate(
        "({writes: window.__writes, cookie: document.cookie,"
        " local: localStorage.length, session: sessionStorage.length,"
        " names: Object.keys(localStorage).concat(Object.keys(sessionStorage))})"
    )
    assert state == {"writes": [], "cookie": "", "local": 0, "session": 0, "names": []}
    assert browser.context.cookies() == []  # none set by the page or by a response
    for request in browser.requests:
        assert_accepted(request)
        response = request.response()
        assert response is not None
        assert "set-cookie" not in response.headers
        assert "cookie" not in request.headers


def test_do_not_track_sends_and_stores_nothing(
    browser_factory: Callable[..., Browser], footfall: ServerProcess, site: Site
) -> None:
    browser = browser_factory(do_not_track=True)
    page = browser.new_page()
    page.goto(site.url + "/dnt/")
    assert page.evaluate("navigator.doNotTrack") == "1"
    page.wait_for_function("typeof window.footfall === 'function'")
    page.evaluate("history.pushState({}, '', '/dnt/next')")
    # The callback still runs, at once, so a page waiting on it is not held up.
    called = page.evaluate(
        "new Promise(done =>"
        " footfall('Signup', {props: {plan: 'pro'}, callback: () => done(true)}))"
    )
    assert called is True
    page.wait_for_timeout(500)
    assert browser.requests == []

    # A tracked visit afterwards lands, and still nothing for dnt.site.
    tracked = browser_factory()
    other = tracked.new_page()
    other.goto(site.url + "/dnt/")
    tracked.wait_for_requests(other, 1)
    wait_for_events(footfall, "dnt.site", 1)
    assert table(query(footfall, app="dnt.site", metrics=["pageviews"])) == {(): [1]}


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_localhost_is_skipped_unless_allowed(
    browser_factory: Callable[..., Browser], footfall: ServerProcess, site: Site, host: str
) -> None:
    browser = browser_factory()
    page = browser.new_page()
    page.goto(f"http://{host}:{site.port}/local/")
    page.wait_for_function("typeof window.footfall === 'function'")
    page.evaluate("footfall('Signup')")
    page.wait_for_timeout(500)
    assert browser.requests == []
    assert query(footfall, app="local.site", metrics=["events"]) in (
        [],
        [{"dimensions": [], "metrics": [0]}],
    )


def test_hash_mode(
    browser_factory: Callable[..., Browser], footfall: ServerProcess, site: Site
) -> None:
    browser = browser_factory()
    page = browser.new_page()
    page.goto(site.url + "/hash/#/one")
    browser.wait_for_requests(page, 1)
    page.evaluate("location.hash = '#/two'")
    browser.wait_for_requests(page, 2)
    page.evaluate("history.pushState({}, '', '/hash/elsewhere')")  # not followed in hash mode
    page.wait_for_timeout(300)
    assert browser.bodies() == [
        {"n": "pageview", "u": site.url + "/hash/#/one", "d": "hash.site", "r": None, "h": 1},
        {"n": "pageview", "u": site.url + "/hash/#/two", "d": "hash.site", "r": None, "h": 1},
    ]
    wait_for_events(footfall, "hash.site", 2)
    assert table(query(footfall, app="hash.site", metrics=["pageviews"])) == {(): [2]}


def test_outbound_links_and_file_downloads(
    browser_factory: Callable[..., Browser], footfall: ServerProcess, site: Site
) -> None:
    browser = browser_factory()
    page = browser.new_page()
    page.goto(site.url + "/links/")
    browser.wait_for_requests(page, 1)
    page.click("#pdf")
    browser.wait_for_requests(page, 2)
    page.click("#inside")  # same host, not a file: nothing
    page.click("#out span")  # a click inside the link counts; navigation waits for the send
    page.wait_for_url(f"http://localhost:{site.port}/landed/", timeout=WAIT_S * 1000)
    browser.wait_for_requests(page, 3)

    outbound = f"http://localhost:{site.port}/landed/"
    assert [(body["n"], body.get("p")) for body in browser.bodies()] == [
        ("pageview", None),
        ("File Download", {"url": site.url + "/files/Report.PDF"}),
        ("Outbound Link: Click", {"url": outbound}),
    ]
    wait_for_events(footfall, "links.site", 3)
    by_url = query(
        footfall, app="links.site", metrics=["events"], dimensions=["event:name", "event:props:url"]
    )
    assert table(by_url) == {
        ("pageview", None): [1],
        ("File Download", site.url + "/files/Report.PDF"): [1],
        ("Outbound Link: Click", outbound): [1],
    }


def test_data_api_and_the_default_domain(
    browser_factory: Callable[..., Browser], footfall: ServerProcess, site: Site
) -> None:
    browser = browser_factory(endpoint=_localhost(footfall.url) + "/api/event")
    page = browser.new_page()
    page.goto(site.url + "/api/")
    browser.wait_for_requests(page, 1)
    assert browser.bodies() == [
        {"n": "pageview", "u": site.url + "/api/", "d": "127.0.0.1", "r": None}
    ]
    assert_accepted(browser.requests[0])
