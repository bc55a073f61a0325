"""HTML of the dashboard: Jinja2 templates shipped in the package, autoescaped."""

from __future__ import annotations

import base64
import hashlib
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from footfall import __version__
from footfall.dashboard import assets
from footfall.dashboard.report import BREAKDOWNS
from footfall.dashboard.state import FILTERS, PERIODS, TABS, filter_label

# The one inline script: marks the page as scripted before it is drawn, so that controls
# the script replaces never flash. The policy allows exactly this text by its hash.
INLINE_SCRIPT = 'document.documentElement.classList.add("js")'
_INLINE_HASH = base64.b64encode(hashlib.sha256(INLINE_SCRIPT.encode()).digest()).decode()
# Inline `style` attributes carry the table bars' widths; uPlot styles its own elements.
CONTENT_SECURITY_POLICY = (
    f"default-src 'self'; script-src 'self' 'sha256-{_INLINE_HASH}'; "
    "style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'"
)

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
    tab_labels={spec.key: spec.tab for spec in BREAKDOWNS},
    version=__version__,
    inline_script=INLINE_SCRIPT,
)


def page(template: str, **context: Any) -> str:
    return _ENV.get_template(template).render(**context)
