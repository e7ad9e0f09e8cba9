"""Train, register and promote on a temporary MLflow store; load and serve the champion."""

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import duckdb
import mlflow
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from mlflow import MlflowClient
from sklearn.metrics import roc_auc_score

from loanops.features import spec
from loanops_cli.main import main
from ml import dataset, packaging, registry
from ml.split import TEST
from ml.train import train
from tests.ml.conftest import fast_config

CHAMPION_URI = f"models:/{registry.MODEL_NAME}@{registry.CHAMPION}"


@pytest.fixture(scope="module")
def trained(module_env):
    """One `loanops train` and `loanops promote`, as an operator runs them."""
    runner = CliRunner()
    trained = runner.invoke(main, ["train", "--budget-seconds", "4", "--max-trials", "1"])
    promoted = runner.invoke(main, ["promote"])
    return {**module_env, "train": trained, "promote": promoted}


def test_commands_train_register_and_promote(trained):
    assert trained["train"].exit_code == 0, trained["train"].output
    out = trained["train"].output
    for family in ("logistic", "xgboost", "lightgbm"):
        assert family in out
    assert "registered loan-default version 1 as challenger" in out
    assert trained["promote"].exit_code == 0, trained["promote"].output
    assert "PROMOTED to champion" in trained["promote"].output
    client = MlflowClient()
    assert registry.version_of(client, registry.CHAMPION) == "1"
    version = client.get_model_version(registry.MODEL_NAME, "1")
    assert version.tags["gate_decision"] == "promoted"
    parent = client.get_run(version.run_id)
    assert parent.data.params["data_relation"] == dataset.GOLD_RELATION
    assert int(parent.data.params["data_rows"]) == len(trained["gold"])
    assert parent.data.tags["git_commit"]
    artifacts = {a.path for a in client.list_artifacts(version.run_id)}
    assert {"model_card.md", "fairness.csv", "plots", "pd_bands.json"} <= artifacts
    bands = mlflow.artifacts.load_dict(f"runs:/{version.run_id}/pd_bands.json")
    assert bands["scale"] == {"base_points": 600.0, "base_odds": 19.0, "pdo": 50.0}
    test_rows = int(parent.data.params["data_rows_test"])
    assert sum(b["rows"] for b in bands["bands"]) == test_rows
    assert sum(b["defaults"] for b in bands["bands"]) == round(
        parent.data.metrics["test_default_rate"] * test_rows
    )
    card = Path(mlflow.artifacts.download_artifacts(f"runs:/{version.run_id}/model_card.md"))
    text = card.read_text(encoding="utf-8")
    assert "## Default rate per PD band (test split)" in text
    assert "## Directions of risk" in text and "`score_source_1`: higher means less risk" in text
    plots = {Path(a.path).name for a in client.list_artifacts(version.run_id, "plots")}
    assert {"roc.png", "precision_recall.png", "calibration.png"} <= plots
    children = mlflow.search_runs(
        filter_string=f"tags.mlflow.parentRunId = '{version.run_id}'", output_format="list"
    )
    assert sorted(r.data.params["family"] for r in children) == ["lightgbm", "logistic", "xgboost"]


def _as_clients_send(raw: pd.DataFrame) -> pd.DataFrame:
    """Half the rows as text (a CSV), half as numbers (JSON), plus junk tokens everywhere."""
    raw = raw.drop(columns=["Default"]).astype(object).reset_index(drop=True)
    text = raw.index % 2 == 0
    raw.loc[text] = raw.loc[text].map(lambda v: None if v is None or v != v else str(v))
    raw.loc[raw.index % 7 == 0, "Client_Income"] = "$"
    raw.loc[raw.index % 11 == 0, "Score_Source_2"] = "#NA"
    raw.loc[raw.index % 13 == 0, "Age_Days"] = "x"
    raw.loc[raw.index % 5 == 0, "Client_Gender"] = "XNA"
    raw.loc[raw.index % 17 == 0, "Client_Permanent_Match_Tag"] = "@"
    return raw


def test_champion_scores_raw_applications_like_the_gold_rows(trained, module_env):
    raw = _as_clients_send(module_env["raw"].head(400))
    model = mlflow.pyfunc.load_model(CHAMPION_URI)
    out = model.predict(raw)
    assert list(out.columns) == ["pd", "class", "decision", "referral_reasons", "reasons"]
    # The gold rows of the same applications, built by the one feature definition from the
    # same (junk-laden) values, then read back through the warehouse reader.
    from tests.ml.conftest import gold_frame, write_gold

    junk_gold = gold_frame(raw.assign(Default=module_env["raw"]["Default"].head(400).to_numpy()))
    other = module_env["settings"].data_dir / "junk.duckdb"
    write_gold(other, junk_gold)
    settings = module_env["settings"].__class__(
        module_env["settings"].data_dir, "duckdb", other, module_env["settings"].landing_dir
    )
    gold = dataset.load(settings).frame.set_index(spec.ID_NAME).loc[raw["ID"].astype(int)]
    scorer = packaging.load(CHAMPION_URI)  # the contract every consumer scores by
    scores = scorer.predict_columns(gold)
    np.testing.assert_allclose(out["pd"].to_numpy(), scores.probability, rtol=0, atol=1e-9)
    assert ((out["pd"] >= scorer.threshold).astype(int) == out["class"]).all()
    assert all(isinstance(r, list) and len(r) <= 3 for r in out["reasons"])
    # The packaged policy decides on the same gold rows (the API's decisions are the same).
    assert out["decision"].tolist() == scores.decision
    assert out["referral_reasons"].tolist() == scores.referral_reasons
    assert scorer.policy_record["source"] == "trained"


