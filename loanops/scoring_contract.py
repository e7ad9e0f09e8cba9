"""The scoring contract: what every consumer may ask of a packaged model, and its version.

A packaged model reads gold feature columns (the gold model's columns, or what
`loanops.features.columns.gold_from_raw` makes of raw applications) and answers, row by row,
the probability of default, the class, the policy's decision with its referral reasons and
the reason codes. Serving, batch scoring, the promotion gate and the MLflow pyfunc all call
`predict_columns` and nothing else. The version travels in the MLflow model's metadata: a
model packaged under another version is refused when it is loaded (retrain it), never half
supported.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

VERSION = 2
METADATA_KEY = "loanops_scoring_contract"
TOP_REASONS = 3

GoldColumns = Mapping[str, Any]  # gold column name -> float64 array or list of categories


@dataclass(frozen=True)
class Scores:
    """What a model says about rows of gold features, one entry per row in each field."""

    probability: np.ndarray  # calibrated PD, float64
    predicted_class: np.ndarray  # 1 where PD >= threshold, int64
    decision: list[str]  # approve / refer / decline
    referral_reasons: list[list[dict[str, Any]]]  # why a row was referred; empty otherwise
    reasons: list[list[str]]  # the factors that raised the PD most, in business words


class ApplicationScorer(Protocol):
    """The packaged model as its consumers see it."""

    threshold: float  # PD at or above which the class is 1
    features: list[str]  # the gold columns the model reads
    reason_method: str  # how reason contributions are computed
    policy_record: dict[str, Any]  # the decision policy as stored beside each decision

    def predict_columns(self, gold: GoldColumns, top_reasons: int = TOP_REASONS) -> Scores:
        """Score rows of gold features; `top_reasons=0` skips the reason codes."""
        ...


class ContractMismatchError(RuntimeError):
    """The model was packaged under another scoring contract version."""


def check(found: Any, model: str) -> None:
    """Refuse a model whose metadata names another contract version (or none)."""
    if str(found) == str(VERSION):
        return
    packaged = f"version {found}" if found is not None else "no version (an older package)"
    raise ContractMismatchError(
        f"{model} was packaged under scoring contract {packaged}; this code reads version "
        f"{VERSION}: retrain and register a new version (`loanops train`) and promote it"
    )
