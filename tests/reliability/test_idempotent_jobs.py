"""Re-running every job changes nothing: dbt build, `loanops promote` and the batch scores.

One small generated book is ingested (`loanops ingest`) into a throw-away DuckDB warehouse, then
each job runs twice on the same inputs and the second run must leave what the first one left:
- `dbt build` twice: the same row count in every bronze, silver and gold relation and the same
  gold contents (every column but dbt's invocation id, row by row);
- `loanops train` once, then `loanops promote` twice: the champion stays the same version and
  no version is registered by the second gate;
- the Dagster asset `model/batch_scores` (the batch scoring job) materialised twice: one row per
  application each time, with the same probabilities, classes and model version.

Already covered elsewhere, so not repeated here: ingesting the same folder again is a no-op
(tests/ingest/test_land.py::test_rerun_is_a_no_op_and_new_files_add_only_their_rows); the same
landing file never triggers a second run (tests/orchestration/test_sensors.py); a second batch
makes the incremental models process only its rows (tests/dbt/test_warehouse.py).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import dagster as dg
import duckdb
import pandas as pd
import pytest
from mlflow import MlflowClient

from loanops.generator import write_book
from tests.dbt.conftest import DbtProject, make_project

ROWS = 2_000
BIN = Path(sys.executable).parent
LAYERS = ("bronze", "silver", "gold")
NOT_CONTENT = {"dbt_invocation_id"}  # which build wrote a row, not what the row says


def _cli(env: dict[str, str], *args: str) -> str:
    """Run `loanops <args>` as an operator would; its output (fails the test on a bad exit)."""
    done = subprocess.run([str(BIN / "loanops"), *args], env=env, capture_output=True, text=True)
    assert done.returncode == 0, (
        f"loanops {' '.join(args)}:\n{done.stdout[-3000:]}{done.stderr[-3000:]}"
    )
    return done.stdout + done.stderr


def _counts(database: Path) -> dict[str, int]:
    with duckdb.connect(str(database), read_only=True) as con:
        relations = con.execute(
            "select table_schema, table_name from information_schema.tables "
            f"where table_schema in {LAYERS} order by 1, 2"
        ).fetchall()
        return {
            f"{s}.{t}": con.execute(f'select count(*) from "{s}"."{t}"').fetchone()[0]
            for s, t in relations
        }


def _gold(database: Path) -> dict[str, pd.DataFrame]:
    with duckdb.connect(str(database), read_only=True) as con:
        tables = [t for (t,) in con.execute(
            "select table_name from information_schema.tables where table_schema = 'gold' "
            "order by 1").fetchall()]  # fmt: skip
        out = {}
        for table in tables:
            frame = con.execute(f"select * from gold.{table}").df()
            keep = [c for c in frame.columns if c not in NOT_CONTENT]
            out[table] = frame[keep].sort_values(keep[0]).reset_index(drop=True)
        return out


def _scores(database: Path) -> pd.DataFrame:
    with duckdb.connect(str(database), read_only=True) as con:
        return con.execute(
            "select application_id, probability_of_default, predicted_class, model_version "
            "from scores.batch_scores order by application_id"
        ).df()


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> DbtProject:
    """Environment for a warehouse, MLflow store and dbt output of our own, with a book landed."""
    env = {
        "LOANOPS_TARGET": "duckdb",
        "LOANOPS_DUCKDB_PATH": str(tmp_path / "data" / "warehouse.duckdb"),
        "MLFLOW_TRACKING_URI": f"sqlite:///{tmp_path / 'mlflow.db'}",
    }
    project = make_project(tmp_path, env)
    for key in ("LOANOPS_DATA_DIR", "LOANOPS_TARGET", "LOANOPS_DUCKDB_PATH", "MLFLOW_TRACKING_URI"):
        monkeypatch.setenv(key, project.env[key])  # for the in-process Dagster asset
    for key in ("LOANOPS_LANDING_DIR", "LOANOPS_PREDICTION_STORE_URL", "DAGSTER_HOME"):
        monkeypatch.delenv(key, raising=False)
        project.env.pop(key, None)
    write_book(Path(project.env["LOANOPS_DATA_DIR"]) / "landing", ROWS, 5, name="book")
    return project


@pytest.mark.timeout(600)
def test_every_job_run_twice_changes_nothing(project):
    book_env = project.env
    database = Path(book_env["LOANOPS_DUCKDB_PATH"])
    _cli(book_env, "ingest")

    # dbt build twice on the same raw rows.
    project.run("build")
    counts, gold = _counts(database), _gold(database)
    project.run("build")
    assert _counts(database) == counts
    assert {"gold_application_features", "gold_scoring_features"} <= set(gold)
    assert counts["gold.gold_scoring_features"] > 0
    again = _gold(database)
    assert set(again) == set(gold)
    for table, frame in gold.items():
        pd.testing.assert_frame_equal(again[table], frame, check_exact=True, obj=f"gold.{table}")

    # Train once, then the promotion gate twice.
    _cli(book_env, "train", "--families", "lightgbm", "--budget-seconds", "4", "--max-trials", "1")
    first = _cli(book_env, "promote")
    client = MlflowClient(book_env["MLFLOW_TRACKING_URI"], book_env["MLFLOW_TRACKING_URI"])
    champion = client.get_model_version_by_alias("loan-default", "champion").version
    versions = sorted(v.version for v in client.search_model_versions("name = 'loan-default'"))
    second = _cli(book_env, "promote")
    assert client.get_model_version_by_alias("loan-default", "champion").version == champion
    assert sorted(v.version for v in client.search_model_versions("name = 'loan-default'")) == (
        versions
    )
    print(f"first gate: {first.strip()[-300:]}\nsecond gate: {second.strip()[-300:]}")

    # The batch scoring asset twice.
    from orchestration.assets.ml import batch_scores
    from orchestration.resources import LoanopsResource

    scored = []
    for _ in range(2):
        result = dg.materialize([batch_scores], resources={"loanops": LoanopsResource()})
        assert result.success
        scored.append(_scores(database))
    applications = counts["gold.gold_scoring_features"]
    for frame in scored:
        assert len(frame) == applications
        assert frame["application_id"].is_unique
        assert set(frame["model_version"]) == {str(champion)}
    pd.testing.assert_frame_equal(scored[1], scored[0], check_exact=True)
