"""The dashboard over HTTP, in process on a real store: content negotiation at `/`,
static files and their caching, empty and bad states, and the numbers it renders."""

from __future__ import annotations

import datetime as dt
import gzip
import json
import re
from html import unescape
from typing import Any

import pytest
from fastapi.testclient import TestClient

from footfall.app import create_app
from footfall.settings import Settings

BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
CHROME = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)


def _ago(minutes: float) -> str:
    return (dt.datetime.now(dt.UTC) - dt.timedelta(minutes=minutes)).isoformat()


def _ingest(client: TestClient, events: list[dict[str, Any]]) -> None:
    response = client.post("/api/v1/events", json=events)
    assert response.status_code == 202, response.text


def _kpis(html: str) -> dict[str, str]:
    return dict(re.findall(r'id="kpi-([a-z_]+)" data-value="([^"]*)"', html))


def _rows(html: str, table: str) -> dict[str, list[str]]:
    body = html.split(f'id="table-{table}"', 1)[1].split("</table>", 1)[0]
    out = {}
    for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)[1:]:
        label = re.search(r'<td class="label"[^>]*>\s*<(?:a|span)[^>]*>(.*?)</', row, re.S)
        assert label is not None, row
        cells = re.findall(r'<td class="num" title="([^"]*)"', row)
        out[unescape(label.group(1))] = cells
    return out


# -- GET / : JSON for API clients, the dashboard for browsers ----------------------------


@pytest.mark.parametrize(
    "accept", [None, "*/*", "application/json", "application/json, text/html", "text/html;q=0"]
)
def test_root_answers_hello_world_unless_html_is_preferred(
    client: TestClient, accept: str | None
) -> None:
    headers = {"Accept": accept} if accept is not None else {}
    response = client.get("/", headers=headers)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.content == b'{"hello":"world"}'
    assert "Accept" in response.headers["vary"]


@pytest.mark.parametrize("accept", [BROWSER_ACCEPT, "text/html", "application/xhtml+xml"])
def test_root_serves_the_dashboard_to_a_browser(client: TestClient, accept: str) -> None:
    response = client.get("/", headers={"Accept": accept})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["cache-control"] == "no-store"
    assert "Accept" in response.headers["vary"]
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert response.headers["content-encoding"] == "gzip"  # TestClient asks for it
    assert '<html lang="en">' in response.text
    assert 'id="kpi-visitors"' in response.text


# -- static files ----------------------------------------------------------------------------


def _asset_urls(html: str) -> list[str]:
    return re.findall(r'(?:src|href)="(/dashboard/static/[^"]+)"', html)


def test_every_linked_asset_is_served_immutable_when_versioned(client: TestClient) -> None:
    urls = _asset_urls(client.get("/dashboard").text)
    assert {u.split("?")[0].rsplit("/", 1)[1] for u in urls} >= {
        "dashboard.js",
        "dashboard.css",
        "uPlot.iife.min.js",
        "uPlot.min.css",
        "favicon.svg",
    }
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert response.headers["etag"].startswith('"')
        assert response.headers["x-content-type-options"] == "nosniff"


def test_assets_revalidate_with_etag_and_gzip(client: TestClient) -> None:
    plain = client.get("/dashboard/static/dashboard.js", headers={"Accept-Encoding": "identity"})
    assert plain.status_code == 200
    assert plain.headers["content-type"] == "text/javascript; charset=utf-8"
    assert plain.headers["cache-control"] == "public, no-cache"  # unversioned URL
    assert "content-encoding" not in plain.headers
    etag = plain.headers["etag"]
    again = client.get(
        "/dashboard/static/dashboard.js",
        headers={"If-None-Match": etag, "Accept-Encoding": "identity"},
    )
    assert again.status_code == 304
    assert again.content == b""

    # Accept-Encoding: gzip gets the compressed body, under its own ETag.
    raw = client.get(
        "/dashboard/static/vendor/uPlot.iife.min.js", headers={"Accept-Encoding": "gzip"}
    )
    assert raw.headers["content-encoding"] == "gzip"
    assert raw.headers["etag"].endswith('-gz"')
    assert b"uPlot" in raw.content  # the client decoded it
    assert len(gzip.compress(raw.content)) < 30_000


