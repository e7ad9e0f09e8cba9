"""Monitoring reads the decisions where they are: the store's own table when it shares the
warehouse database (PostgreSQL here, Azure SQL in production), the copy raw.predictions beside
DuckDB; and a champion without predictions in the window is a failed WARN check, not a pass.

Each test writes decisions through the real prediction store (its Alembic migrations and
inserts), registers a champion in a real MLflow store, and runs the real Dagster assets: the
prediction log, the dbt monitoring models (dbt on PostgreSQL or DuckDB) and their checks.
"""

from __future__ import annotations

import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import dagster as dg
import numpy as np
import pandas as pd
import psycopg
import pytest
from mlflow import MlflowClient

from loanops import settings as settings_module
from loanops import warehouse
from loanops.settings import REPO_ROOT
from ml import reference, registry
from orchestration import checks, tables
from orchestration.assets.monitoring import REFERENCE_COLUMNS, REFERENCE_RELATION
from orchestration.definitions import ASSETS, RESOURCES
from orchestration.keys import MONITORING, PREDICTION_LOG
from orchestration.monitoring_checks import PSI_WARN, SCORE_PSI_ALERT, requests_retraining
from tests.monitoring.store_rows import OLD, decisions, record
from tests.orchestration.conftest import free_port

MODELS = ("predictions", "daily_predictions", "reference_bins", "binned_values", "bin_shares",
          "psi")  # fmt: skip
JOB = dg.define_asset_job(
    "monitor_log",
    selection=dg.AssetSelection.assets(
        PREDICTION_LOG, *(dg.AssetKey([MONITORING, f"monitoring_{m}"]) for m in MODELS)
    ),
    executor_def=dg.in_process_executor,
)


def champion_run(tracking_uri: str) -> str:
    """Register version 1 of the model as champion, on an empty run; its run id."""
    client = MlflowClient(tracking_uri, tracking_uri)
    experiment = client.create_experiment("monitoring-shared-store")
    run = client.create_run(experiment)
    client.set_terminated(run.info.run_id)
    client.create_registered_model(registry.MODEL_NAME)
    version = client.create_model_version(
        registry.MODEL_NAME, f"runs:/{run.info.run_id}/model", run.info.run_id
    )
    client.set_registered_model_alias(registry.MODEL_NAME, registry.CHAMPION, version.version)
    return run.info.run_id


def score_profile(run_id: str) -> pd.DataFrame:
    """A reference profile of the score only, as raw/reference_bins writes it."""
    scores = np.linspace(0.01, 0.9, 500)
    profile = reference.build(pd.DataFrame(index=range(len(scores))), scores, [], [])
    return profile.assign(run_id=run_id, model_version="1", copied_at=datetime(2026, 1, 1))


def run_monitoring() -> tuple[dg.ExecuteInProcessResult, dict[str, dg.AssetCheckEvaluation]]:
    """The prediction log, the monitoring models and their checks, as Dagster runs them."""
    defs = dg.Definitions(assets=ASSETS, asset_checks=checks.ALL, jobs=[JOB], resources=RESOURCES)
    with dg.DagsterInstance.ephemeral() as instance:
        result = defs.resolve_job_def(JOB.name).execute_in_process(instance=instance)
    evaluations = {
        e.event_specific_data.asset_check_key.to_user_string(): e.event_specific_data
        for e in result.all_events
        if e.event_type_value == "ASSET_CHECK_EVALUATION"
    }
    return result, evaluations


