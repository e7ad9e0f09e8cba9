"""The realised-AUC model equals scikit-learn's roc_auc_score, on DuckDB and on PostgreSQL, and
the estimated performance (from the PDs alone) equals ml.metrics.expected_roc_auc.

A generated book is ingested and built by the real dbt project; the prediction log holds scores
rounded to two decimals (so many rows tie), older predictions of some applications that a later
one replaces, applications whose outcome has not landed and ids that are not numbers, for two
model runs. The model's AUC must match scikit-learn on the same rows to 1e-6.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from loanops import settings as settings_module
from loanops import warehouse
from loanops.generator import write_book
from loanops.ingest import ingest_folder
from ml import metrics, reference
from orchestration import tables
from orchestration.assets.monitoring import REFERENCE_COLUMNS, REFERENCE_RELATION
from orchestration.assets.prediction_log import COLUMNS, COPY_RELATION
from orchestration.monitoring_checks import Champion, estimate_result
from tests.dbt.conftest import DbtProject, make_project

ROWS = 1500
RUNS = ("run-a", "run-b")
MODELS = (
    "monitoring_realised_performance", "monitoring_performance_by_band",
    "monitoring_estimated_performance", "monitoring_shadow_comparison",
)  # fmt: skip
SELECT = " ".join(f"+{name}" for name in MODELS)


def _predictions(ids: list[int], run_id: str, labels: pd.Series, seed: int) -> pd.DataFrame:
    """Prediction-log rows: tied scores that carry signal, resends, unlabelled and junk ids."""
    rng = np.random.default_rng(seed)
    y = labels.reindex(ids).fillna(0).to_numpy()
    score = np.clip(0.08 + 0.25 * y + rng.normal(0, 0.12, len(ids)), 0, 1).round(2)
    now = datetime(2026, 11, 27, 12, 0, 0)
    frame = pd.DataFrame({"client_id": [str(i) for i in ids], "prediction_probability": score})
    frame["prediction_timestamp"] = now
    older = frame.iloc[:150].assign(  # replaced by the later prediction of the same application
        prediction_probability=rng.random(150).round(2), prediction_timestamp=now - timedelta(1)
    )
    unlabelled = pd.DataFrame({"client_id": [str(10**9 + i) for i in range(40)]})
    junk = pd.DataFrame({"client_id": ["abc", "12x", None]})
    extra = pd.concat([unlabelled, junk]).assign(
        prediction_probability=0.5, prediction_timestamp=now
    )
    rows = pd.concat([frame, older, extra], ignore_index=True)
    rows["prediction_id"] = [
        str(uuid.UUID(int=int(rng.integers(2**62)) + i)) for i in range(len(rows))
    ]
    rows["predicted_class"] = (rows["prediction_probability"] >= 0.1).astype(int)
    constants = {
        "request_id": "r", "run_id": run_id, "input_raw_data": "{}", "processed_data": "{}",
        "threshold": 0.1, "reason_codes": "[]", "model_name": "loan-default",
        "model_version": run_id[-1], "latency_ms": 1.0, "referral_reasons": "[]",
        "decision_policy": '{"version": 1}', "batch_id": None, "points": None,
    }  # fmt: skip
    rows["decision"] = np.where(rows["predicted_class"] == 1, "decline", "approve")
    # a challenger shadowed every other application
    shadowed = np.arange(len(rows)) % 2 == 0
    shadow = np.clip(rows["prediction_probability"].to_numpy() + 0.04, 0, 1).round(2)
    rows["shadow_model_version"] = np.where(shadowed, "9", None)
    rows["shadow_probability"] = np.where(shadowed, shadow, np.nan)
    rows["shadow_decision"] = np.where(
        shadowed, np.where(shadow >= 0.1, "decline", "approve"), None
    )
    return rows.assign(**constants)[list(COLUMNS)]


def _score_profile(run_id: str, scores: np.ndarray) -> pd.DataFrame:
    """A reference profile with score bins only (enough for the score bands)."""
    profile = reference.build(pd.DataFrame(index=range(len(scores))), scores, [], [])
    return profile.assign(run_id=run_id, model_version=run_id[-1], copied_at=datetime(2026, 1, 1))


@pytest.fixture(scope="module", params=["duckdb", "postgres"])
def built(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[DbtProject, dict[str, pd.DataFrame]]]:
    target = request.param
    tmp = tmp_path_factory.mktemp(f"auc-{target}")
    env = {"LOANOPS_TARGET": target, "LOANOPS_DUCKDB_PATH": str(tmp / "warehouse.duckdb")}
    if target == "postgres":
        import psycopg

        server = request.getfixturevalue("postgres")
        database = f"auc_{tmp.name.replace('-', '_').lower()}"
        with psycopg.connect(settings_module.postgres_dsn(server.env), autocommit=True) as con:
            con.execute(f"create database {database}")
        env |= {**server.env, "LOANOPS_PG_DATABASE": database}
    project = make_project(tmp, env)
    written = write_book(tmp / "landing", ROWS, 5, name="auc")
    with pytest.MonkeyPatch.context() as patch:
        for key, value in env.items():
            if key.startswith("LOANOPS_"):
                patch.setenv(key, value)
        settings = settings_module.load()
        assert all(r.status == "loaded" for r in ingest_folder(settings, Path(tmp / "landing")))
        project.run("build")  # the whole project, monitoring models empty
        outcomes = warehouse.read_frame(
            settings, "select application_id, is_default from silver.silver_outcomes"
        )
        labels = outcomes.set_index("application_id")["is_default"].astype(int)
        ids = sorted(int(i) for i in labels.index)
        logs = [_predictions(ids, run, labels, seed) for seed, run in enumerate(RUNS)]
        tables.write(settings, COPY_RELATION, pd.concat(logs), COLUMNS, replace=True)
        profiles = [_score_profile(run, log["prediction_probability"].to_numpy())
                    for run, log in zip(RUNS, logs, strict=True)]  # fmt: skip
        tables.write(settings, REFERENCE_RELATION, pd.concat(profiles), REFERENCE_COLUMNS,
                     replace=True)  # fmt: skip
        project.run("build", "--select", SELECT)
        frames = {
            name: warehouse.read_frame(settings, f"select * from monitoring.{name}")
            for name in MODELS
        }
    assert len(written.files) == 2
    frames["labels"] = labels.rename("is_default").reset_index()
    frames["log"] = pd.concat(logs, ignore_index=True)
    yield project, frames


def _expected(log: pd.DataFrame, labels: pd.DataFrame) -> pd.DataFrame:
    """The same rows in pandas: each run's latest prediction of each labelled application."""
    rows = log[log["client_id"].fillna("").str.fullmatch(r"[0-9]+")].copy()
    rows["application_id"] = rows["client_id"].astype("int64")
    rows = rows.sort_values(["prediction_timestamp", "prediction_id"])
    latest = rows.groupby(["run_id", "application_id"]).tail(1)
    return latest.merge(labels, on="application_id")


