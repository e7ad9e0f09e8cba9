"""Training test fixtures: a small loan book in a DuckDB gold table, a temp MLflow store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from loanops import settings as settings_module
from loanops.features import frame, spec
from ml import pipelines
from ml.train import TrainConfig
from tests.ml.fakebook import fake_book

ROWS = 4000


def book(rows: int, seed: int = 0):
    """The real generator when it has landed, else the stand-in."""
    try:
        from loanops.generator import generate_book  # type: ignore[attr-defined]
    except ImportError:
        return fake_book(rows, seed)
    return generate_book(rows, seed)


def true_pd(generated) -> np.ndarray:
    """The true probabilities in application order (the real Book keeps them in a frame)."""
    truth = generated.true_pd
    return np.asarray(truth["true_pd"] if isinstance(truth, pd.DataFrame) else truth, "float64")


def gold_frame(raw: pd.DataFrame) -> pd.DataFrame:
    """What dbt's gold model holds for these raw rows (same feature definition by design)."""
    gold = frame.build(raw)
    gold.insert(0, spec.ID_NAME, raw["ID"].astype("int64").to_numpy())
    label = pd.to_numeric(raw["Default"], errors="coerce")
    gold[spec.LABEL_NAME] = label.astype("Int64")
    gold["has_outcome"] = label.notna().astype("int64")
    return gold


def write_gold(path: Path, gold: pd.DataFrame) -> None:
    """Write a gold-shaped frame as gold.gold_application_features in a DuckDB file."""
    with duckdb.connect(str(path)) as con:
        con.execute("create schema if not exists gold")
        con.register("gold_frame", gold)
        con.execute(
            "create or replace table gold.gold_application_features as select * from gold_frame"
        )


def fast_config(**overrides) -> TrainConfig:
    """A training that takes seconds: one or two trials per family."""
    base = {"budget_seconds": 3.0, "max_trials": 2, "families": pipelines.FAMILIES}
    return TrainConfig(**(base | overrides))


@pytest.fixture(scope="module")
def module_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    """A data folder with a DuckDB gold table and its own MLflow sqlite store, per test module."""
    root = tmp_path_factory.mktemp("ml")
    data_dir = root / "data"
    data_dir.mkdir()
    generated = book(ROWS, seed=3)
    gold = gold_frame(generated.applications)
    write_gold(data_dir / "warehouse.duckdb", gold)
    env = {
        "LOANOPS_DATA_DIR": str(data_dir),
        "LOANOPS_TARGET": "duckdb",
        "MLFLOW_TRACKING_URI": f"sqlite:///{root / 'mlflow.db'}",
    }
    patch = pytest.MonkeyPatch()
    for key, value in env.items():
        patch.setenv(key, value)
    patch.delenv("LOANOPS_DUCKDB_PATH", raising=False)
    try:
        yield {
            "env": env,
            "root": root,
            "settings": settings_module.load(),
            "raw": generated.applications,
            "true_pd": true_pd(generated),
            "gold": gold,
        }
    finally:
        patch.undo()
