"""A real, small champion: ml.train on a generated book, registered in a temporary MLflow store.

Training needs the full product (ml.train: matplotlib for its plots, full mlflow for packaging,
the warehouse client), which the serving image rightly lacks. When LOANOPS_TRAIN_PYTHON names
another interpreter (the full venv's python), the champion is trained there, in a subprocess,
and only the tracking URI and version come back; the serving tests then load it through the
registry exactly as the API does. Without the variable it is trained in this process.

    python -m tests.serving.champion <root> <seed>   # train and register; prints a JSON line
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd

from loanops.features import frame, spec

ROWS = 3000
TRAIN_PYTHON = "LOANOPS_TRAIN_PYTHON"
MODEL_NAME, CHAMPION = "loan-default", "champion"  # ml.registry's names (it needs the warehouse)


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
    from ml import dataset as ml_dataset

    out = frame.build(raw)
    out.insert(0, spec.ID_NAME, raw["ID"].astype("int64").to_numpy())
    out[spec.LABEL_NAME] = pd.to_numeric(raw["Default"]).astype("int64")
    return ml_dataset.normalise(out)


def _train_here(root: Path, seed: int) -> tuple[str, str]:
    """Train, register and promote in this process (needs the full product installed)."""
    from mlflow import MlflowClient

    from loanops import settings as settings_module
    from ml import dataset as ml_dataset
    from ml import registry
    from ml.train import TrainConfig, train

    assert (registry.MODEL_NAME, registry.CHAMPION) == (MODEL_NAME, CHAMPION)
    uri = f"sqlite:///{root / 'mlflow.db'}"
    os.environ["MLFLOW_TRACKING_URI"] = uri
    settings = settings_module.load({"LOANOPS_DATA_DIR": str(root / "data")})
    data = ml_dataset.from_frame(gold(book(ROWS, seed)), "generated", "duckdb")
    config = TrainConfig(families=("lightgbm",), budget_seconds=2.0, max_trials=1, seed=seed)
    result = train(settings, config, data)
    client = MlflowClient(uri, uri)
    client.set_registered_model_alias(registry.MODEL_NAME, registry.CHAMPION, result.version)
    return uri, str(result.version)


def _train_elsewhere(python: str, root: Path, seed: int) -> tuple[str, str]:
    """Train with another interpreter (LOANOPS_TRAIN_PYTHON); its last line is the result."""
    repo = Path(__file__).resolve().parents[2]
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONHOME", "VIRTUAL_ENV"}}
    env["PYTHONPATH"] = str(repo)
    env.pop(TRAIN_PYTHON, None)
    done = subprocess.run(
        [python, "-m", "tests.serving.champion", str(root), str(seed)],
        cwd=repo, env=env, capture_output=True, text=True, check=False, timeout=900,
    )  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"training with {python} failed:\n{done.stderr[-3000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    os.environ["MLFLOW_TRACKING_URI"] = result["tracking_uri"]
    return result["tracking_uri"], result["version"]


def register(root: Path, seed: int = 0) -> tuple[str, str]:
    """Train, register and promote a champion; (tracking URI, version)."""
    python = os.environ.get(TRAIN_PYTHON)
    if python:
        return _train_elsewhere(python, root, seed)
    return _train_here(root, seed)


if __name__ == "__main__":
    uri, version = _train_here(Path(sys.argv[1]), int(sys.argv[2]))
    print(json.dumps({"tracking_uri": uri, "version": version}))