def test_unknown_card_is_404(client: TestClient) -> None:
    assert client.get("/dashboard/card/nope").status_code == 404


def test_unknown_asset_is_404(client: TestClient) -> None:
    response = client.get("/dashboard/static/nope.js")
    assert response.status_code == 404
    assert "nope.js" in response.text


# -- states ----------------------------------------------------------------------------------


def test_empty_store_shows_a_friendly_empty_state(client: TestClient) -> None:
    response = client.get("/dashboard")
    assert response.status_code == 200
    assert "No events for “default” yet" in response.text
    assert 'data-domain="default"' in response.text
    assert _kpis(response.text)["visitors"] == "0"


def test_unknown_app_is_a_clear_404(client: TestClient) -> None:
    _ingest(client, [{"app": "site", "url": "/"}])
    response = client.get("/dashboard?app=nope")
    assert response.status_code == 404
    assert "No app named “nope”" in response.text


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("period=yesterday", "unknown period &#39;yesterday&#39;"),
        ("period=custom&from=2025-01-05", "needs &#39;to&#39;"),
        ("period=custom&from=2025-01-05&to=2025-01-01", "ends (2025-01-01) before it starts"),
        ("period=custom&from=5.1.2025&to=2025-01-01", "YYYY-MM-DD"),
        ("page=", "filter &#39;page&#39; needs a value"),
        ("page=/a&page=/b", "&#39;page&#39; is given 2 times"),
        ("prop.no%20way=1", "invalid property key"),
        ("event=Signup&props=a%20b", "invalid property key"),
        ("device_tab=screen", "unknown device_tab &#39;screen&#39;"),
        ("details=everything", "unknown details &#39;everything&#39;"),
    ],
)
def test_bad_links_are_400_naming_the_problem(client: TestClient, query: str, message: str) -> None:
    response = client.get(f"/dashboard?{query}")
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("text/html")
    assert message in response.text


def test_unknown_parameters_are_ignored(client: TestClient) -> None:
    assert client.get("/dashboard?fbclid=abc&period=7d").status_code == 200


def test_app_picker_lists_footfall_apps_and_defaults_to_the_first(tmp_path: Any) -> None:
    settings = Settings(data_dir=tmp_path / "data", apps="shop,blog")
    with TestClient(create_app(settings)) as client:
        html = client.get("/dashboard").text
    options = re.findall(r'<option value="([^"]+)"( selected)?>', html.split('id="app-picker"')[1])
    assert options[:2] == [("blog", " selected"), ("shop", "")]


def test_app_picker_lists_apps_with_events_and_opens_the_first(client: TestClient) -> None:
    _ingest(client, [{"app": "zoo.example", "url": "/"}, {"app": "art.example", "url": "/a"}])
    html = client.get("/dashboard").text
    options = re.findall(r'<option value="([^"]+)"( selected)?>', html.split('id="app-picker"')[1])
    assert options[:2] == [("art.example", " selected"), ("zoo.example", "")]
    assert _kpis(html)["pageviews"] == "1"
    picked = client.get("/dashboard?app=zoo.example").text
    assert ("zoo.example", " selected") in re.findall(
        r'<option value="([^"]+)"( selected)?>', picked.split('id="app-picker"')[1]
    )


# -- numbers ------------------------------------------------------------------------------------


