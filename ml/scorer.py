"""The fitted model as one object: pipeline, calibration, threshold, policy and reason codes.

It implements the scoring contract (`loanops.scoring_contract`): rows of gold features in;
PD, class, decision, referral reasons and reason codes out. The packaged MLflow model wraps it
and builds those rows from raw applications with the one feature definition.

Scoring goes through `ml.compiled`, which is proved bit-identical to the scikit-learn pipeline
when it is built (on first use, so at the latest when training evaluates the model, before it
is packaged) and raises otherwise. Reason codes for the tree models are Saabas path
attribution (`reason_method`), see docs/model.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline

from loanops.scoring_contract import TOP_REASONS, GoldColumns, Scores
from ml import compiled as compiled_path
from ml import pipelines, reasons
from ml import policy as decision_policy
from ml.calibration import Calibrator


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
    policy: decision_policy.Policy | None = None  # None: the default rules around threshold
    compiled: compiled_path.Compiled | None = None  # built on first use, then packaged

    @property
    def features(self) -> list[str]:
        """The gold columns the model reads."""
        return [*self.numeric, *self.categories]

    def aggregation(self) -> np.ndarray:
        """Transformed columns x source features (sums one-hot parts back to their source)."""
        prep = self.pipeline.named_steps["prep"]
        return reasons.aggregation(list(prep.get_feature_names_out()), self.features)

    def compile(self) -> compiled_path.Compiled:
        """The compiled scoring path (raises CompileError when it cannot match the pipeline)."""
        if self.compiled is None:
            encoder = self.pipeline.named_steps["prep"].named_transformers_.get("cat")
            known = encoder.categories_ if self.categories else []
            probe = compiled_path.probe_rows(self.numeric, self.categories, self.medians, known)
            self.compiled = compiled_path.Compiled.of(
                self.family, self.pipeline, self.numeric, self.categories,
                self.aggregation(), self.reference, probe,
            )  # fmt: skip
        return self.compiled

    @property
    def reason_method(self) -> str:
        """How reason contributions are computed: saabas or coefficient_x_value."""
        return self.compile().reason_method

    @property
    def decision_policy(self) -> decision_policy.Policy:
        """The packaged policy, or the default rules around the threshold."""
        default = decision_policy.Policy(float(self.threshold), source=decision_policy.DEFAULT)
        return self.policy or default

    @property
    def policy_record(self) -> dict[str, Any]:
        """The policy as stored beside each decision."""
        return self.decision_policy.as_dict()

    # -- scoring -------------------------------------------------------------------------------
    def transform(self, gold: GoldColumns) -> np.ndarray:
        """The pipeline's transformed rows (float64)."""
        return self.compile().transform(gold)

    def predict_pd(self, gold: GoldColumns) -> np.ndarray:
        """The calibrated probability of default of each gold row."""
        return self._probability(self.transform(gold))

    def _probability(self, transformed: np.ndarray) -> np.ndarray:
        """Calibrated PDs (float64) of transformed rows."""
        raw = self.compile().raw_scores(transformed)
        return np.asarray(self.calibrator(raw), dtype="float64")

    def contributions(self, gold: pd.DataFrame, method: str | None = None) -> pd.DataFrame:
        """Log-odds contributions per source feature (rows x features).

        `method` None gives the reason codes' method (`reason_method`); "treeshap" asks the
        tree libraries for exact TreeSHAP (`pred_contrib`), much slower, e.g. for analysis.
        """
        transformed = self.transform(gold)
        if method == compiled_path.TREESHAP and self.family in pipelines.TREES:
            parts = reasons.treeshap(self.family, self.pipeline, transformed)
            matrix = parts @ self.aggregation()
        else:
            matrix = self.compile().contributions(transformed)
        return pd.DataFrame(matrix, columns=self.features, index=gold.index)

    def predict_columns(self, gold: GoldColumns, top_reasons: int = TOP_REASONS) -> Scores:
        """The scoring contract: PD, class, decision, referral reasons and reason codes."""
        transformed = self.transform(gold)
        probability = self._probability(transformed)
        rules = self.decision_policy
        decided = rules.decide(
            probability, decision_policy.gold_columns(gold, rules.columns_needed())
        )
        why: list[list[str]] = [[] for _ in range(len(probability))]
        if top_reasons > 0:
            matrix = self.compile().contributions(transformed)
            why = reasons.top_reasons_matrix(matrix, self.features, gold, self.medians, top_reasons)
        return Scores(
            probability,
            (probability >= self.threshold).astype("int64"),
            decided.decision,
            decided.referral_reasons,
            why,
        )

    def predict(self, gold: GoldColumns, top_reasons: int = TOP_REASONS) -> pd.DataFrame:
        """`predict_columns` as a DataFrame (the MLflow pyfunc's output)."""
        scores = self.predict_columns(gold, top_reasons)
        return pd.DataFrame({
            "pd": scores.probability, "class": scores.predicted_class,
            "decision": scores.decision, "referral_reasons": scores.referral_reasons,
            "reasons": scores.reasons,
        })  # fmt: skip


def fit_reference(pipeline: Pipeline, features: list[str], train: pd.DataFrame) -> np.ndarray:
    """The mean transformed training row: the 'average applicant' logistic reasons compare to."""
    transformed = pipeline.named_steps["prep"].transform(train[features])
    return np.asarray(transformed, dtype="float64").mean(axis=0)
