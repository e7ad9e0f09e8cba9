"""Drift end to end: generate, ingest, dbt, train a small champion, score through the real API,
copy the prediction log, build the monitoring models, run the Dagster checks and the sensor.

One base warehouse and champion are built by the whole Dagster graph; each scenario copies the
warehouse (the champion stays in the shared MLflow store), scores a batch through the Flask app
with its own prediction store and runs the monitoring group: a batch from the training
distribution keeps every PSI below 0.10 and requests nothing; a `--shift drift` batch pushes
the shifted features past 0.25, fails the alert check and the sensor requests retraining.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import numpy as np
import pandas as pd
import pytest

from loanops import warehouse
from loanops.generator import generate_book
from loanops.schema import APPLICATION_COLUMNS
from ml import reference
from orchestration import checks, sensors
from orchestration.definitions import ASSETS, RESOURCES
from orchestration.keys import MONITORING
from orchestration.monitoring_checks import (
    ESTIMATE_AGREES,
    FEATURE_PSI_ALERT,
    REALISED_AUC,
    SCORE_PSI_ALERT,
)
from orchestration.pipeline import run_pipeline, training_config
from serving.app import create_app
from tests.orchestration.conftest import free_port, land_book

TRAIN_ROWS = 6000
BATCH_ROWS = 3000
API_KEY = "monitoring-test-key-0123"  # pragma: allowlist secret
SHIFTED = ("client_income", "region_population_relative", "city_rating", "age_years")
CONFIG = training_config(budget_seconds=4.0, max_trials=1, families=["lightgbm"], wait_seconds=0)
MONITOR_JOB = dg.define_asset_job(
    "monitor", selection=dg.AssetSelection.groups(MONITORING), executor_def=dg.in_process_executor
)


@dataclass
class Scenario:
    """What one scored batch did to the monitoring models, checks and the sensor."""

    psi: pd.DataFrame
    checks: dict[str, dg.AssetCheckEvaluation]
    requests: list[dg.RunRequest]
    report: dict[str, dg.MetadataValue]
    settings_env: dict[str, str]


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A warehouse and champion built by the whole Dagster graph on a generated book."""
    root = tmp_path_factory.mktemp("monitoring-base")
    with pytest.MonkeyPatch.context() as patch:
        _environment(patch, root, root / "data")
        (root / "data").mkdir()
        land_book(root / "data", TRAIN_ROWS, 11, "book")
        lines: list[str] = []
        with dg.DagsterInstance.ephemeral() as instance:
            run = run_pipeline(instance, CONFIG, echo=lines.append)
        assert run.success, "\n".join(lines[-40:])
    yield root


def _environment(patch: pytest.MonkeyPatch, root: Path, data: Path) -> None:
    """Point the project at a data folder and the base's MLflow store; no API, no cluster."""
    patch.setenv("LOANOPS_TARGET", "duckdb")
    patch.setenv("LOANOPS_DATA_DIR", str(data))
    patch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{root / 'mlflow.db'}")
    patch.setenv("DBT_LOG_PATH", str(data / "dbt-logs"))
    patch.setenv("LOANOPS_API_URL", f"http://127.0.0.1:{free_port()}")
    for name in ("LOANOPS_DUCKDB_PATH", "LOANOPS_PREDICTION_STORE_URL", "LOANOPS_KUBE_CONTEXT",
                 "DAGSTER_HOME", "PROMETHEUS_MULTIPROC_DIR"):  # fmt: skip
        patch.delenv(name, raising=False)


def _score(root: Path, data: Path, applications: pd.DataFrame) -> int:
    """Score the applications through the real Flask app (batches of 1,000); rows recorded."""
    app = create_app({
        "MLFLOW_TRACKING_URI": f"sqlite:///{root / 'mlflow.db'}",
        "PREDICTION_STORE_URL": f"sqlite:///{data / 'predictions.db'}",
        "API_KEYS": [API_KEY], "ACCESS_LOG": False,
    })  # fmt: skip
    try:
        loader = app.extensions["loanops"].loader
        deadline = time.monotonic() + 120
        while loader.current is None:
            assert time.monotonic() < deadline, f"model did not load: {loader.last_error}"
            time.sleep(0.1)
        sent = applications[list(APPLICATION_COLUMNS)]  # the outcome is not part of an application
        records = sent.astype(object).where(sent.notna(), None).to_dict("records")
        client = app.test_client()
        scored = 0
        for start in range(0, len(records), 1000):
            response = client.post(
                "/v1/predictions/batch",
                json={"applications": records[start : start + 1000]},
                headers={"Authorization": f"Bearer {API_KEY}"},
            )
            assert response.status_code == 200, response.get_data(as_text=True)[:500]
            scored += len(response.get_json()["predictions"])
        return scored
    finally:
        app.extensions["loanops"].close()