@pytest.fixture
def project_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An isolated data folder, MLflow store and dbt log folder; no API or cluster."""
    data = tmp_path / "data"
    data.mkdir()
    monkeypatch.setenv("LOANOPS_DATA_DIR", str(data))
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    monkeypatch.setenv("DBT_LOG_PATH", str(tmp_path / "dbt-logs"))
    monkeypatch.setenv("LOANOPS_API_URL", f"http://127.0.0.1:{free_port()}")
    for name in ("LOANOPS_DUCKDB_PATH", "LOANOPS_PREDICTION_STORE_URL", "LOANOPS_KUBE_CONTEXT",
                 "DAGSTER_HOME", "LOANOPS_STORE_SCHEMA"):  # fmt: skip
        monkeypatch.delenv(name, raising=False)
    return tmp_path


@pytest.fixture
def shared_database(project_env: Path, postgres, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A fresh PostgreSQL database that is both the warehouse and the prediction store."""
    database = f"shared_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(settings_module.postgres_dsn(postgres.env), autocommit=True) as con:
        con.execute(f"create database {database}")
    for key, value in {**postgres.env, "LOANOPS_PG_DATABASE": database}.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("LOANOPS_TARGET", "postgres")
    monkeypatch.setenv("PGTZ", "America/New_York")  # libpq's session time zone, dbt's too
    url = f"postgresql+psycopg://postgres@127.0.0.1:{postgres.port}/{database}"
    monkeypatch.setenv("LOANOPS_PREDICTION_STORE_URL", url)
    yield url
    with psycopg.connect(settings_module.postgres_dsn(postgres.env), autocommit=True) as con:
        con.execute(f"drop database if exists {database} with (force)")


def _counted(settings: settings_module.Settings) -> pd.DataFrame:
    """monitoring_daily_predictions: predictions per run and UTC date."""
    frame = warehouse.read_frame(
        settings, "select run_id, prediction_date, predictions from "
        "monitoring.monitoring_daily_predictions"
    )  # fmt: skip
    frame["prediction_date"] = pd.to_datetime(frame["prediction_date"]).dt.date.astype(str)
    frame["predictions"] = frame["predictions"].astype(int)
    return frame.sort_values(["run_id", "prediction_date"]).reset_index(drop=True)


def _expected(rows: list[dict]) -> pd.DataFrame:
    """The same count from the rows the store was given."""
    frame = pd.DataFrame({
        "run_id": [r["run_id"] for r in rows],
        "prediction_date": [r["prediction_timestamp"].astimezone(UTC).date().isoformat()
                            for r in rows],
    })  # fmt: skip
    counted = frame.groupby(["run_id", "prediction_date"]).size().rename("predictions")
    return counted.reset_index().sort_values(["run_id", "prediction_date"]).reset_index(drop=True)


def _assert_no_data_warning(evaluation: dg.AssetCheckEvaluation, latest: str) -> None:
    """A failed WARN evaluation that names the missing data and the latest date found."""
    reason = str(evaluation.metadata["reason"].value)
    assert not evaluation.passed
    assert evaluation.severity == dg.AssetCheckSeverity.WARN
    assert evaluation.metadata["status"].value == "no data"
    assert "no predictions of champion version 1 in the last 3 days" in reason, reason
    assert f"latest on {latest}" in reason, reason
    assert not requests_retraining(evaluation)


@pytest.mark.timeout(900)
def test_shared_database_monitoring_reads_the_store_table(shared_database: str, project_env):
    tracking_uri = f"sqlite:///{project_env / 'mlflow.db'}"
    champion = champion_run(tracking_uri)
    now = datetime.now(UTC).replace(microsecond=0)
    rows = decisions(champion, [OLD, OLD + timedelta(minutes=1), OLD + timedelta(hours=1)], 101)
    rows += decisions("run-other", [now - timedelta(minutes=m) for m in range(4)], 201)
    record(shared_database, rows)  # the API's migrations and write path, in the public schema
    settings = settings_module.load()
    tables.write(settings, REFERENCE_RELATION, score_profile(champion), REFERENCE_COLUMNS,
                 replace=True)  # fmt: skip

    result, evaluations = run_monitoring()

    assert result.success
    log = result.asset_materializations_for_node("raw__predictions")[0].metadata
    assert log["mode"].value == "shared database"
    assert log["copied_rows"].value == 0
    assert log["dagster/relation_identifier"].value == "public.predictions"
    assert not tables.exists(settings, "raw.predictions")  # nothing was copied anywhere
    seen = warehouse.read_frame(
        settings, "select prediction_id, predicted_at from monitoring.monitoring_predictions"
    )
    assert sorted(seen["prediction_id"]) == sorted(str(r["prediction_id"]) for r in rows)
    stamps = dict(zip(seen["prediction_id"], pd.to_datetime(seen["predicted_at"]), strict=True))
    for row in rows:  # naive UTC, whatever the session's time zone
        assert stamps[str(row["prediction_id"])] == pd.Timestamp(row["prediction_timestamp"]
                                                                 ).tz_convert(None)  # fmt: skip
    pd.testing.assert_frame_equal(_counted(settings), _expected(rows))
    # The champion's only predictions are months old: no data in the window, not a pass.
    for key in (PSI_WARN, SCORE_PSI_ALERT):
        _assert_no_data_warning(evaluations[key.to_user_string()], "2026-01-05")


