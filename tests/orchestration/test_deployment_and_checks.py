"""Deployment rendering and API wait, and the raw-source freshness rule."""

from __future__ import annotations

import json
import threading
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import dagster as dg
import pytest
import yaml

from orchestration.assets import deployment
from orchestration.checks import freshness_result, source_freshness
from orchestration.resources import LoanopsResource
from tests.orchestration.conftest import free_port

DIGEST = "sha256:" + "3f" * 32
RELEASED = f"contosoacr.azurecr.io/loanops-api@{DIGEST}"


def _api_images(documents: list[dict]) -> list[str]:
    """Every image of the API Deployment's pod, init containers first."""
    api = next(d for d in documents if d["kind"] == "Deployment")
    pod = api["spec"]["template"]["spec"]
    return [c["image"] for c in pod.get("initContainers", []) + pod["containers"]]


def test_render_pins_the_released_digest_and_stamps_the_model_version(tmp_path):
    path = deployment.render("7", RELEASED, tmp_path)
    documents = list(yaml.safe_load_all(path.read_text()))
    api = next(d for d in documents if d["kind"] == "Deployment")
    annotations = api["spec"]["template"]["metadata"]["annotations"]
    assert annotations[deployment.VERSION_ANNOTATION] == "7"
    assert path.name == "aks-loan-default-v7.yaml"
    # The migrate init container and the API run the very image CD released.
    assert _api_images(documents) == [RELEASED, RELEASED]
    assert "sha256:" + "0" * 64 not in path.read_text()  # the placeholder digest is gone


@pytest.mark.parametrize(
    ("image", "problem"),
    [
        ("contosoacr.azurecr.io/loanops-api:latest", "not pinned by digest"),
        ("contosoacr.azurecr.io/loanops-api:latest-build", "not pinned by digest"),
        ("contosoacr.azurecr.io/loanops-api", "not pinned by digest"),
        ("contosoacr.azurecr.io/loanops-api@sha256:3f3f", "not pinned by digest"),
        (f"contosoacr.azurecr.io/loanops-api:v1@{DIGEST}", "not pinned by digest"),
        (f"contosoacr.azurecr.io/loanops-dagster@{DIGEST}", "not a loanops-api image"),
        ("loanopsacr.azurecr.io/loanops-api@sha256:" + "0" * 64, "placeholder digest"),
    ],
)
def test_anything_but_a_released_digest_is_refused(tmp_path, image, problem, monkeypatch):
    monkeypatch.setenv(deployment.IMAGE_SETTING, image)
    with pytest.raises(dg.Failure, match=problem):
        deployment.recorded_image()
    with pytest.raises(dg.Failure, match=problem):
        deployment.render("7", image, tmp_path)
    assert not list(tmp_path.iterdir())  # nothing rendered


def test_recorded_image_comes_from_config_else_the_environment(monkeypatch):
    monkeypatch.delenv(deployment.IMAGE_SETTING, raising=False)
    assert deployment.recorded_image() is None
    monkeypatch.setenv(deployment.IMAGE_SETTING, f" {RELEASED}\n")
    assert deployment.recorded_image() == RELEASED
    other = f"contosoacr.azurecr.io:5000/team/loanops-api@sha256:{'ab' * 32}"
    assert deployment.recorded_image(other) == other


@pytest.fixture
def champion(orchestration_env: Path) -> str:
    """A registered loan-default version holding the champion alias, in the test's MLflow."""
    from mlflow import MlflowClient

    from loanops import settings
    from ml import registry, tracking

    tracking.configure(settings.load())
    client = MlflowClient()
    client.create_registered_model(registry.MODEL_NAME)
    version = client.create_model_version(registry.MODEL_NAME, source=str(orchestration_env))
    client.set_registered_model_alias(registry.MODEL_NAME, registry.CHAMPION, version.version)
    return str(version.version)


def _materialize_deployment() -> dg.AssetMaterialization:
    result = dg.materialize(
        [deployment.deployment],
        resources={"loanops": LoanopsResource()},
        run_config={"ops": {"serving__deployment": {"config": {"wait_seconds": 1}}}},
    )
    assert result.success
    (materialization,) = result.asset_materializations_for_node("serving__deployment")
    return materialization


def test_asset_without_a_recorded_digest_applies_nothing_and_says_why(
    champion, orchestration_env, monkeypatch
):
    monkeypatch.delenv(deployment.IMAGE_SETTING, raising=False)
    monkeypatch.setenv("LOANOPS_KUBE_CONTEXT", "a-cluster-that-must-not-be-touched")
    metadata = _materialize_deployment().metadata
    assert metadata["model_version"].value == champion
    assert metadata["api_image"].value == "none recorded"
    assert metadata["kubectl_apply"].value.startswith("not applied: no image digest recorded")
    assert deployment.IMAGE_SETTING in metadata["kubectl_apply"].value
    assert "none" in metadata["manifest"].value
    assert not (orchestration_env / "deploy").exists()


def test_asset_renders_the_digest_cd_recorded(champion, orchestration_env, monkeypatch):
    monkeypatch.setenv(deployment.IMAGE_SETTING, RELEASED)
    metadata = _materialize_deployment().metadata
    assert metadata["api_image"].value == RELEASED
    assert metadata["kubectl_apply"].value == "not applied: LOANOPS_KUBE_CONTEXT is not set"
    manifest = Path(metadata["manifest"].value)
    assert manifest.parent == orchestration_env / "deploy"
    documents = list(yaml.safe_load_all(manifest.read_text()))
    assert _api_images(documents) == [RELEASED, RELEASED]
    api = next(d for d in documents if d["kind"] == "Deployment")
    assert (
        api["spec"]["template"]["metadata"]["annotations"][deployment.VERSION_ANNOTATION]
        == champion
    )


def test_asset_refuses_a_floating_tag(champion, monkeypatch):
    monkeypatch.setenv(deployment.IMAGE_SETTING, "contosoacr.azurecr.io/loanops-api:latest")
    result = dg.materialize(
        [deployment.deployment],
        resources={"loanops": LoanopsResource()},
        raise_on_error=False,
    )
    assert not result.success
    (failure,) = [e for e in result.all_events if e.is_step_failure]
    assert "not pinned by digest" in failure.step_failure_data.error.message


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