def test_realised_auc_equals_sklearn(built):
    _, frames = built
    expected = _expected(frames["log"], frames["labels"])
    performance = frames["monitoring_realised_performance"].set_index("run_id")
    assert sorted(performance.index) == list(RUNS)
    for run, rows in expected.groupby("run_id"):
        sklearn_auc = roc_auc_score(rows["is_default"], rows["prediction_probability"])
        row = performance.loc[run]
        print(f"{run}: SQL AUC {float(row['roc_auc']):.10f}, sklearn {sklearn_auc:.10f}")
        assert abs(float(row["roc_auc"]) - sklearn_auc) < 1e-6
        assert int(row["scored_rows"]) == len(rows)
        assert int(row["defaulted"]) == int(rows["is_default"].sum())
        assert rows["prediction_probability"].duplicated().sum() > len(rows) / 2  # ties exercised


def test_default_rate_and_calibration_by_band(built):
    _, frames = built
    bands = frames["monitoring_performance_by_band"]
    expected = _expected(frames["log"], frames["labels"])
    for run, rows in expected.groupby("run_id"):
        mine = bands[bands["run_id"] == run]
        assert int(mine["scored_rows"].sum()) == len(rows)
        assert mine["score_bin_index"].notna().all()
        rate = mine["defaulted"].astype(float) / mine["scored_rows"].astype(float)
        assert np.allclose(rate, mine["default_rate"].astype(float))
        gap = mine["mean_probability_of_default"].astype(float) - rate
        assert np.allclose(gap, mine["calibration_gap"].astype(float))


