"""Read the labelled gold features through the warehouse connection of the active target."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from loanops import warehouse
from loanops.features import spec
from loanops.settings import Settings
from ml import split

GOLD_RELATION = "gold.gold_application_features"
GOLD_COLUMNS: tuple[str, ...] = (spec.ID_NAME, *spec.MODEL_FEATURES, *spec.PROTECTED)
LABELLED_SQL = (
    f"select {', '.join(GOLD_COLUMNS)}, {spec.LABEL_NAME} from {GOLD_RELATION}"
    " where has_outcome = 1"
)


@dataclass(frozen=True)
class Dataset:
    """Labelled gold rows with their split, and where they came from."""

    frame: pd.DataFrame  # gold columns + is_default + split
    relation: str
    target: str

    @property
    def rows(self) -> int:
        """Number of labelled rows."""
        return len(self.frame)

    @property
    def default_rate(self) -> float:
        """Share of labelled rows that defaulted."""
        return float(self.frame[spec.LABEL_NAME].mean())

    def part(self, name: str) -> pd.DataFrame:
        """The rows of one split ('train', 'validation', 'test')."""
        return self.frame[self.frame["split"] == name]

    def facts(self) -> dict[str, object]:
        """Data set facts for MLflow: rows per split, default rate, relation and target."""
        counts = self.frame["split"].value_counts()
        return {
            "data_rows": self.rows,
            "data_default_rate": round(self.default_rate, 6),
            "data_relation": self.relation,
            "data_target": self.target,
            **{f"data_rows_{name}": int(counts.get(name, 0)) for name in split_names()},
        }


def split_names() -> tuple[str, str, str]:
    """The three split names in order."""
    return (split.TRAIN, split.VALIDATION, split.TEST)


def normalise(frame: pd.DataFrame) -> pd.DataFrame:
    """Gold columns with the types the model expects, whatever the database returned."""
    out = pd.DataFrame(index=frame.index)
    out[spec.ID_NAME] = frame[spec.ID_NAME].astype("int64")
    for name in (*spec.NUMERIC_FEATURE_NAMES, *spec.FLAG_FEATURES):
        # Decimal (PostgreSQL numeric) and None become float64 with NaN.
        out[name] = pd.to_numeric(frame[name], errors="coerce").astype("float64")
    for name in (*spec.CATEGORY_FEATURES, *spec.PROTECTED):
        out[name] = frame[name].astype(object).where(frame[name].notna(), spec.UNKNOWN)
    if spec.LABEL_NAME in frame.columns:
        out[spec.LABEL_NAME] = frame[spec.LABEL_NAME].astype("int64")
    return out


def load(settings: Settings) -> Dataset:
    """Labelled gold rows of the active target, ordered by id, with their split."""
    if settings.target == "duckdb" and not settings.duckdb_path.exists():
        raise FileNotFoundError(
            f"no warehouse at {settings.duckdb_path}: run `loanops ingest` and `dbt build` first"
        )
    frame = normalise(warehouse.read_frame(settings, LABELLED_SQL))
    if frame.empty:
        raise ValueError(
            f"{GOLD_RELATION} has no rows with an outcome: ingest outcomes and run `dbt build`"
        )
    return from_frame(frame, GOLD_RELATION, settings.target)


def from_frame(frame: pd.DataFrame, relation: str, target: str) -> Dataset:
    """A Dataset from a gold-shaped frame already in memory (benchmarks, tests)."""
    frame = frame.sort_values(spec.ID_NAME).reset_index(drop=True)
    frame = frame.assign(split=split.assign(frame[spec.ID_NAME].to_numpy(np.int64)))
    return Dataset(frame, relation, target)
