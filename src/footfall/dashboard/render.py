"""HTML of the dashboard: Jinja2 templates shipped in the package, autoescaped."""

from __future__ import annotations

from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from footfall import __version__
from footfall.dashboard import assets
from footfall.dashboard.report import BREAKDOWNS
from footfall.dashboard.state import FILTERS, PERIODS, TABS, filter_label

_ENV = Environment(
    loader=PackageLoader("footfall.dashboard", "templates"),
    autoescape=select_autoescape(default=True),
    undefined=StrictUndefined,  # a typo in a template fails the tests, not silently
    trim_blocks=True,
    lstrip_blocks=True,
)
_ENV.globals.update(
    asset=assets.url,
    periods=PERIODS,
    filter_params=FILTERS,
    filter_label=filter_label,
    tabs=TABS,
    tab_labels={spec.key: spec.heading for spec in BREAKDOWNS},
    version=__version__,
)


def page(template: str, **context: Any) -> str:
    return _ENV.get_template(template).render(**context)
