"""The fitted model as one object: pipeline, calibration, threshold and reason codes.

It scores gold feature rows. The packaged MLflow model wraps it and builds those rows from raw
applications with the one feature definition (`loanops.features.frame`).

Scoring goes through a compiled fast path (`ml.fastpath`) that gives bit-identical transformed
rows and probabilities to the scikit-learn pipeline (it proves this on probe rows when it is
built, and the scorer falls back to the pipeline otherwise). Reason codes for the tree models
use Saabas path attribution (`reason_method`), see docs/model.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline

from ml import fastpath, pipelines, reasons
from ml import policy as decision_policy
from ml.calibration import Calibrator

TOP_REASONS = 3
_UNBUILT = object()


@dataclass
class Scorer:
    """A fitted, calibrated PD model with its decision threshold and policy."""

    family: str
    pipeline: Pipeline
    calibrator: Calibrator
    threshold: float
    numeric: list[str]
    categories: list[str]
    medians: dict[str, float] = field(default_factory=dict)  # training split, for reason words
    reference: np.ndarray | None = None  # mean transformed training row (logistic reasons)
    # approve / refer / decline; None in scorers packaged without one (see `decision_policy`)
    policy: decision_policy.Policy | None = None

    @property
    def features(self) -> list[str]:
        """The gold columns the model reads."""
        return [*self.numeric, *self.categories]

    # -- the fast path (built on first use, never pickled) ----------------------------------
    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state.pop("_fast", None)
        state.pop("_matrix", None)
        return state

    def _aggregation(self) -> np.ndarray:
        """Transformed columns x source features (sums one-hot parts back to their source)."""
        matrix = self.__dict__.get("_matrix")
        if matrix is None:
            prep = self.pipeline.named_steps["prep"]
            matrix = reasons.aggregation(list(prep.get_feature_names_out()), self.features)
            self.__dict__["_matrix"] = matrix
        return matrix

    def fast(self) -> fastpath.FastPath | None:
        """The compiled fast path, or None when it could not be proved identical."""
        built = self.__dict__.get("_fast", _UNBUILT)
        if built is _UNBUILT:
            cat = dict((n, t) for n, t, _ in self.pipeline.named_steps["prep"].transformers_)
            known = list(getattr(cat.get("cat"), "categories_", [[] for _ in self.categories]))
            probe = fastpath.probe_rows(self.numeric, self.categories, self.medians, known)
            built = fastpath.FastPath.build(
                self.family, self.pipeline, self.numeric, self.categories,
                self._aggregation(), self.reference, probe,
            )  # fmt: skip
            self.__dict__["_fast"] = built
        return built  # type: ignore[return-value]

    @property
    def reason_method(self) -> str:
        """How reason contributions are computed: saabas, treeshap or coefficient_x_value."""
        if self.family == pipelines.LOGISTIC:
            return fastpath.COEFFICIENT
        return fastpath.SAABAS if self.fast() is not None else fastpath.TREESHAP

    # -- scoring -------------------------------------------------------------------------------
    def transform(self, gold: pd.DataFrame) -> np.ndarray:
        """The pipeline's transformed rows (float64), through the fast path when available."""
        fast = self.fast()
        if fast is not None:
            return fast.transform(gold)
        prep = self.pipeline.named_steps["prep"]
        return np.asarray(prep.transform(gold[self.features]), dtype="float64")

    def raw_scores(self, gold: pd.DataFrame) -> np.ndarray:
        """The classifier's uncalibrated probability of default."""
        fast = self.fast()
        if fast is not None:
            return fast.raw_scores(fast.transform(gold))
        return self.pipeline.predict_proba(gold[self.features])[:, 1]

    def predict_pd(self, gold: pd.DataFrame) -> np.ndarray:
        """The calibrated probability of default of each gold row."""
        return self.calibrator(self.raw_scores(gold))

    def _contribution_matrix(self, gold: pd.DataFrame, transformed: np.ndarray) -> np.ndarray:
        """Rows x source features, by `reason_method`."""
        fast = self.fast()
        if fast is not None:
            return fast.contributions(transformed)
        parts = reasons.transformed_contributions(
            self.family, self.pipeline, transformed, self.reference
        )
        return parts @ self._aggregation()

    def contributions(self, gold: pd.DataFrame, method: str | None = None) -> pd.DataFrame:
        """Log-odds contributions per source feature (rows x features).

        `method` None gives the reason codes' method (`reason_method`); "treeshap" asks the
        tree libraries for exact TreeSHAP (`pred_contrib`), much slower, e.g. for importance.
        """
        transformed = self.transform(gold)
        if method == fastpath.TREESHAP and self.family in pipelines.TREES:
            parts = reasons.transformed_contributions(
                self.family, self.pipeline, transformed, self.reference
            )
            matrix = parts @ self._aggregation()
        else:
            matrix = self._contribution_matrix(gold, transformed)
        return pd.DataFrame(matrix, columns=self.features, index=gold.index)

    @property
    def decision_policy(self) -> decision_policy.Policy:
        """The packaged policy, or the stated default around the threshold."""
        return decision_policy.policy_of(self)

    def decide(self, gold: Any, probability: np.ndarray) -> decision_policy.Decisions:
        """Approve / refer / decline and referral reasons of gold rows with these PDs."""
        rules = self.decision_policy
        return rules.decide(probability, decision_policy.gold_columns(gold, rules.columns_needed()))

    def predict(self, gold: pd.DataFrame, top: int = TOP_REASONS) -> pd.DataFrame:
        """PD, class (1 = PD >= threshold), decision, referral reasons and reason codes."""
        pd_, classes, why = self.predict_arrays(gold, top)
        decided = self.decide(gold, pd_)
        return pd.DataFrame({
            "pd": pd_, "class": classes, "decision": decided.decision,
            "referral_reasons": decided.referral_reasons, "reasons": why,
        })  # fmt: skip

    def predict_arrays(
        self, gold: pd.DataFrame, top: int = TOP_REASONS
    ) -> tuple[np.ndarray, np.ndarray, list[list[str]]]:
        """`predict` as (PD float64, class int64, reasons) without building a DataFrame.

        The API scores micro-batches of a few rows, where a DataFrame with a text column
        costs more than the model itself.
        """
        fast = self.fast()
        transformed = self.transform(gold)
        if fast is not None:
            raw, matrix = fast.scores_and_contributions(transformed)
        else:
            raw = self.pipeline.predict_proba(gold[self.features])[:, 1]
            matrix = self._contribution_matrix(gold, transformed)
        pd_ = np.asarray(self.calibrator(raw), dtype="float64")
        why = reasons.top_reasons_matrix(matrix, self.features, gold, self.medians, top)
        return pd_, (pd_ >= self.threshold).astype("int64"), why


def fit_reference(pipeline: Pipeline, features: list[str], train: pd.DataFrame) -> np.ndarray:
    """The mean transformed training row: the 'average applicant' logistic reasons compare to."""
    transformed = pipeline.named_steps["prep"].transform(train[features])
    return np.asarray(transformed, dtype="float64").mean(axis=0)
