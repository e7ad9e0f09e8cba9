"""A real, small champion: ml.train on a generated book, registered in a temporary MLflow store."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
from mlflow import MlflowClient

from loanops import settings as settings_module
from loanops.features import frame, spec
from ml import dataset as ml_dataset
from ml import registry
from ml.train import TrainConfig, train

ROWS = 3000


def book(rows: int, seed: int) -> pd.DataFrame:
    """Raw applications in the published layout (the real generator once it has landed)."""
    try:
        from loanops.generator import generate_book  # type: ignore[attr-defined]
    except ImportError:
        from tests.ml.fakebook import fake_book

        return fake_book(rows, seed).applications
    return generate_book(rows, seed).applications


def gold(raw: pd.DataFrame) -> pd.DataFrame:
    """What dbt's gold model holds for raw rows with outcomes."""
    out = frame.build(raw)
    out.insert(0, spec.ID_NAME, raw["ID"].astype("int64").to_numpy())
    out[spec.LABEL_NAME] = pd.to_numeric(raw["Default"]).astype("int64")
    return ml_dataset.normalise(out)


def register(root: Path, seed: int = 0) -> tuple[str, str]:
    """Train, register and promote a champion; (tracking URI, version)."""
    uri = f"sqlite:///{root / 'mlflow.db'}"
    os.environ["MLFLOW_TRACKING_URI"] = uri
    settings = settings_module.load({"LOANOPS_DATA_DIR": str(root / "data")})
    data = ml_dataset.from_frame(gold(book(ROWS, seed)), "generated", "duckdb")
    config = TrainConfig(families=("lightgbm",), budget_seconds=2.0, max_trials=1, seed=seed)
    result = train(settings, config, data)
    client = MlflowClient(uri, uri)
    client.set_registered_model_alias(registry.MODEL_NAME, registry.CHAMPION, result.version)
    return uri, str(result.version)
