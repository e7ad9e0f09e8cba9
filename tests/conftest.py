"""Shared fixtures: a real PostgreSQL server and an isolated data folder per test."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.azurite_server import AzuriteServer, start_azurite
from tests.postgres_server import PostgresServer, start_postgres

PRODLIKE = Path(__file__).parent / "prodlike"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run the production-shape tests last: `make test` builds their images in the background
    meanwhile, and their stack then starts once, after everything else has finished with the CPU."""
    items.sort(key=lambda item: item.path.is_relative_to(PRODLIKE))


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """One real PostgreSQL server for the whole test session."""
    server = start_postgres()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(server.datadir.parent, ignore_errors=True)


@pytest.fixture(scope="session")
def azurite() -> Iterator[AzuriteServer]:
    """One real Azurite Blob service for the whole test session."""
    server = start_azurite()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh LOANOPS_DATA_DIR for one test."""
    folder = tmp_path / "data"
    folder.mkdir()
    monkeypatch.setenv("LOANOPS_DATA_DIR", str(folder))
    monkeypatch.delenv("LOANOPS_DUCKDB_PATH", raising=False)
    monkeypatch.delenv("LOANOPS_LANDING_DIR", raising=False)
    monkeypatch.delenv("LOANOPS_LANDING_URL", raising=False)
    return folder