def test_estimated_auc_per_day_equals_the_python_estimate(built):
    _, frames = built
    log = frames["log"].copy()
    log["prediction_date"] = pd.to_datetime(log["prediction_timestamp"]).dt.date
    estimated = frames["monitoring_estimated_performance"]
    estimated["prediction_date"] = pd.to_datetime(estimated["prediction_date"]).dt.date
    found = estimated.set_index(["run_id", "prediction_date"])
    groups = log.groupby(["run_id", "prediction_date"])
    assert len(found) == groups.ngroups == 2 * len(RUNS)  # two days a run: resends came earlier
    for (run, day), rows in groups:
        row = found.loc[(run, day)]
        pds = rows["prediction_probability"].to_numpy("float64")
        assert int(row["predictions"]) == len(rows)
        assert float(row["expected_default_rate"]) == pytest.approx(pds.mean(), abs=1e-12)
        assert float(row["expected_roc_auc"]) == pytest.approx(
            metrics.expected_roc_auc(pds), abs=1e-9
        )


def test_realised_performance_carries_the_estimate_on_the_same_rows(built):
    _, frames = built
    expected = _expected(frames["log"], frames["labels"])
    performance = frames["monitoring_realised_performance"].set_index("run_id")
    for run, rows in expected.groupby("run_id"):
        estimate = metrics.expected_roc_auc(rows["prediction_probability"].to_numpy("float64"))
        assert float(performance.loc[run, "estimated_roc_auc"]) == pytest.approx(estimate, abs=1e-9)


def test_the_calibration_check_fires_on_scores_that_are_not_probabilities(built):
    # The log's scores rank defaults well (0.08 + 0.25 x default + noise) but are no PDs: they
    # promise a much lower ROC-AUC than the outcomes give.
    _, frames = built
    performance = frames["monitoring_realised_performance"].set_index("run_id")
    for run in RUNS:
        row = performance.loc[run]
        result = estimate_result(row, Champion(version=run[-1], run_id=run, test_auc=0.8))
        assert not result.passed, result.metadata
        assert float(row["roc_auc"]) - float(row["estimated_roc_auc"]) > 0.1


def test_shadow_comparison_equals_pandas(built):
    _, frames = built
    log = frames["log"]
    log = log[log["shadow_model_version"].notna()].copy()
    log["prediction_date"] = pd.to_datetime(log["prediction_timestamp"]).dt.date
    log["same"] = log["decision"] == log["shadow_decision"]
    found = frames["monitoring_shadow_comparison"]
    found["prediction_date"] = pd.to_datetime(found["prediction_date"]).dt.date
    found = found.set_index(["run_id", "prediction_date"])
    groups = log.groupby(["run_id", "prediction_date"])
    assert len(found) == groups.ngroups
    for (run, day), rows in groups:
        row = found.loc[(run, day)]
        assert row["shadow_model_version"] == "9" and int(row["shadowed"]) == len(rows)
        assert float(row["decision_agreement"]) == pytest.approx(rows["same"].mean())
        approve = (rows["shadow_decision"] == "approve").mean()
        assert float(row["shadow_approval_rate"]) == pytest.approx(approve)
        gap = (rows["shadow_probability"] - rows["prediction_probability"]).abs().mean()
        assert float(row["mean_absolute_pd_difference"]) == pytest.approx(gap)
    assert 0 < float(found["decision_agreement"].min()) < 1  # both kinds of answer occur
