"""Cookieless visitor ids: one visitor per (app, address, browser) per UTC day, never longer.

The enricher remembers the last day's salt for speed; these pin down that the
remembered salt never changes an answer.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from footfall.ingest.enrich.pipeline import Enricher
from footfall.model import Event

UA = "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0"


def _visitor(enricher: Enricher, when: dt.datetime, ip: str = "192.0.2.1") -> int:
    event = Event(app="site", ts=int(when.timestamp() * 1_000_000))
    return enricher.enrich(event, ip=ip, user_agent=UA).visitor_id


def test_same_address_and_browser_is_one_visitor_within_a_day(tmp_path: Path) -> None:
    enricher = Enricher(tmp_path)
    now = dt.datetime.now(dt.UTC).replace(hour=12, minute=0)
    morning, evening = now.replace(hour=1), now.replace(hour=23, minute=59)
    assert _visitor(enricher, morning) == _visitor(enricher, evening) == _visitor(enricher, now)
    assert _visitor(enricher, now, ip="192.0.2.2") != _visitor(enricher, now)


def test_the_visitor_id_changes_with_the_utc_day(tmp_path: Path) -> None:
    enricher = Enricher(tmp_path)
    today = dt.datetime.now(dt.UTC).replace(hour=0, minute=0, second=1)
    yesterday = today - dt.timedelta(seconds=2)
    first = _visitor(enricher, today)
    assert _visitor(enricher, yesterday) != first
    assert _visitor(enricher, today) == first  # back to today: the same salt again


def test_a_restart_keeps_todays_visitors_and_old_days_are_unlinkable(tmp_path: Path) -> None:
    now = dt.datetime.now(dt.UTC)
    old = now - dt.timedelta(days=5)
    before, old_before = _visitor(Enricher(tmp_path), now), _visitor(Enricher(tmp_path), old)
    restarted = Enricher(tmp_path)
    assert _visitor(restarted, now) == before  # today's salt is kept on disk
    # A day past retention never had a stored salt: a new process cannot link it.
    assert _visitor(restarted, old) != old_before
    # Within one process, events of that old day still form one visitor.
    assert _visitor(restarted, old) == _visitor(restarted, old + dt.timedelta(seconds=1))