@pytest.mark.parametrize("packaged", [1, None])
def test_a_model_under_another_scoring_contract_is_refused(trained, tmp_path, packaged):
    import yaml

    from loanops import scoring_contract

    folder = Path(mlflow.artifacts.download_artifacts(CHAMPION_URI, dst_path=str(tmp_path)))
    spec_file = folder / "MLmodel"
    mlmodel = yaml.safe_load(spec_file.read_text())
    assert mlmodel["metadata"][scoring_contract.METADATA_KEY] == scoring_contract.VERSION
    assert packaging.load(str(folder)).threshold > 0  # the copy loads as it is
    if packaged is None:
        del mlmodel["metadata"][scoring_contract.METADATA_KEY]
    else:
        mlmodel["metadata"][scoring_contract.METADATA_KEY] = packaged
    spec_file.write_text(yaml.safe_dump(mlmodel))
    words = "version 1;" if packaged else "no version"
    with pytest.raises(scoring_contract.ContractMismatchError, match=f"contract {words}.*retrain"):
        packaging.load(str(folder))


def test_shuffled_label_model_is_registered_but_never_champion(trained, module_env):
    result = train(module_env["settings"], fast_config(shuffle_labels=True, max_trials=1))
    client = MlflowClient()
    assert registry.version_of(client, registry.CHALLENGER) == result.version
    decision = registry.promote(dataset.load(module_env["settings"]))
    assert not decision.promoted
    assert registry.version_of(client, registry.CHAMPION) == "1"
    tags = client.get_model_version(registry.MODEL_NAME, result.version).tags
    assert tags["gate_decision"] == "rejected" and tags["shuffled_labels"] == "true"
    verdicts = {r["rule"]: r["verdict"] for r in json.loads(tags["gate_rules"])}
    # Alone, with no champion to compare with, the floor still keeps it out.
    assert verdicts["auc_floor"] == "fail" and verdicts["auc_vs_champions"] == "fail"


def test_the_gate_records_every_rule_on_the_frozen_rows(trained, module_env):
    client = MlflowClient()
    tags = client.get_model_version(registry.MODEL_NAME, "1").tags
    rules = json.loads(tags["gate_rules"])
    assert [r["rule"] for r in rules] == [
        "evaluation_rows", "auc_floor", "auc_vs_champions", "calibration",
        *(f"fairness_{name}" for name in spec.PROTECTED), "live_shadow",
    ]  # fmt: skip
    assert {r["verdict"] for r in rules} <= {"pass", "warn", "info"}
    assert rules[-1]["message"] == "no live application shadow-scored yet"
    assert all(r["message"] for r in rules)
    model = client.get_registered_model(registry.MODEL_NAME).tags
    run = model[registry.EVALUATION_RUN_TAG]
    frozen = mlflow.artifacts.load_text(f"runs:/{run}/{registry.EVALUATION_ARTIFACT}").split()
    test_ids = dataset.load(module_env["settings"]).part(TEST)[spec.ID_NAME]
    assert sorted(map(int, frozen)) == sorted(test_ids.tolist())
    digest = model["gate_evaluation_digest"]
    assert tags[registry.AUC_TAG_PREFIX + digest] == tags["gate_test_auc"]
    assert float(tags["gate_test_gini"]) == pytest.approx(
        2 * float(tags["gate_test_auc"]) - 1, abs=1e-5
    )
    assert 0 < float(tags["gate_test_ks"]) < 1
    bands = json.loads(tags["gate_pd_bands"])
    assert [b["band"] for b in bands] == list(range(1, 11))
    assert sum(b["rows"] for b in bands) == len(frozen)


def _new_challenger(module_env) -> str:
    """Train and register one more challenger (a small LightGBM)."""
    config = fast_config(families=("lightgbm",), max_trials=1, seed=5)
    return str(train(module_env["settings"], config).version)


