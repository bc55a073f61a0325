"""What the dashboard shows, as carried by the URL's query string.

`?app=site&period=7d&page=/pricing&source=Google` is a complete, shareable view:
the app, the period (or `period=custom&from=…&to=…`) and one filter per dimension.
Links on the page (a row adds a filter, a chip removes one) are this state with
one thing changed, so every view can be reloaded and shared.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlencode

from footfall.query.registry import PROP_KEY

PERIODS: dict[str, str] = {
    "today": "Today",
    "7d": "Last 7 days",
    "30d": "Last 30 days",
    "90d": "Last 90 days",
    "month": "Month to date",
    "12mo": "Last 12 months",
    "all": "All time",
    "custom": "Custom range",
}
DEFAULT_PERIOD = "30d"

# URL parameter → (Query dimension, label shown on a filter chip).
FILTERS: dict[str, tuple[str, str]] = {
    "page": ("event:page", "Page"),
    "entry_page": ("visit:entry_page", "Entry page"),
    "exit_page": ("visit:exit_page", "Exit page"),
    "source": ("visit:source", "Source"),
    "utm_source": ("visit:utm_source", "UTM source"),
    "utm_medium": ("visit:utm_medium", "UTM medium"),
    "utm_campaign": ("visit:utm_campaign", "UTM campaign"),
    "browser": ("visit:browser", "Browser"),
    "os": ("visit:os", "Operating system"),
    "device": ("visit:device", "Device"),
    "country": ("visit:country", "Country"),
    "event": ("event:name", "Event"),
}
# Cards with tabs: URL parameter → the tables it chooses between (the first is the
# default). Only the chosen table is queried: each is a visit-level query.
TABS: dict[str, tuple[str, ...]] = {
    "pages_tab": ("pages", "entry_pages", "exit_pages"),
    "utm_tab": ("utm_source", "utm_medium", "utm_campaign"),
    "device_tab": ("browser", "os", "device"),
}
# Cards whose table `details=<card>` lengthens from the top 10 to the top 100.
CARDS: tuple[str, ...] = (
    "pages",
    "entry_pages",
    "exit_pages",
    "sources",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "browser",
    "os",
    "device",
    "country",
    "events",
    "props",
)
# `prop.<key>=<value>`: a custom property of the event (event:props:<key>).
PROP_PREFIX = "prop."
# The value a row without one (Direct / None, an unknown country) filters by.
NONE_VALUE = "(none)"
MAX_VALUE_LENGTH = 2000


class StateError(ValueError):
    """A URL parameter the dashboard cannot use; the message names it (→ 400)."""


@dataclass(frozen=True, slots=True)
class DashboardState:
    app: str
    period: str = DEFAULT_PERIOD
    start: dt.date | None = None  # custom periods only
    end: dt.date | None = None
    # (URL parameter, value) in the order they were added; one per parameter.
    filters: tuple[tuple[str, str], ...] = ()
    # Property key to break the filtered custom event down by.
    props: str | None = None
    # (tab parameter, chosen table) for the cards with tabs, when not the default.
    tabs: tuple[tuple[str, str], ...] = ()
    details: str | None = None  # the card showing its top 100

    # -- links -----------------------------------------------------------------

    def params(self) -> list[tuple[str, str]]:
        out = [("app", self.app), ("period", self.period)]
        if self.period == "custom" and self.start and self.end:
            out += [("from", self.start.isoformat()), ("to", self.end.isoformat())]
        out += list(self.filters)
        if self.props:
            out.append(("props", self.props))
        out += list(self.tabs)
        if self.details:
            out.append(("details", self.details))
        return out

    def href(self) -> str:
        return "?" + urlencode(self.params())

    def with_filter(self, param: str, value: str) -> DashboardState:
        """This view with `param` set to `value` (a second click on a dimension replaces)."""
        kept = tuple((p, v) for p, v in self.filters if p != param)
        return replace(self, filters=(*kept, (param, value)))

    def without_filter(self, param: str) -> DashboardState:
        filters = tuple((p, v) for p, v in self.filters if p != param)
        props = self.props if any(p == "event" for p, _ in filters) else None
        return replace(self, filters=filters, props=props)

    def with_details(self, card: str | None) -> DashboardState:
        return replace(self, details=card)

    def with_tab(self, param: str, table: str) -> DashboardState:
        kept = tuple((p, t) for p, t in self.tabs if p != param)
        chosen = () if table == TABS[param][0] else ((param, table),)
        return replace(self, tabs=kept + chosen)

    def tab(self, param: str) -> str:
        """The table the card of `param` shows."""
        return next((t for p, t in self.tabs if p == param), TABS[param][0])

    def filter_value(self, param: str) -> str | None:
        return next((v for p, v in self.filters if p == param), None)


def filter_dimension(param: str) -> str:
    if param.startswith(PROP_PREFIX):
        return "event:props:" + param.removeprefix(PROP_PREFIX)
    return FILTERS[param][0]


def filter_label(param: str) -> str:
    if param.startswith(PROP_PREFIX):
        return "Property " + param.removeprefix(PROP_PREFIX)
    return FILTERS[param][1]


def _one(params: Mapping[str, list[str]], name: str) -> str | None:
    values = params.get(name)
    if not values:
        return None
    if len(values) > 1:
        raise StateError(f"{name!r} is given {len(values)} times; give it once")
    return values[0]


def _date(params: Mapping[str, list[str]], name: str) -> dt.date:
    text = _one(params, name)
    if not text:
        raise StateError(f"a custom period needs {name!r} as YYYY-MM-DD")
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise StateError(f"{name!r} must be a date as YYYY-MM-DD, got {text!r}") from None


def _prop_key(key: str, where: str) -> str:
    if not PROP_KEY.match(key):
        raise StateError(
            f"{where}: invalid property key {key!r} (letters, digits and _ . $ : -, at most 100)"
        )
    return key


def parse_state(items: Iterable[tuple[str, str]], default_app: str) -> DashboardState:
    """The state a query string describes. Unknown parameters are ignored (links get
    tracking parameters appended); a known one with a bad value is a StateError."""
    params: dict[str, list[str]] = {}
    for name, value in items:
        params.setdefault(name, []).append(value)

    app = (_one(params, "app") or "").strip() or default_app
    if len(app) > 200:
        raise StateError("'app' is longer than 200 characters")
    period = _one(params, "period") or DEFAULT_PERIOD
    if period not in PERIODS:
        raise StateError(f"unknown period {period!r}; use one of {', '.join(PERIODS)}")
    start = end = None
    if period == "custom":
        start, end = _date(params, "from"), _date(params, "to")
        if end < start:
            raise StateError(f"the period ends ({end}) before it starts ({start})")

    filters: list[tuple[str, str]] = []
    for name in params:
        if name not in FILTERS and not name.startswith(PROP_PREFIX):
            continue
        given = _one(params, name)
        if name.startswith(PROP_PREFIX):
            _prop_key(name.removeprefix(PROP_PREFIX), f"filter {name!r}")
        if not given:
            raise StateError(f"filter {name!r} needs a value")
        if len(given) > MAX_VALUE_LENGTH:
            raise StateError(f"filter {name!r} is longer than {MAX_VALUE_LENGTH} characters")
        filters.append((name, given))

    props = _one(params, "props") or None
    if props is not None:
        _prop_key(props, "'props'")
    tabs: list[tuple[str, str]] = []
    for param, choices in TABS.items():
        table = _one(params, param)
        if table is not None and table not in choices:
            raise StateError(f"unknown {param} {table!r}; use one of {', '.join(choices)}")
        if table is not None and table != choices[0]:
            tabs.append((param, table))
    details = _one(params, "details") or None
    if details is not None and details not in CARDS:
        raise StateError(f"unknown details {details!r}; use one of {', '.join(CARDS)}")
    return DashboardState(app, period, start, end, tuple(filters), props, tuple(tabs), details)


def query_filters(state: DashboardState) -> list[list[Any]]:
    """The view's filters as Query filters."""
    out: list[list[Any]] = []
    for param, value in state.filters:
        dimension = filter_dimension(param)
        if value == NONE_VALUE:
            # Rows without a value (Direct / None). A negated op also keeps NULLs, and
            # every string matches "^": so this keeps exactly the rows without one.
            out.append(["matches_not", dimension, ["^"]])
        else:
            out.append(["is", dimension, [value]])
    return out