def _scenario(base: Path, tmp_path: Path, shift: str | None, seed: int) -> Scenario:
    """Score one batch on a copy of the base warehouse and run the monitoring group."""
    data = tmp_path / "data"
    data.mkdir()
    shutil.copy(base / "data" / "warehouse.duckdb", data / "warehouse.duckdb")
    with pytest.MonkeyPatch.context() as patch:
        _environment(patch, base, data)
        book = generate_book(BATCH_ROWS, seed, first_id=13_000_001, shift=shift)
        assert _score(base, data, book.applications) == BATCH_ROWS
        defs = dg.Definitions(
            assets=ASSETS, asset_checks=checks.ALL, jobs=[MONITOR_JOB], resources=RESOURCES
        )
        with dg.DagsterInstance.ephemeral() as instance:
            result = defs.resolve_job_def("monitor").execute_in_process(instance=instance)
            assert result.success
            evaluations = {
                e.event_specific_data.asset_check_key.to_user_string(): e.event_specific_data
                for e in result.all_events
                if e.event_type_value == "ASSET_CHECK_EVALUATION"
            }
            reports = [
                m for m in result.get_asset_materialization_events()
                if m.asset_key == dg.AssetKey([MONITORING, "drift_report"])
            ]  # fmt: skip
            tick = sensors.retraining(dg.build_sensor_context(instance=instance))
        psi = warehouse.read_frame(None, "select * from monitoring.monitoring_psi")
        psi["psi"] = psi["psi"].astype(float)
        python_psi = _python_psi()
    merged = psi.set_index("feature_name")["psi"]
    for name, value in python_psi.items():  # the SQL bins and sums as ml/reference.py does
        assert abs(merged[name] - value) < 1e-9, (name, merged[name], value)
    metadata = reports[0].materialization.metadata
    return Scenario(psi, evaluations, list(tick.run_requests or []), metadata, {})


def _python_psi() -> dict[str, float]:
    """PSI recomputed in Python from raw.predictions and raw.reference_bins."""
    log = warehouse.read_frame(
        None, "select processed_data, prediction_probability from raw.predictions"
    )
    batch = pd.DataFrame([json.loads(p) for p in log["processed_data"]])
    batch[reference.SCORE_FEATURE] = log["prediction_probability"].astype(float)
    profile = warehouse.read_frame(None, "select * from raw.reference_bins")
    return reference.psi_by_feature(profile, batch)


def _print(title: str, psi: pd.DataFrame) -> None:
    """Show the PSI figures (run with -s)."""
    top = psi.sort_values("psi", ascending=False)
    figures = zip(top["feature_name"], top["psi"], strict=True)
    print(f"\n{title}: " + ", ".join(f"{n} {p:.3f}" for n, p in figures))


@pytest.mark.timeout(1200)
def test_training_distribution_is_stable(base: Path, tmp_path: Path) -> None:
    scenario = _scenario(base, tmp_path, shift=None, seed=21)
    _print("in distribution", scenario.psi)
    assert len(scenario.psi) == 42  # 34 numbers, 7 categories and the score
    assert (scenario.psi["predictions"] == BATCH_ROWS).all()
    assert (scenario.psi["psi"] < 0.10).all(), scenario.psi.sort_values("psi").tail()
    assert (scenario.psi["psi_status"] == "ok").all()
    for key in (FEATURE_PSI_ALERT, SCORE_PSI_ALERT, REALISED_AUC, ESTIMATE_AGREES):
        assert scenario.checks[key.to_user_string()].passed
    assert scenario.checks["monitoring/monitoring_psi:psi_below_warn"].passed
    assert scenario.requests == []
    assert Path(str(scenario.report["path"].value)).stat().st_size > 10_000
    assert "data:image/png;base64," in str(scenario.report["report"].value)
    # before any outcome lands, the PDs alone say what performance to expect
    assert 0.6 < float(np.asarray(scenario.report["expected_roc_auc"].value)) < 1


@pytest.mark.timeout(1200)
def test_shifted_population_fails_the_check_and_requests_retraining(
    base: Path, tmp_path: Path
) -> None:
    scenario = _scenario(base, tmp_path, shift="drift", seed=22)
    _print("shifted", scenario.psi)
    psi = scenario.psi.set_index("feature_name")["psi"]
    assert (psi[list(SHIFTED)] > 0.25).all()
    alert = scenario.checks[FEATURE_PSI_ALERT.to_user_string()]
    assert not alert.passed
    assert alert.severity == dg.AssetCheckSeverity.ERROR
    assert not scenario.checks["monitoring/monitoring_psi:psi_below_warn"].passed
    reasons = {r.tags["loanops/retrain_reason"] for r in scenario.requests}
    assert FEATURE_PSI_ALERT.to_user_string() in reasons
    assert float(np.asarray(scenario.report["max_psi"].value)) > 0.25