def test_kpis_tables_and_filters_match_what_was_ingested(client: TestClient) -> None:
    def visit(ip: str, *events: dict[str, Any]) -> list[dict[str, Any]]:
        return [{"app": "site", "ip": ip, "user_agent": CHROME, **event} for event in events]

    _ingest(
        client,
        visit(
            "10.0.0.1",
            {"url": "/", "referrer": "https://www.google.com/", "ts": _ago(40)},
            {"url": "/pricing", "ts": _ago(39)},
        )
        + visit(
            "10.0.0.2",
            {"url": "/pricing", "ts": _ago(35)},
            {"name": "Signup", "url": "/pricing", "props": {"plan": "pro"}, "ts": _ago(34)},
        )
        + visit("10.0.0.3", {"url": "/?utm_source=mail&utm_campaign=launch", "ts": _ago(30)})
        + visit("10.0.0.4", {"url": "/old", "ts": _ago(60 * 24 * 50)}),
    )
    html = client.get("/dashboard?app=site").text
    assert _kpis(html) == {
        "visitors": "3",
        "visits": "3",
        "pageviews": "4",
        "views_per_visit": "1.33",
        "bounce_rate": "33.33",
        "visit_duration": "40.0",
    }
    assert _rows(html, "pages") == {"/": ["2", "2"], "/pricing": ["2", "2"]}
    assert _rows(html, "sources") == {"Google": ["1"], "Direct / None": ["1"], "mail": ["1"]}
    assert _rows(html, "utm_source") == {"mail": ["1"]}
    entries = client.get("/dashboard?app=site&pages_tab=entry_pages").text
    assert _rows(entries, "entry_pages") == {"/": ["2", "2"], "/pricing": ["1", "1"]}
    exits = client.get("/dashboard/card/pages_tab?app=site&pages_tab=exit_pages").text
    assert _rows(exits, "exit_pages") == {"/pricing": ["2", "2"], "/": ["1", "1"]}
    assert _kpis(client.get("/dashboard?app=site&entry_page=/pricing").text)["visitors"] == "1"
    assert 'id="table-utm_campaign"' not in html  # another tab: not queried
    campaigns = client.get("/dashboard?app=site&utm_tab=utm_campaign").text
    assert _rows(campaigns, "utm_campaign") == {"launch": ["1"]}
    # The card alone, as the page fetches it when its tab is clicked.
    card = client.get("/dashboard/card/device_tab?app=site&device_tab=device")
    assert card.status_code == 200
    assert card.text.lstrip().startswith('<section class="card tabbed" id="card-device_tab"')
    assert _rows(card.text, "device") == {"desktop": ["3", "100.0"]}
    assert _rows(html, "events") == {"Signup": ["1", "1", "33.3"]}
    assert "1 current visitor" not in html  # nothing in the last five minutes

    # A row links to the same view with its filter; the chip links back.
    link = unescape(re.search(r'<a href="([^"]+)" title="Filter by /pricing"', html)[1])  # type: ignore[index]
    assert link == "?app=site&period=30d&page=%2Fpricing"
    filtered = client.get("/dashboard" + link).text
    assert _kpis(filtered)["visitors"] == "2"
    assert _kpis(filtered)["pageviews"] == "2"
    assert 'aria-label="Remove filter: Page is /pricing"' in filtered
    assert 'href="?app=site&amp;period=30d"' in filtered

    # Direct / None filters by rows without a source.
    direct = client.get("/dashboard?app=site&source=(none)").text
    assert _kpis(direct)["visitors"] == "1"
    # Custom event filter and its property breakdown.
    signup = client.get("/dashboard?app=site&event=Signup&props=plan").text
    assert _rows(signup, "props") == {"pro": ["1", "1"]}
    assert _kpis(signup)["visitors"] == "1"

    # A longer period reaches the older visit; all time too, with nothing to compare.
    assert _kpis(client.get("/dashboard?app=site&period=90d").text)["visitors"] == "4"
    all_time = client.get("/dashboard?app=site&period=all").text
    assert _kpis(all_time)["visitors"] == "4"
    assert 'title="Nothing to compare with"' in all_time
    chart = json.loads(all_time.split('id="chart-data">', 1)[1].split("</script>", 1)[0])
    assert chart["granularity"] == "day"  # 51 days, from the first event's
    assert sum(chart["series"]["pageviews"]) == 5


