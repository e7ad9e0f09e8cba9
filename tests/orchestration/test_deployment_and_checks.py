"""Deployment rendering and API wait, and the raw-source freshness rule."""

from __future__ import annotations

import json
import threading
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer

import dagster as dg
import pytest
import yaml

from orchestration.assets import deployment
from orchestration.checks import freshness_result, source_freshness
from tests.orchestration.conftest import free_port


def test_render_stamps_the_model_version_on_the_api_pods(tmp_path):
    path = deployment.render("7", tmp_path)
    documents = list(yaml.safe_load_all(path.read_text()))
    api = next(d for d in documents if d["kind"] == "Deployment")
    annotations = api["spec"]["template"]["metadata"]["annotations"]
    assert annotations[deployment.VERSION_ANNOTATION] == "7"
    assert path.name == "aks-loan-default-v7.yaml"


class _Ready(BaseHTTPRequestHandler):
    version = "3"

    def do_GET(self) -> None:
        body = json.dumps({"status": "ready", "model_version": self.version}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


def test_wait_for_api():
    url = f"http://127.0.0.1:{free_port()}"
    assert deployment.wait_for_api(url, "3", 5).startswith("not running")
    server = HTTPServer(("127.0.0.1", 0), _Ready)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_port}"
        assert deployment.wait_for_api(url, "3", 5) == "serving version 3"
        with pytest.raises(dg.Failure, match="still serves version 3"):
            deployment.wait_for_api(url, "4", 0)
    finally:
        server.shutdown()
        server.server_close()


def test_freshness_thresholds_come_from_the_dbt_source():
    assert source_freshness("applications") == (timedelta(days=2), timedelta(days=7))
    now = datetime(2026, 3, 10, 12, 0)
    warn, error = timedelta(days=2), timedelta(days=7)
    assert freshness_result(now - timedelta(hours=1), now, warn, error).passed
    stale = freshness_result(now - timedelta(days=3), now, warn, error)
    assert not stale.passed and stale.severity == dg.AssetCheckSeverity.WARN
    dead = freshness_result(now - timedelta(days=8), now, warn, error)
    assert not dead.passed and dead.severity == dg.AssetCheckSeverity.ERROR
    assert not freshness_result(None, now, warn, error).passed
