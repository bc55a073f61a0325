"""The ClickHouse stores come with an extra; without it, the error says what to install."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

# Runs in a fresh interpreter where chdb and clickhouse_connect cannot be imported,
# as after `pip install footfall` without the `clickhouse` extra.
_PROBE = """
import sys
sys.modules["chdb"] = None
sys.modules["clickhouse_connect"] = None
from pathlib import Path
from footfall.storage.base import StoreUnavailable
from footfall.storage.factory import create_store
try:
    create_store(sys.argv[1], Path(sys.argv[2])).open()
except StoreUnavailable as exc:
    print(exc)
"""


@pytest.mark.parametrize("url", ["chdb:///{dir}/ch", "clickhouse://default:@127.0.0.1:1/footfall"])
def test_a_clickhouse_store_without_the_extra_names_the_install(url: str, tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-c", _PROBE, url.format(dir=tmp_path), str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert "pip install 'footfall[clickhouse]'" in result.stdout, result.stderr
