"""The fitted model as one object: pipeline, calibration, threshold and reason codes.

It scores gold feature rows. The packaged MLflow model wraps it and builds those rows from raw
applications with the one feature definition (`loanops.features.frame`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline

from ml import reasons
from ml.calibration import Calibrator

TOP_REASONS = 3


@dataclass
class Scorer:
    """A fitted, calibrated PD model with its decision threshold."""

    family: str
    pipeline: Pipeline
    calibrator: Calibrator
    threshold: float
    numeric: list[str]
    categories: list[str]
    medians: dict[str, float] = field(default_factory=dict)  # training split, for reason words
    reference: np.ndarray | None = None  # mean transformed training row (logistic reasons)

    @property
    def features(self) -> list[str]:
        """The gold columns the model reads."""
        return [*self.numeric, *self.categories]

    def raw_scores(self, gold: pd.DataFrame) -> np.ndarray:
        """The classifier's uncalibrated probability of default."""
        return self.pipeline.predict_proba(gold[self.features])[:, 1]

    def predict_pd(self, gold: pd.DataFrame) -> np.ndarray:
        """The calibrated probability of default of each gold row."""
        return self.calibrator(self.raw_scores(gold))

    def contributions(self, gold: pd.DataFrame) -> pd.DataFrame:
        """Log-odds contributions per source feature (rows x features)."""
        prep = self.pipeline.named_steps["prep"]
        transformed = np.asarray(prep.transform(gold[self.features]), dtype="float64")
        parts = reasons.transformed_contributions(
            self.family, self.pipeline, transformed, self.reference
        )
        matrix = reasons.aggregation(list(prep.get_feature_names_out()), self.features)
        return pd.DataFrame(parts @ matrix, columns=self.features, index=gold.index)

    def predict(self, gold: pd.DataFrame, top: int = TOP_REASONS) -> pd.DataFrame:
        """PD, class (1 = decline, PD >= threshold) and reason codes of each gold row."""
        pd_ = self.predict_pd(gold)
        why = reasons.top_reasons(self.contributions(gold), gold, self.medians, top)
        return pd.DataFrame(
            {"pd": pd_, "class": (pd_ >= self.threshold).astype("int64"), "reasons": why}
        )


def fit_reference(pipeline: Pipeline, features: list[str], train: pd.DataFrame) -> np.ndarray:
    """The mean transformed training row: the 'average applicant' logistic reasons compare to."""
    transformed = pipeline.named_steps["prep"].transform(train[features])
    return np.asarray(transformed, dtype="float64").mean(axis=0)
