"""Serving fixtures: a real champion in a temporary MLflow store, apps on real stores, servers."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from flask import Flask

from loanops.settings import REPO_ROOT
from serving.app import create_app
from tests.serving.champion import register

API_KEY = "test-key-0123456789"
AUTH = {"Authorization": f"Bearer {API_KEY}"}


@pytest.fixture(scope="session")
def champion(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """A trained, registered `loan-default@champion` in its own MLflow store."""
    root = tmp_path_factory.mktemp("registry")
    before = os.environ.get("MLFLOW_TRACKING_URI")
    uri, version = register(root)
    try:
        yield {"tracking_uri": uri, "version": version, "root": str(root)}
    finally:
        if before is None:
            os.environ.pop("MLFLOW_TRACKING_URI", None)
        else:
            os.environ["MLFLOW_TRACKING_URI"] = before


def wait_ready(app: Flask, seconds: float = 90) -> None:
    """Block until the app's champion has loaded."""
    loader = app.extensions["loanops"].loader
    deadline = time.monotonic() + seconds
    while loader.current is None:
        assert time.monotonic() < deadline, f"model did not load: {loader.last_error}"
        time.sleep(0.1)


@pytest.fixture
def make_app(champion: dict[str, str], data_dir: Path) -> Iterator[Callable[..., Flask]]:
    """Build apps on the champion (SQLite store under the data folder unless told otherwise)."""
    apps: list[Flask] = []

    def build(ready: bool = True, **config: Any) -> Flask:
        settings = {
            "MLFLOW_TRACKING_URI": champion["tracking_uri"],
            "PREDICTION_STORE_URL": f"sqlite:///{data_dir / 'predictions.db'}",
            "API_KEYS": [API_KEY],
            "ACCESS_LOG": False,
        }
        app = create_app(settings | config)
        apps.append(app)
        if ready:
            wait_ready(app)
        return app

    yield build
    for app in apps:
        app.extensions["loanops"].close()


@pytest.fixture
def app(make_app: Callable[..., Flask]) -> Flask:
    """A ready app on a SQLite store."""
    return make_app()


@pytest.fixture
def client(app: Flask) -> Any:
    """Its test client."""
    return app.test_client()


def free_port() -> int:
    """A free loopback port."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Gunicorn:
    """`loanops serve` as a subprocess on a free port."""

    def __init__(self, env: dict[str, str], log: Path, workers: int = 2) -> None:
        self.workers = workers
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        full = os.environ | env | {"WEB_CONCURRENCY": str(workers), "PORT": str(self.port)}
        cli = Path(sys.executable).parent / "loanops"
        # `loanops serve` where the product is installed; else what it execs, as the image does
        # (the serving-only venv has the repository on PYTHONPATH and no console scripts of it).
        conf = str(REPO_ROOT / "serving" / "gunicorn_conf.py")
        command = (
            [str(cli), "serve", "--port", str(self.port)] if cli.exists()
            else [sys.executable, "-m", "gunicorn", "-c", conf]
        )  # fmt: skip
        self.proc = subprocess.Popen(
            command, cwd=REPO_ROOT, env=full, stdout=log.open("wb"), stderr=subprocess.STDOUT,
        )  # fmt: skip

    def wait_ready(self, seconds: float = 120) -> None:
        """Block until every worker has loaded the champion (and /readyz answers 200).

        /readyz reaches one worker; the others may still be loading and answer 503, so the
        per-worker `loanops_model_info` gauge in /metrics (one series per live pid) decides.
        """
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, self.log.read_text()[-3000:]
            try:
                ready = requests.get(f"{self.url}/readyz", timeout=5).status_code == 200
                if ready and self.loaded_workers() >= self.workers:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.3)
        raise AssertionError("server not ready:\n" + self.log.read_text()[-3000:])

    def loaded_workers(self) -> int:
        """How many worker processes report a loaded champion in /metrics."""
        text = requests.get(f"{self.url}/metrics", timeout=5).text
        pids = {
            line.split('pid="', 1)[1].split('"', 1)[0]
            for line in text.splitlines()
            if line.startswith("loanops_model_info{") and 'pid="' in line
            and line.rsplit(" ", 1)[1] == "1.0"
        }  # fmt: skip
        return len(pids & {str(pid) for pid in self.worker_pids()})

    def worker_pids(self) -> list[int]:
        """The worker processes of the master."""
        out = subprocess.run(
            ["pgrep", "-P", str(self.proc.pid)], capture_output=True, text=True, check=False
        )
        return [int(p) for p in out.stdout.split()]

    def stop(self) -> None:
        """Terminate the master (and with it the workers)."""
        self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)


@pytest.fixture
def gunicorn(champion: dict[str, str], data_dir: Path) -> Iterator[Callable[..., Gunicorn]]:
    """Start gunicorn servers on the champion with a SQLite store; stopped after the test."""
    servers: list[Gunicorn] = []

    def start(workers: int = 2, **env: str) -> Gunicorn:
        base = {
            "MLFLOW_TRACKING_URI": champion["tracking_uri"],
            "LOANOPS_DATA_DIR": str(data_dir),
            "LOANOPS_API_KEYS": API_KEY,
            "PROMETHEUS_MULTIPROC_DIR": str(data_dir / "prometheus"),
        }
        server = Gunicorn(base | env, data_dir / f"gunicorn-{len(servers)}.log", workers)
        servers.append(server)
        server.wait_ready()
        return server

    yield start
    for server in servers:
        server.stop()
