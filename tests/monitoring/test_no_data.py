"""No data is not a pass; the store's schema setting; the shared-mode SQL compiles to T-SQL."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import dagster as dg
import pandas as pd
import pytest

from loanops.settings import REPO_ROOT
from orchestration.monitoring_checks import (
    MIN_PREDICTIONS,
    WINDOW_DAYS,
    psi_result,
    requests_retraining,
)
from serving.store.tables import store_schema
from tests.dbt.conftest import make_project
from tests.dbt.test_tsql import _problems

TODAY = date(2026, 3, 10)
ERROR = dg.AssetCheckSeverity.ERROR
FEATURES = ("numeric", "category")


def psi_rows(day: str, predictions: int, psi: float) -> pd.DataFrame:
    """monitoring_psi rows of one day: one feature and the score."""
    status = "alert" if psi >= 0.25 else "warn" if psi >= 0.10 else "ok"
    return pd.DataFrame({
        "prediction_date": [day, day], "predictions": [predictions, predictions],
        "feature_name": ["client_income", "probability_of_default"],
        "feature_kind": ["numeric", "score"], "psi": [psi, 0.01], "psi_status": [status, "ok"],
    })  # fmt: skip


def evaluate(frame: pd.DataFrame) -> dg.AssetCheckResult:
    """The feature alert check's verdict on the frame, today being TODAY."""
    return psi_result(frame, FEATURES, ("alert",), "7", ERROR, TODAY)


@pytest.mark.parametrize(
    ("frame", "reason"),
    [
        (pd.DataFrame(), "no predictions of champion version 7 in the monitoring models"),
        (
            psi_rows("2026-03-06", 5000, 0.9),
            f"no predictions of champion version 7 in the last {WINDOW_DAYS} days before "
            "2026-03-10 (latest on 2026-03-06)",
        ),
        (
            psi_rows("2026-03-10", MIN_PREDICTIONS - 1, 0.9),
            f"{MIN_PREDICTIONS - 1} predictions on 2026-03-10: fewer than {MIN_PREDICTIONS}",
        ),
    ],
)
def test_nothing_to_judge_is_a_failed_warning(frame: pd.DataFrame, reason: str) -> None:
    result = evaluate(frame)
    assert result.passed is False
    assert result.severity == dg.AssetCheckSeverity.WARN
    assert result.metadata["status"].value == "no data"
    assert reason in str(result.metadata["reason"].value)
    assert "docs/monitoring.md" in str(result.metadata["help"].value)


@pytest.mark.parametrize(("day", "psi", "passed"), [("2026-03-07", 0.05, True),
                                                    ("2026-03-10", 0.30, False)])  # fmt: skip
def test_judged_days_keep_the_checks_severity(day: str, psi: float, passed: bool) -> None:
    result = evaluate(psi_rows(day, MIN_PREDICTIONS, psi))
    assert result.passed is passed
    assert result.severity == ERROR
    assert "status" not in result.metadata


def _evaluation(result: dg.AssetCheckResult) -> dg.AssetCheckEvaluation:
    """The evaluation Dagster records for a result of the feature alert check."""
    key = dg.AssetCheckKey(dg.AssetKey(["monitoring", "monitoring_psi"]), "x")
    return dg.AssetCheckEvaluation(
        asset_key=key.asset_key, check_name=key.name, passed=bool(result.passed),
        metadata={}, severity=result.severity,
    )  # fmt: skip


def test_only_a_judged_error_requests_retraining() -> None:
    drifted = _evaluation(evaluate(psi_rows("2026-03-10", MIN_PREDICTIONS, 0.30)))
    silent = _evaluation(evaluate(pd.DataFrame()))
    stable = _evaluation(evaluate(psi_rows("2026-03-10", MIN_PREDICTIONS, 0.05)))
    assert requests_retraining(drifted)
    assert not requests_retraining(silent)
    assert not requests_retraining(stable)
    assert not requests_retraining(None)


@pytest.mark.parametrize(
    ("value", "schema"), [("", None), ("  ", None), ("serving", "serving"), ("_ml2", "_ml2")]
)
def test_store_schema_setting(value: str, schema: str | None) -> None:
    assert store_schema({"LOANOPS_STORE_SCHEMA": value}) == schema


@pytest.mark.parametrize("value", ["serving.predictions", "2fast", "drop table x;--", "a-b"])
def test_a_bad_store_schema_is_refused_by_name(value: str) -> None:
    with pytest.raises(ValueError, match=r"LOANOPS_STORE_SCHEMA=.*is not a schema name"):
        store_schema({"LOANOPS_STORE_SCHEMA": value})


def test_a_schema_setting_with_a_sqlite_store_is_a_clear_error(tmp_path: Path) -> None:
    code = "import sys; from serving.store import migrate; migrate.upgrade(sys.argv[1])"
    done = subprocess.run(
        [sys.executable, "-c", code, f"sqlite:///{tmp_path / 'predictions.db'}"],
        cwd=REPO_ROOT, capture_output=True, text=True,
        env={**os.environ, "LOANOPS_STORE_SCHEMA": "serving"},
    )  # fmt: skip
    assert done.returncode != 0
    assert "LOANOPS_STORE_SCHEMA='serving' names a schema, but the prediction store is SQLite" in (
        done.stderr
    )


def test_shared_mode_compiles_to_portable_tsql(tmp_path: Path) -> None:
    project = make_project(tmp_path, {"LOANOPS_TARGET": "azure_sql"})
    shared = {"offline_compile": True, "prediction_log_schema": "dbo",
              "prediction_log_table": "predictions"}  # fmt: skip
    project.run(
        "compile", "--no-introspect", "--no-populate-cache", "--vars", json.dumps(shared),
        "--select", "monitoring_predictions",
    )  # fmt: skip
    folder = project.target_path / "compiled" / "loanops" / "dbt_project" / "models"
    sql = (folder / "monitoring" / "monitoring_predictions.sql").read_text()
    assert '"dbo"."predictions"' in sql
    assert "switchoffset(prediction_timestamp, '+00:00')" in sql
    assert _problems(sql) == []
