"""The whole graph in-process on a small generated book; then a bad row stops training."""

from __future__ import annotations

import time
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from mlflow import MlflowClient

from loanops import warehouse
from ml import registry, tracking
from orchestration.pipeline import PipelineRun, run_pipeline, training_config
from tests.orchestration.conftest import land_book

ROWS = 3000
# A tiny training budget: the test proves the wiring, the ML tests prove the model.
CONFIG = training_config(
    budget_seconds=4.0, max_trials=2, families=["logistic", "lightgbm"], wait_seconds=0
)


@pytest.fixture
def first_run(orchestration_env: Path) -> tuple[PipelineRun, list[str]]:
    land_book(orchestration_env, ROWS, 11, "book")
    lines: list[str] = []
    with dg.DagsterInstance.ephemeral() as instance:
        started = time.perf_counter()
        run = run_pipeline(instance, CONFIG, echo=lines.append)
        print(f"in-process materialisation of {ROWS} rows: {time.perf_counter() - started:.1f} s")
    return run, lines


def _champion() -> str | None:
    from loanops import settings

    tracking.configure(settings.load())
    return registry.version_of(MlflowClient(), registry.CHAMPION)


@pytest.mark.timeout(900)
def test_whole_graph_then_a_bad_row_stops_training(first_run, orchestration_env):
    run, lines = first_run
    assert run.success, "\n".join(lines[-40:])
    materialised = {key.to_user_string() for key in run.materialised()}
    expected = {
        "raw/applications", "raw/outcomes", "raw/load_log", "bronze/bronze_applications",
        "silver/silver_applications", "gold/gold_application_features",
        "gold/gold_scoring_features", "model/challenger", "model/champion",
        "model/batch_scores", "serving/deployment", "raw/predictions",
    }  # fmt: skip
    assert expected <= materialised
    evaluations = run.check_results()
    assert len(evaluations) > 30  # the 37 dbt data tests, freshness and the quality gate
    # The new champion has answered nothing yet: the monitoring checks report "no data" as a
    # WARN failure (not a pass, not drift), and every other check passes.
    failed = [e for e in evaluations if not e.passed]
    assert {"score_psi_below_alert", "feature_psi_below_alert"} <= {e.check_name for e in failed}
    for evaluation in failed:
        assert evaluation.severity == dg.AssetCheckSeverity.WARN, evaluation.check_name
        assert evaluation.metadata["status"].value == "no data", evaluation.check_name
    assert {"freshness", "quality_gate"} <= {e.check_name for e in evaluations}
    assert _champion() == "1"
    scores = warehouse.read_frame(
        None,
        "select count(*) as n, count(distinct application_id) as ids, min(model_version) as v,"
        " min(probability_of_default) as lo, max(probability_of_default) as hi"
        " from scores.batch_scores",
    ).iloc[0]
    assert (scores["n"], scores["ids"], scores["v"]) == (ROWS, ROWS, "1")
    assert 0.0 <= scores["lo"] < scores["hi"] <= 1.0
    assert any(line.startswith("> model__challenger") for line in lines)  # progress was shown

    # A row that bypassed ingest (no load id) breaks an error-severity dbt source test.
    with duckdb.connect(str(orchestration_env / "warehouse.duckdb")) as con:
        con.execute("insert into raw.applications (id, _load_id) values ('999', null)")
    with dg.DagsterInstance.ephemeral() as instance:
        bad = run_pipeline(instance, CONFIG, echo=lines.append)
    assert not bad.success
    failed = {e.check_name for e in bad.check_results() if not e.passed}
    assert "source_not_null_raw_applications__load_id" in failed
    stopped = {key.to_user_string() for key in bad.materialised()}
    assert not stopped & {"bronze/bronze_applications", "model/challenger", "model/champion"}
    started = {e.step_key for e in bad.result.all_events if e.event_type_value == "STEP_START"}
    assert "dbt_models" in started and "model__challenger" not in started
    assert _champion() == "1"  # still the first model: nothing was trained on the bad data
