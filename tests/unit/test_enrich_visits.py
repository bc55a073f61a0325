"""Visit attributes stamped at ingest: every event of a visit carries its visit's origin
and client, those of the visit's first event this process received."""

from __future__ import annotations

from footfall.ingest.enrich.pipeline import Enricher
from footfall.ingest.enrich.sessionize import VISIT_TIMEOUT_US, VisitStamper
from footfall.model import VISIT_CLIENT_COLUMNS, VISIT_ORIGIN_COLUMNS, Event

T0 = 1_709_287_200_000_000  # 2024-03-01T10:00:00Z
MINUTE = 60_000_000
CHROME = {"browser": "Chrome", "browser_version": "122", "os": "Windows", "os_version": "10"}


def landing(**fields: object) -> Event:
    values: dict[str, object] = {
        "app": "site",
        "session_id": "s1",
        "ts": T0,
        "referrer": "https://www.google.com/",
        "referrer_domain": "google.com",
        "source": "Google",
        "utm_campaign": "spring",
        **CHROME,
        "device": "desktop",
        "country": "DE",
    }
    values.update(fields)
    return Event(**values)  # type: ignore[arg-type]


def later(**fields: object) -> Event:
    values: dict[str, object] = {"app": "site", "session_id": "s1", "ts": T0 + MINUTE}
    values.update(fields)
    return Event(**values)  # type: ignore[arg-type]


def visit_of(event: Event) -> dict[str, str | None]:
    """The visit attributes an event carries, by the name of the event column they mirror."""
    origin = {c: getattr(event, c) for c in VISIT_ORIGIN_COLUMNS}
    client = {own: getattr(event, visit) for own, visit in VISIT_CLIENT_COLUMNS.items()}
    return {**origin, **client}


LANDING_VISIT = {
    "referrer_domain": "google.com",
    "source": "Google",
    "utm_source": None,
    "utm_medium": None,
    "utm_campaign": "spring",
    "utm_term": None,
    "utm_content": None,
    **CHROME,
    "device": "desktop",
    "country": "DE",
}


def test_the_first_event_is_its_visit() -> None:
    event = landing()
    VisitStamper().stamp(event)
    assert visit_of(event) == LANDING_VISIT


def test_later_events_carry_the_visits_origin_and_client_and_keep_their_own_client() -> None:
    stamper = VisitStamper()
    stamper.stamp(landing())
    # The phone of the same visit, arriving from elsewhere with a campaign of its own.
    moved = later(
        referrer="https://news.ycombinator.com/",
        referrer_domain="news.ycombinator.com",
        source="Hacker News",
        utm_source="hn",
        device="mobile",
        os="iOS",
        country="FR",
    )
    stamper.stamp(moved)
    assert visit_of(moved) == LANDING_VISIT
    # The event's own client and raw referrer stay (event: dimensions read them).
    assert (moved.device, moved.os, moved.browser, moved.country) == ("mobile", "iOS", None, "FR")
    assert moved.referrer == "https://news.ycombinator.com/"


def test_a_visit_without_an_origin_gives_none_to_all_its_events() -> None:
    stamper = VisitStamper()
    stamper.stamp(landing(referrer=None, referrer_domain=None, source=None, utm_campaign=None))
    tagged = later(source="Google", utm_source="google")
    stamper.stamp(tagged)
    assert (tagged.source, tagged.utm_source, tagged.visit_browser) == (None, None, "Chrome")


def test_an_event_that_arrives_late_takes_the_attributes_already_stamped() -> None:
    """The visit's first *received* event fixes it: a landing posted after the page it led
    to (an import out of order) does not re-stamp what is stored."""
    stamper = VisitStamper()
    first_received = later(device="desktop")
    stamper.stamp(first_received)
    late_landing = landing(ts=T0 - MINUTE, device="mobile")
    stamper.stamp(late_landing)
    assert (late_landing.source, late_landing.visit_device) == (None, "desktop")
    assert late_landing.device == "mobile"


def test_an_event_without_a_session_id_is_a_visit_of_its_own() -> None:
    stamper = VisitStamper()
    alone = landing(session_id=None)
    stamper.stamp(alone)
    assert visit_of(alone) == LANDING_VISIT
    other = landing(session_id=None, device="mobile", source="Bing")
    stamper.stamp(other)
    assert (other.visit_device, other.source) == ("mobile", "Bing")
    assert len(stamper) == 0


def test_visits_are_per_app_and_start_over_after_the_timeout() -> None:
    stamper = VisitStamper()
    stamper.stamp(landing())
    elsewhere = later(app="other", device="mobile")
    stamper.stamp(elsewhere)
    assert (elsewhere.visit_device, elsewhere.source) == ("mobile", None)
    resumed = later(ts=T0 + VISIT_TIMEOUT_US + MINUTE, device="tablet")
    stamper.stamp(resumed)
    assert (resumed.visit_device, resumed.source) == ("tablet", None)
    # Within the timeout of the visit's newest event, even if long after its first.
    again = later(ts=T0 + VISIT_TIMEOUT_US + 20 * MINUTE, device="mobile")
    stamper.stamp(again)
    assert again.visit_device == "tablet"


def test_ended_visits_are_forgotten() -> None:
    stamper = VisitStamper(sweep_every=2)
    stamper.stamp(landing(session_id="old"))
    stamper.stamp(landing(session_id="new", ts=T0 + 2 * VISIT_TIMEOUT_US))
    assert len(stamper) == 1
    # A forgotten visit starts over from its next event.
    resumed = landing(session_id="old", ts=T0 + 2 * VISIT_TIMEOUT_US, device="mobile")
    stamper.stamp(resumed)
    assert resumed.visit_device == "mobile"


def test_the_pipeline_stamps_every_event() -> None:
    enricher = Enricher(None)
    ua = "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0"
    first = enricher.enrich(
        Event(
            app="site",
            session_id="v",
            ts=T0,
            url="https://example.com/?utm_source=newsletter",
            referrer="https://www.google.com/",
        ),
        ip="192.0.2.1",
        user_agent=ua,
    )
    assert (first.source, first.utm_source, first.visit_browser) == (
        "newsletter",
        "newsletter",
        "Firefox",
    )
    second = enricher.enrich(
        Event(
            app="site",
            session_id="v",
            ts=T0 + MINUTE,
            url="https://example.com/b",
            referrer="https://example.com/",
        ),
        ip="192.0.2.1",
        user_agent="Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15",
    )
    assert (second.source, second.utm_source, second.referrer_domain) == (
        "newsletter",
        "newsletter",
        "google.com",
    )
    assert (second.visit_browser, second.visit_os) == ("Firefox", first.os)
    assert second.os != first.os  # its own client stays its own
    # Derived sessions (no session id sent) are stamped the same way.
    third = enricher.enrich(Event(app="site", ts=T0), ip="192.0.2.9", user_agent=ua)
    assert third.session_id is not None and third.visit_browser == "Firefox"
