"""The reference profile: how the champion's training split is spread over bins.

Monitoring compares the applications the API scores with what the model learned from: per
feature, the share of training rows in each bin, and the same for the score (the calibrated PD).
Numbers get decile edges from the training split plus a `missing` bin; categories get one bin
per training category plus an `unseen` bin (share 0) for values training never saw. The dbt
monitoring models bin each prediction with the same edges and compute the PSI against these
shares. The profile is an MLflow artifact of the training run (`reference/reference_bins.csv`);
the Dagster asset `raw/reference_bins` copies the champion's profile into the warehouse.
"""

from __future__ import annotations

import math
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

ARTIFACT_DIR = "reference"
ARTIFACT_FILE = "reference_bins.csv"
SCORE_FEATURE = "probability_of_default"  # the score's row name in the profile
NUMERIC, CATEGORY, SCORE = "numeric", "category", "score"
MISSING_BIN, UNSEEN_BIN = 0, -1  # bin indexes every feature (or every category) has
QUANTILES = tuple(i / 10 for i in range(1, 10))  # deciles
PSI_FLOOR = 0.0001  # shares below this count as this in the PSI (an empty bin is not infinite)
COLUMNS = (
    "feature_name",
    "feature_kind",
    "bin_index",
    "bin_label",
    "lower_edge",
    "upper_edge",
    "category_value",
    "is_missing_bin",
    "training_rows",
    "training_share",
)


def edges(values: np.ndarray) -> list[float]:
    """Distinct decile edges of the present values (empty when nothing is present)."""
    present = values[~np.isnan(values)]
    if present.size == 0:
        return []
    return sorted({float(v) for v in np.quantile(present, QUANTILES)})


def numeric_bin(values: np.ndarray, cuts: Sequence[float]) -> np.ndarray:
    """Bin index of each value: 0 missing, then 1..len(cuts)+1 over [edge, next edge)."""
    index = np.searchsorted(np.asarray(cuts, dtype="float64"), values, side="right") + 1
    return np.where(np.isnan(values), MISSING_BIN, index)


def _label(lower: float | None, upper: float | None) -> str:
    """`[lower, upper)` with -inf / inf for the open ends."""
    low = "-inf" if lower is None else f"{lower:.6g}"
    high = "inf" if upper is None else f"{upper:.6g}"
    return f"[{low}, {high})"


def _numeric_rows(name: str, kind: str, values: np.ndarray) -> list[dict[str, object]]:
    """The bins of one numeric column (or of the score)."""
    cuts = edges(values)
    counts = np.bincount(numeric_bin(values, cuts), minlength=len(cuts) + 2)
    bounds: list[float | None] = [None, *cuts, None]
    rows: list[dict[str, object]] = [
        {"bin_index": MISSING_BIN, "bin_label": "missing", "is_missing_bin": 1}
    ]
    for i in range(len(cuts) + 1):
        lower, upper = bounds[i], bounds[i + 1]
        rows.append(
            {
                "bin_index": i + 1,
                "bin_label": _label(lower, upper),
                "lower_edge": lower,
                "upper_edge": upper,
                "is_missing_bin": 0,
            }
        )
    for row in rows:
        row |= {"feature_name": name, "feature_kind": kind}
        row["training_rows"] = int(counts[int(row["bin_index"])])  # type: ignore[call-overload]
    return rows


def _category_rows(name: str, values: pd.Series) -> list[dict[str, object]]:
    """The bins of one categorical column: missing, each training category, unseen."""
    present = values[values.notna()].astype(str)
    counts = present.value_counts().sort_index()
    rows: list[dict[str, object]] = [
        {
            "bin_index": MISSING_BIN,
            "bin_label": "missing",
            "training_rows": int(values.isna().sum()),
        }
    ]
    for i, (category, n) in enumerate(counts.items(), start=1):
        rows.append({"bin_index": i, "bin_label": category, "category_value": category})
        rows[-1]["training_rows"] = int(n)
    rows.append({"bin_index": UNSEEN_BIN, "bin_label": "unseen", "training_rows": 0})
    for row in rows:
        row |= {"feature_name": name, "feature_kind": CATEGORY}
        row["is_missing_bin"] = int(row["bin_index"] == MISSING_BIN)
    return rows


def build(
    train: pd.DataFrame, scores: np.ndarray, numeric: Sequence[str], categories: Sequence[str]
) -> pd.DataFrame:
    """The profile of a training split and the model's scores on it (one row per bin)."""
    rows: list[dict[str, object]] = []
    for name in numeric:
        values = pd.to_numeric(train[name], errors="coerce").to_numpy("float64")
        rows += _numeric_rows(name, NUMERIC, values)
    for name in categories:
        rows += _category_rows(name, train[name])
    rows += _numeric_rows(SCORE_FEATURE, SCORE, np.asarray(scores, dtype="float64"))
    frame = pd.DataFrame(rows).reindex(columns=list(COLUMNS))
    frame["training_share"] = frame["training_rows"] / max(len(train), 1)
    return frame


def assign(profile: pd.DataFrame, name: str, values: pd.Series) -> np.ndarray:
    """Bin index of each value of one feature under the profile (as the dbt models bin)."""
    bins = profile[profile["feature_name"] == name]
    if (bins["feature_kind"] == CATEGORY).any():
        lookup = dict(zip(bins["category_value"], bins["bin_index"], strict=True))
        return np.array(
            [MISSING_BIN if v is None or v != v else lookup.get(str(v), UNSEEN_BIN) for v in values]
        )
    cuts = sorted(bins["lower_edge"].dropna().astype(float))
    return numeric_bin(pd.to_numeric(values, errors="coerce").to_numpy("float64"), cuts)


def psi(expected: Sequence[float], actual: Sequence[float], floor: float = PSI_FLOOR) -> float:
    """Population stability index: sum of (a - e) * ln(a / e), shares floored at `floor`."""
    total = 0.0
    for e, a in zip(expected, actual, strict=True):
        e, a = max(e, floor), max(a, floor)
        total += (a - e) * math.log(a / e)
    return total


def psi_by_feature(profile: pd.DataFrame, batch: pd.DataFrame) -> dict[str, float]:
    """The PSI of every profiled feature of a batch (gold columns plus the score column)."""
    out = {}
    for name, bins in profile.groupby("feature_name", sort=False):
        index = assign(profile, str(name), batch[name])
        counts = pd.Series(index).value_counts()
        actual = [counts.get(i, 0) / max(len(batch), 1) for i in bins["bin_index"]]
        out[str(name)] = psi(bins["training_share"].tolist(), actual)
    return out


def log(profile: pd.DataFrame) -> None:
    """Log the profile as an artifact of the active MLflow run."""
    import mlflow

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / ARTIFACT_FILE
        profile.to_csv(path, index=False)
        mlflow.log_artifact(str(path), ARTIFACT_DIR)


def load(run_id: str) -> pd.DataFrame:
    """The profile logged by a training run (raises when the run has none)."""
    import mlflow

    with tempfile.TemporaryDirectory() as tmp:
        path = mlflow.artifacts.download_artifacts(
            run_id=run_id, artifact_path=f"{ARTIFACT_DIR}/{ARTIFACT_FILE}", dst_path=tmp
        )
        frame = pd.read_csv(path, dtype={"category_value": object, "bin_label": object})
    return frame
