"""Helpers for the tracker protocol tests: fixture bodies, user agents, reading numbers back."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from footfall.app import create_app
from footfall.settings import Settings
from tests.conftest import StoreMaker

FIXTURES = Path(__file__).parent / "fixtures"

CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)
IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_3 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.3 Mobile/15E148 Safari/604.1"
)
GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
HEADLESS = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "HeadlessChrome/131.0.0.0 Safari/537.36"
)
WEBSITE = "5a1f2a3c-7d5e-4f60-9a61-7b8c9d0e1f23"


def fixture(name: str) -> bytes:
    """A request body as the tracker sends it, e.g. `plausible/pageview`."""
    return (FIXTURES / f"{name}.json").read_bytes()


def all_fixtures(protocol: str) -> list[str]:
    return sorted(f"{protocol}/{p.stem}" for p in (FIXTURES / protocol).glob("*.json"))


def query(
    client: TestClient,
    app: str,
    metrics: list[str],
    dimensions: list[str] | None = None,
    filters: list[Any] | None = None,
) -> dict[tuple[Any, ...], list[Any]]:
    """Run a query over everything stored for `app`: {dimension values: metric values}."""
    body: dict[str, Any] = {"app": app, "date_range": "all", "metrics": metrics}
    if dimensions:
        body["dimensions"] = dimensions
    if filters:
        body["filters"] = filters
    response = client.post("/api/v1/query", json=body)
    assert response.status_code == 200, response.text
    return {tuple(row["dimensions"]): row["metrics"] for row in response.json()["results"]}


def total(client: TestClient, app: str, metric: str) -> Any:
    rows = query(client, app, [metric])
    return rows[()][0] if rows else 0


@pytest.fixture
def client_factory(tmp_path: Path, store_maker: StoreMaker) -> Iterator[Callable[..., TestClient]]:
    """Apps with their own settings and TCP peer (for allow-lists and trusted proxies)."""
    opened: list[TestClient] = []

    def make(peer: str = "testclient", **settings: Any) -> TestClient:
        data_dir = tmp_path / f"data-{len(opened)}"
        client = TestClient(
            create_app(Settings(data_dir=data_dir, store=store_maker.new(), **settings)),
            client=(peer, 5000),
        )
        client.__enter__()
        opened.append(client)
        return client

    yield make
    for client in opened:
        client.__exit__(None, None, None)
