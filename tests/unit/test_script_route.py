"""`GET /script.js`: the served tracker, its headers, its size and its build."""

from __future__ import annotations

import gzip
import hashlib
import re
import tomllib
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from footfall.web import script

STATIC = Path(script.__file__).parent / "static"
SOURCE = STATIC / "script.js"
MINIFIED = STATIC / "script.min.js"
ROOT = Path(__file__).resolve().parents[2]

# Measured when last built: 2,180 bytes raw, 1,282 gzipped (gzip -9). The budget is 2 KB.
GZIP_BUDGET = 2048


def test_gzipped_tracker_stays_under_2_kb() -> None:
    raw = MINIFIED.read_bytes()
    size = len(gzip.compress(raw, compresslevel=9))
    assert size <= GZIP_BUDGET, f"script.min.js is {size} bytes gzipped, over {GZIP_BUDGET}"
    assert len(raw) < 4096, f"script.min.js is {len(raw)} bytes"


def test_served_script_is_built_from_the_current_source() -> None:
    header = MINIFIED.read_text().splitlines()[0]
    match = re.search(r"built from script\.js sha256:([0-9a-f]{64})", header)
    assert match, header
    assert match.group(1) == hashlib.sha256(SOURCE.read_bytes()).hexdigest(), (
        "script.js changed since script.min.js was built: run scripts/build-tracker.sh"
    )


@pytest.mark.parametrize("path", [SOURCE, MINIFIED])
def test_tracker_touches_no_cookie_or_storage(path: Path) -> None:
    code = path.read_text()
    # The readable source names them once, in its header comment, to say it does not.
    body = code.split("*/", 1)[1]
    for api in ("cookie", "localStorage", "sessionStorage", "indexedDB"):
        assert api not in body


def test_get_serves_the_minified_tracker(client: TestClient) -> None:
    response = client.get("/script.js", headers={"Accept-Encoding": "identity"})
    assert response.status_code == 200
    assert response.content == MINIFIED.read_bytes()
    assert response.headers["content-type"] == "text/javascript; charset=utf-8"
    assert "content-encoding" not in response.headers
    assert response.headers["cache-control"] == "public, max-age=86400"
    assert response.headers["vary"] == "Accept-Encoding"
    assert response.headers["access-control-allow-origin"] == "*"
    assert response.headers["etag"] == script.ETAG
    assert re.fullmatch(r'"[0-9a-f]{20}"', script.ETAG)
    assert "set-cookie" not in response.headers


def test_gzip_is_served_when_accepted(client: TestClient) -> None:
    response = client.get("/script.js", headers={"Accept-Encoding": "br, gzip"})
    assert response.status_code == 200
    assert response.headers["content-encoding"] == "gzip"
    assert response.headers["etag"] == script.ETAG_GZIP
    assert response.content == MINIFIED.read_bytes()  # httpx decodes it
    assert int(response.headers["content-length"]) == len(script.SCRIPT_GZIP)
    assert len(script.SCRIPT_GZIP) <= GZIP_BUDGET

    refused = client.get("/script.js", headers={"Accept-Encoding": "gzip;q=0, identity"})
    assert "content-encoding" not in refused.headers


@pytest.mark.parametrize(
    "if_none_match",
    [
        script.ETAG,
        script.ETAG_GZIP,
        f"W/{script.ETAG}",
        f'"stale", {script.ETAG}',
        "*",
    ],
)
def test_if_none_match_answers_304(client: TestClient, if_none_match: str) -> None:
    response = client.get(
        "/script.js", headers={"If-None-Match": if_none_match, "Accept-Encoding": "identity"}
    )
    assert response.status_code == 304
    assert response.content == b""
    assert response.headers["etag"] == script.ETAG
    assert response.headers["cache-control"] == "public, max-age=86400"


def test_a_stale_etag_gets_the_script(client: TestClient) -> None:
    response = client.get("/script.js", headers={"If-None-Match": '"0123456789abcdef0123"'})
    assert response.status_code == 200
    assert response.content == MINIFIED.read_bytes()


def test_head_sends_the_headers_only(client: TestClient) -> None:
    response = client.head("/script.js", headers={"Accept-Encoding": "identity"})
    assert response.status_code == 200
    assert response.content == b""
    assert response.headers["etag"] == script.ETAG
    assert response.headers["content-type"] == "text/javascript; charset=utf-8"


def test_package_data_ships_the_tracker() -> None:
    """The wheel's package data globs take both files (checked by building one by hand:
    a build here would need a newer setuptools from the network)."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    globs = config["tool"]["setuptools"]["package-data"]["footfall"]
    package = ROOT / "src" / "footfall"
    shipped = {path for pattern in globs for path in package.glob(pattern)}
    assert {SOURCE, MINIFIED} <= shipped
