"""Shared fixtures: a real app on a real store in a temporary data dir."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from footfall.app import create_app
from footfall.services import Services
from footfall.settings import Settings
from tests.support.server import ServerProcess


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data")


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    """In-process client; the lifespan opens the store and starts the writer."""
    with TestClient(create_app(settings)) as test_client:
        yield test_client


@pytest.fixture
def services(client: TestClient) -> Services:
    svc: Services = client.app.state.services  # type: ignore[attr-defined]
    return svc


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerProcess]:
    """A real `footfall serve` subprocess on a free port."""
    with ServerProcess(tmp_path / "server-data") as proc:
        yield proc