# The API and the migrations read LOANOPS_STORE_SCHEMA when they start; so does this process.
WRITE_IN_SCHEMA = """
import sys
from datetime import datetime, UTC
from tests.monitoring.store_rows import OLD, decisions, record
record(sys.argv[1], decisions(sys.argv[2], [OLD, datetime.now(UTC)], 301))
"""


@pytest.mark.timeout(900)
def test_an_explicit_store_schema_is_created_and_read(
    shared_database: str, project_env, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("LOANOPS_STORE_SCHEMA", "serving")
    tracking_uri = f"sqlite:///{project_env / 'mlflow.db'}"
    champion = champion_run(tracking_uri)
    subprocess.run(
        [sys.executable, "-c", WRITE_IN_SCHEMA, shared_database, champion],
        cwd=REPO_ROOT, check=True, capture_output=True, text=True,
    )  # fmt: skip
    settings = settings_module.load()
    placed = warehouse.read_frame(
        settings, "select table_schema, table_name from information_schema.tables "
        "where table_name in ('predictions', 'alembic_version') order by table_name"
    )  # fmt: skip
    assert placed.values.tolist() == [["serving", "alembic_version"], ["serving", "predictions"]]

    result, _ = run_monitoring()

    assert result.success
    log = result.asset_materializations_for_node("raw__predictions")[0].metadata
    assert log["dagster/relation_identifier"].value == "serving.predictions"
    counted = _counted(settings)
    assert counted["predictions"].tolist() == [1, 1]
    assert counted["prediction_date"].iloc[0] == "2026-01-05"


@pytest.mark.timeout(900)
def test_embedded_mode_copies_and_counts(project_env, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("LOANOPS_TARGET", "duckdb")
    data = project_env / "data"
    now = datetime.now(UTC).replace(microsecond=0)
    rows = decisions("run-a", [OLD, OLD + timedelta(hours=2)], 401)
    rows += decisions("run-b", [now - timedelta(seconds=s) for s in range(3)], 501)
    record(f"sqlite:///{data / 'predictions.db'}", rows)  # the default store beside DuckDB

    result, evaluations = run_monitoring()

    assert result.success
    log = result.asset_materializations_for_node("raw__predictions")[0].metadata
    assert log["mode"].value == "copied"
    assert log["copied_rows"].value == len(rows)
    settings = settings_module.load()
    copied = warehouse.read_frame(settings, "select prediction_id from raw.predictions")
    assert sorted(copied["prediction_id"]) == sorted(str(r["prediction_id"]) for r in rows)
    pd.testing.assert_frame_equal(_counted(settings), _expected(rows))
    # No champion is registered: the PSI checks say so instead of passing.
    evaluation = evaluations[PSI_WARN.to_user_string()]
    assert not evaluation.passed and evaluation.severity == dg.AssetCheckSeverity.WARN
    assert "no champion" in str(evaluation.metadata["reason"].value)