def test_realtime_counts_the_last_five_minutes(client: TestClient) -> None:
    _ingest(
        client,
        [
            {"app": "live", "url": "/", "ip": "10.0.0.1", "user_agent": CHROME, "ts": _ago(1)},
            {"app": "live", "url": "/", "ip": "10.0.0.2", "user_agent": CHROME, "ts": _ago(2)},
            {"app": "live", "url": "/", "ip": "10.0.0.3", "user_agent": CHROME, "ts": _ago(9)},
        ],
    )
    assert client.get("/dashboard/realtime?app=live").json() == {
        "app": "live",
        "visitors": 2,
        "minutes": 5,
    }
    html = client.get("/dashboard?app=live").text
    assert re.search(r'id="realtime-count" data-app="live">2</span>\s*current visitors', html)


def test_change_against_the_previous_period(client: TestClient) -> None:
    def pageview(ip: str, days_ago: float) -> dict[str, Any]:
        return {
            "app": "site",
            "url": "/",
            "ip": ip,
            "user_agent": CHROME,
            "ts": _ago(days_ago * 1440),
        }

    # Last 7 days: 3 visitors; the 7 days before: 2.
    days_ago = {"10.0.0.1": 0.1, "10.0.0.2": 1, "10.0.0.3": 2, "10.0.0.4": 8, "10.0.0.5": 9}
    _ingest(client, [pageview(ip, days) for ip, days in days_ago.items()])
    html = client.get("/dashboard?app=site&period=7d").text
    found = re.findall(
        r'data-metric="([a-z_]+)".*?class="kpi-change ([a-z]+)"[^>]*>([^<]*)<', html, re.S
    )
    changes = {metric: (kind, text.strip()) for metric, kind, text in found}
    assert changes["visitors"] == ("good", "↑ +50%")
    assert changes["pageviews"] == ("good", "↑ +50%")
    assert changes["bounce_rate"] == ("flat", "→ 0 pp")  # 100% both times


def test_chart_and_heatmap_count_each_event_in_its_bucket(client: TestClient) -> None:
    at = dt.datetime.now(dt.UTC).replace(minute=0, second=0, microsecond=0) - dt.timedelta(days=3)
    _ingest(
        client,
        [
            {"app": "site", "url": "/", "ip": f"10.0.0.{i}", "user_agent": CHROME,
             "ts": (at + dt.timedelta(minutes=i)).isoformat()}
            for i in range(1, 4)
        ],
    )  # fmt: skip
    html = client.get("/dashboard?app=site&period=7d").text
    chart = json.loads(html.split('id="chart-data">', 1)[1].split("</script>", 1)[0])
    assert chart["granularity"] == "day"
    day = chart["labels"].index(at.date().isoformat())
    assert chart["series"]["pageviews"][day] == 3
    assert sum(chart["series"]["pageviews"]) == 3
    assert chart["series"]["bounce_rate"].count(None) == 6  # days without visits: gaps
    weekday = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")[at.weekday()]
    cell = f'title="{weekday} {at.hour:02d}:00 — 3 visits" data-value="3"'
    assert cell in html
    assert html.count('data-value="0"><span') == 7 * 24 - 1


def test_stored_text_is_escaped(client: TestClient) -> None:
    evil = "/<script>alert(1)</script>"
    _ingest(client, [{"app": "site", "url": evil, "props": {"x": "</script>"}}])
    html = client.get("/dashboard?app=site").text
    assert "<script>alert(1)" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    filtered = client.get("/dashboard", params={"app": "site", "page": evil}).text
    assert "<script>alert(1)" not in filtered
    assert _kpis(filtered)["pageviews"] == "1"


def test_a_card_shows_its_top_100_on_request(client: TestClient) -> None:
    _ingest(client, [{"app": "site", "url": f"/p{i:02d}"} for i in range(12)])
    html = client.get("/dashboard?app=site").text
    assert len(_rows(html, "pages")) == 10
    more = re.search(r'<p class="more"><a href="([^"]+)">Show more', html)
    assert more is not None
    assert unescape(more[1]) == "?app=site&period=30d&details=pages#table-pages"
    details = client.get("/dashboard" + unescape(more[1]).split("#")[0]).text
    assert len(_rows(details, "pages")) == 12
    assert "Show the top 10" in details
    assert "Show more" not in details
    # Asked for more of a card that has no more: no link back either.
    few = client.get("/dashboard?app=site&details=sources").text
    assert "Show the top 10" not in few