def test_lost_evaluation_rows_block_and_new_gold_rows_do_not_move_them(trained, module_env):
    client = MlflowClient()
    champion = registry.version_of(client, registry.CHAMPION)
    challenger = _new_challenger(module_env)
    data = dataset.load(module_env["settings"])
    test = data.frame["split"] == TEST
    half = data.frame[~test | (data.frame.index % 2 == 0)].drop(columns="split")
    lost = registry.promote(dataset.from_frame(half, "half", "duckdb"))
    assert not lost.promoted
    rows = next(r for r in lost.rules if r.rule == "evaluation_rows")
    assert rows.verdict == "fail" and rows.value < 0.9 and "frozen evaluation rows" in lost.reason
    assert registry.version_of(client, registry.CHAMPION) == champion

    # Gold grows: copies of rows under new ids, some of which the hash puts in the test split.
    extra = data.frame.drop(columns="split").head(400).copy()
    extra[spec.ID_NAME] = extra[spec.ID_NAME] + 10**9
    grown = pd.concat([data.frame.drop(columns="split"), extra], ignore_index=True)
    grown_data = dataset.from_frame(grown, "grown", "duckdb")
    assert len(grown_data.part(TEST)) > len(data.part(TEST))
    decision = registry.promote(grown_data)
    rows = next(r for r in decision.rules if r.rule == "evaluation_rows")
    assert rows.value == 1.0 and f"{len(data.part(TEST)):,} of the" in rows.message
    tags = client.get_model_version(registry.MODEL_NAME, challenger).tags
    model = client.get_registered_model(registry.MODEL_NAME).tags
    assert tags["gate_evaluation_digest"] == model["gate_evaluation_digest"]
    test = data.part(TEST)
    scores = packaging.load(f"models:/{registry.MODEL_NAME}/{challenger}").predict_columns(test, 0)
    before = roc_auc_score(test[spec.LABEL_NAME].to_numpy(), scores.probability)
    assert decision.challenger_auc == pytest.approx(before, abs=1e-12)  # rows as before growth


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_the_gate_records_the_challengers_live_shadow_record(trained, module_env):
    challenger = _new_challenger(module_env)
    comparison = pd.DataFrame({
        "prediction_date": ["2026-12-01", "2026-12-02", "2026-12-02"],
        "run_id": ["r", "r", "r"], "model_version": ["1", "1", "1"],
        "shadow_model_version": [challenger, challenger, "99"], "shadowed": [300, 100, 50],
        "decision_agreement": [0.9, 0.8, 0.1], "champion_approval_rate": [0.8, 0.7, 0.5],
        "shadow_approval_rate": [0.82, 0.72, 0.2], "champion_mean_pd": [0.08, 0.09, 0.1],
        "shadow_mean_pd": [0.079, 0.088, 0.3], "mean_absolute_pd_difference": [0.01, 0.02, 0.2],
    })  # fmt: skip
    settings = module_env["settings"]
    with duckdb.connect(str(settings.duckdb_path)) as con:
        con.execute("create schema if not exists monitoring")
        con.register("comparison", comparison)
        con.execute(
            "create or replace table monitoring.monitoring_shadow_comparison as "
            "select * from comparison"
        )
    live = registry.live_comparison(settings, challenger)
    assert live is not None and live["shadowed"] == 400
    assert live["decision_agreement"] == pytest.approx((300 * 0.9 + 100 * 0.8) / 400)
    decision = registry.promote(dataset.load(settings), warehouse_settings=settings)
    record = next(r for r in decision.rules if r.rule == "live_shadow")
    assert record.verdict == "info" and record.value == pytest.approx(0.875)
    assert "on 400 live applications" in record.message
    tags = MlflowClient().get_model_version(registry.MODEL_NAME, challenger).tags
    assert json.loads(tags["gate_rules"])[-1]["rule"] == "live_shadow"
    assert registry.live_comparison(settings, "12345") is None


def test_mlflow_models_serve_answers_invocations(trained, module_env, tmp_path):
    port = _free_port()
    bin_dir = str(Path(sys.executable).parent)
    env = {
        **os.environ,
        **module_env["env"],
        "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    log = (tmp_path / "serve.log").open("w")
    server = subprocess.Popen(
        [f"{bin_dir}/mlflow", "models", "serve", "-m", CHAMPION_URI, "--env-manager", "local",
         "-h", "127.0.0.1", "-p", str(port), "-w", "1"],
        env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 180
        while True:
            assert server.poll() is None, (tmp_path / "serve.log").read_text()
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/ping", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            assert time.monotonic() < deadline, (tmp_path / "serve.log").read_text()
            time.sleep(1)
        raw = _as_clients_send(module_env["raw"].head(20))
        records = [{k: v for k, v in r.items() if v is not None} for r in raw.to_dict("records")]
        records[0]["Client_Income"] = "$"
        body = json.dumps({"dataframe_records": records}).encode()
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/invocations", body, {"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            predictions = json.loads(response.read())["predictions"]
        local = mlflow.pyfunc.load_model(CHAMPION_URI).predict(pd.DataFrame(records))
        assert len(predictions) == 20
        served = np.array([p["pd"] for p in predictions])
        np.testing.assert_allclose(served, local["pd"].to_numpy(), rtol=0, atol=1e-9)
        assert [p["class"] for p in predictions] == local["class"].tolist()
        assert [p["reasons"] for p in predictions] == local["reasons"].tolist()
        assert [p["decision"] for p in predictions] == local["decision"].tolist()
        assert [p["referral_reasons"] for p in predictions] == local["referral_reasons"].tolist()
    finally:
        os.killpg(server.pid, 15)
        server.wait(timeout=30)
        log.close()
