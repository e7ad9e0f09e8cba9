"""`loanops models` and `loanops promote --version N --reason ...` on a real MLflow registry."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import mlflow
import pandas as pd
import pytest
from click.testing import CliRunner
from mlflow import MlflowClient

from loanops_cli.main import main
from ml import registry
from serving.model_loader import ModelLoader
from tests.serving.champion import register

CHAMPION_URI = f"models:/{registry.MODEL_NAME}@{registry.CHAMPION}"


class OnlyPd(mlflow.pyfunc.PythonModel):
    """A registered model packaged outside this project: no scoring contract to serve it by."""

    def predict(self, context, model_input, params=None):
        return pd.DataFrame({"pd": [0.1] * len(model_input)})


@pytest.fixture(scope="module")
def registry_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """Two trained versions (v2 champion, as the gate left it) and an unservable v3."""
    root = tmp_path_factory.mktemp("rollback")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LOANOPS_DATA_DIR", str(root / "data"))
        patch.setenv("LOANOPS_OPERATOR", "risk-officer")
        patch.setenv("MLFLOW_TRACKING_URI", "")  # undone after the module: register sets it
        uri, first = register(root, seed=0)
        _, second = register(root, seed=1)
        patch.setenv("MLFLOW_TRACKING_URI", uri)
        client = MlflowClient(uri, uri)
        # what the gate records when it promotes (ml.registry.promote)
        client.set_model_version_tag(registry.MODEL_NAME, second, "gate_decision", "promoted")
        mlflow.set_tracking_uri(uri)
        mlflow.set_registry_uri(uri)
        mlflow.set_experiment("loan-default")  # training's experiment: artifacts under root
        with mlflow.start_run():
            info = mlflow.pyfunc.log_model(
                name="model", python_model=OnlyPd(), registered_model_name=registry.MODEL_NAME
            )
        broken = str(info.registered_model_version)
        yield {"uri": uri, "first": first, "second": second, "broken": broken}


def _run(*args: str):
    return CliRunner().invoke(main, list(args))


def _champion(env: dict[str, str]) -> str | None:
    return registry.version_of(MlflowClient(env["uri"], env["uri"]), registry.CHAMPION)


def test_models_lists_versions_aliases_and_metrics(registry_env):
    result = _run("models", "--json")
    assert result.exit_code == 0, result.output
    rows = {r["version"]: r for r in map(json.loads, result.output.splitlines())}
    first, second = registry_env["first"], registry_env["second"]
    assert set(rows) == {first, second, registry_env["broken"]}
    assert rows[second]["aliases"] == "challenger,champion"  # sorted
    assert rows[second]["gate"] == "promoted"
    assert rows[second]["promotion"] == "gate"
    client = MlflowClient(registry_env["uri"], registry_env["uri"])
    version = client.get_model_version(registry.MODEL_NAME, first)
    metrics = client.get_run(version.run_id).data.metrics
    assert rows[first]["test_auc"] == f"{metrics['test_roc_auc']:.4f}"
    assert rows[first]["ece"] == f"{metrics['test_ece']:.4f}"
    assert rows[first]["policy"] == version.tags["decision_policy_version"]
    assert rows[first]["family"] == "lightgbm"
    table = _run("models")
    assert table.exit_code == 0
    assert table.output.splitlines()[0].split()[:4] == [
        "version",
        "aliases",
        "registered",
        "family",
    ]


def test_manual_promotion_rolls_back_and_is_recorded(registry_env):
    first, second = registry_env["first"], registry_env["second"]
    loader = ModelLoader(CHAMPION_URI, registry_env["uri"])
    loader.refresh()
    assert loader.current.version == second
    result = _run("promote", "--version", first, "--reason", "v2 over-declines the self-employed")
    assert result.exit_code == 0, result.output
    assert f"champion moved to v{first} (was v{second})" in result.output
    assert _champion(registry_env) == first
    tags = MlflowClient().get_model_version(registry.MODEL_NAME, first).tags
    assert tags["promotion"] == "manual"
    assert tags["promotion_reason"] == "v2 over-declines the self-employed"
    assert tags["promoted_by"] == "risk-officer"
    assert tags["previous_champion"] == second
    assert pd.Timestamp(tags["promoted_at"]).tzinfo is not None
    # the API's loader follows the alias as for any promotion
    assert loader.refresh() is True
    assert loader.current.version == first
    listed = {
        json.loads(r)["version"]: json.loads(r)
        for r in _run("models", "--json").output.splitlines()
    }
    assert listed[first]["aliases"] == "champion"
    assert listed[first]["promotion"] == "manual"
    assert "v2 over-declines" in listed[first]["note"]
    again = _run("promote", "--version", first, "--reason", "again")
    assert again.exit_code == 0
    assert "already is the champion" in again.output


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["--version", "99", "--reason", "rollback"], 1, "has no version '99'"),
        (["--version", "1"], 2, "--version needs --reason"),
        (["--version", "1", "--reason", "  "], 2, "--version needs --reason"),
        (["--reason", "rollback"], 2, "--reason goes with --version"),
    ],
)
def test_manual_promotion_refuses_bad_requests(registry_env, args, code, message):
    before = _champion(registry_env)
    result = _run("promote", *args)
    assert result.exit_code == code, result.output
    assert message in result.output
    assert _champion(registry_env) == before


def test_unservable_version_is_refused(registry_env):
    before = _champion(registry_env)
    broken = registry_env["broken"]
    result = _run("promote", "--version", broken, "--reason", "try it")
    assert result.exit_code == 1, result.output
    assert f"version {broken} cannot be served" in result.output
    assert "scoring contract no version" in result.output  # what packaging.load refuses
    assert _champion(registry_env) == before
    tags = MlflowClient().get_model_version(registry.MODEL_NAME, broken).tags
    assert "promotion" not in tags


def test_plain_promote_still_runs_the_gate(registry_env):
    # No gold data here: the gate needs it, and says so, rather than moving anything.
    before = _champion(registry_env)
    result = _run("promote")
    assert result.exit_code == 1
    assert _champion(registry_env) == before


def test_models_on_an_empty_registry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'empty.db'}")
    monkeypatch.setenv("LOANOPS_DATA_DIR", str(tmp_path / "data"))
    result = _run("models")
    assert result.exit_code == 0, result.output
    assert "no version of loan-default is registered yet" in result.output
