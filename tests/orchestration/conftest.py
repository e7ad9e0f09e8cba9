"""Orchestration fixtures: an isolated data folder, MLflow store and dbt log folder per test."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from loanops.generator import write_book


def free_port() -> int:
    """A TCP port nobody listens on right now (on the loopback interface)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def orchestration_env(data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """data_dir plus its own MLflow store, dbt logs, and no API or cluster to talk to."""
    monkeypatch.setenv("LOANOPS_TARGET", "duckdb")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    monkeypatch.setenv("DBT_LOG_PATH", str(tmp_path / "dbt-logs"))
    monkeypatch.setenv("LOANOPS_API_URL", f"http://127.0.0.1:{free_port()}")
    for name in ("LOANOPS_PREDICTION_STORE_URL", "LOANOPS_KUBE_CONTEXT", "DAGSTER_HOME"):
        monkeypatch.delenv(name, raising=False)
    return data_dir


def land_book(data_dir: Path, rows: int, seed: int, name: str) -> list[Path]:
    """Write a generated book (applications + outcomes files) into the landing folder."""
    return list(write_book(data_dir / "landing", rows, seed, name=name).files)
