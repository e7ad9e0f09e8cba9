"""Online equals batch: the API's PD for raw applications equals the champion's PD on the gold
rows that dbt built from the same applications, to 1e-9, and every 200 has a stored row with
the same values (the one feature definition's parity criterion).

Real parts end to end: the generator writes a book with junk tokens, ingest lands it in a DuckDB
warehouse, dbt builds bronze/silver/gold, ml trains and registers a champion in a temporary
MLflow store, and the Flask app (with its SQLite prediction store) scores the raw rows.
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import mlflow
import numpy as np
import pytest

from loanops import settings as settings_module
from loanops import warehouse
from loanops.features import spec
from loanops.generator import write_book
from loanops.ingest import ingest_folder
from loanops.settings import REPO_ROOT
from ml import dataset as ml_dataset
from ml import packaging
from serving.app import create_app
from tests.serving.champion import register

ROWS = 2000
API_KEY = "parity-key-0123456789"  # pragma: allowlist secret
AUTH = {"Authorization": f"Bearer {API_KEY}"}


@pytest.fixture(scope="module")
def book(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, object]]:
    """A generated book landed, ingested and built by dbt into its own DuckDB warehouse."""
    root = tmp_path_factory.mktemp("parity")
    env = {"LOANOPS_DATA_DIR": str(root / "data"), "LOANOPS_TARGET": "duckdb"}
    settings = settings_module.load(env)
    written = write_book(settings.landing_dir, ROWS, seed=11, name="parity")
    results = ingest_folder(settings)
    assert [r.status for r in results] == ["loaded", "loaded"], [r.message for r in results]
    dbt = str(Path(sys.executable).parent / "dbt")
    done = subprocess.run(
        [dbt, "build", "--project-dir", ".", "--profiles-dir", "profiles",
         "--exclude-resource-type", "unit_test"],
        cwd=REPO_ROOT, capture_output=True, text=True,
        env=os.environ | env | {"DBT_TARGET_PATH": str(root / "target")},
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-4000:]
    applications = next(p for p in written.files if p.name.startswith("applications_"))
    with applications.open(newline="") as handle:
        raw = list(csv.DictReader(handle))  # the text exactly as the lender sent it
    gold = ml_dataset.normalise(
        warehouse.read_frame(settings, "select * from gold.gold_scoring_features")
    )
    yield {"raw": raw, "gold": gold.set_index(spec.ID_NAME), "root": root}


@pytest.fixture(scope="module")
def champion(book: dict[str, object]) -> Iterator[dict[str, str]]:
    """A champion trained by ml.train and registered in a temporary MLflow store."""
    before = os.environ.get("MLFLOW_TRACKING_URI")
    uri, version = register(book["root"] / "registry")  # type: ignore[operator]
    try:
        yield {"uri": uri, "version": version}
    finally:
        if before is None:
            os.environ.pop("MLFLOW_TRACKING_URI", None)
        else:
            os.environ["MLFLOW_TRACKING_URI"] = before


def test_api_pd_equals_batch_pd_from_gold(
    book: dict[str, object], champion: dict[str, str], tmp_path: Path
) -> None:
    raw: list[dict[str, str]] = book["raw"]  # type: ignore[assignment]
    gold = book["gold"]
    # Empty CSV fields are missing values; send them as JSON null, as a client would.
    records = [{k: (v if v != "" else None) for k, v in row.items()} for row in raw]
    assert any(v in {"$", "#", "@", "&", "x", "#NA"} for r in records for v in r.values()), (
        "the book must carry junk tokens for this test to mean anything"
    )

    mlflow.set_tracking_uri(champion["uri"])
    scorer = packaging.load("models:/loan-default@champion")
    scored = scorer.predict_columns(gold, top_reasons=0)  # type: ignore[arg-type]
    batch_pd = dict(zip(gold.index, scored.probability, strict=True))  # type: ignore[union-attr]

    app = create_app(
        {
            "MLFLOW_TRACKING_URI": champion["uri"],
            "PREDICTION_STORE_URL": f"sqlite:///{tmp_path / 'predictions.db'}",
            "API_KEYS": [API_KEY],
            "ACCESS_LOG": False,
        }
    )
    try:
        loader = app.extensions["loanops"].loader
        deadline = time.monotonic() + 90
        while loader.current is None and time.monotonic() < deadline:
            time.sleep(0.1)
        assert loader.current is not None, loader.last_error
        client = app.test_client()
        answered: list[dict[str, object]] = []
        for start in range(0, len(records), 1000):
            response = client.post(
                "/v1/predictions/batch",
                json={"applications": records[start : start + 1000]},
                headers=AUTH,
            )
            assert response.status_code == 200, response.get_json()
            answered.extend(response.get_json()["predictions"])
        assert len(answered) == ROWS == len(gold)  # type: ignore[arg-type]

        differences = [
            abs(float(p["probability_of_default"]) - batch_pd[int(r["ID"])])  # type: ignore[arg-type]
            for r, p in zip(raw, answered, strict=True)
        ]
        assert max(differences) <= 1e-9, f"largest online/batch difference {max(differences)}"

        for prediction in answered[::50]:  # every 200 has its stored row with the same values
            stored = client.get(f"/v1/predictions/{prediction['prediction_id']}", headers=AUTH)
            assert stored.status_code == 200
            record = stored.get_json()
            for key in ("probability_of_default", "predicted_class", "threshold",
                        "model_version", "reason_codes"):  # fmt: skip
                assert record[key] == prediction[key], key
        classes = np.array([p["predicted_class"] for p in answered])
        assert 0 < classes.mean() < 1  # both decisions occur: the comparison is not degenerate
    finally:
        app.extensions["loanops"].close()
