"""Debian's chromium for the browser tests, driven by Playwright (no browser is downloaded)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")


def skip_module_without_chromium() -> None:
    """Skip the calling test module where chromium is missing, except in CI (it must run)."""
    if os.environ.get("CI") != "true" and not CHROMIUM.exists():
        pytest.skip(
            "Debian's chromium is not installed (apt-get install -y chromium; .ci/run does it)",
            allow_module_level=True,
        )
