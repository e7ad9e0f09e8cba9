"""A bounded random search per family: stop at a time budget or a trial count, whichever first."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import Pipeline

from ml import pipelines

# The first entry of each space is a sensible default, tried first so that even a budget
# that allows one trial gives a reasonable model.
SPACES: dict[str, dict[str, Sequence[Any]]] = {
    pipelines.LOGISTIC: {"C": [1.0, 0.1, 0.3, 3.0, 0.03], "weight_power": [1.0, 0.5]},
    pipelines.XGBOOST: {
        "n_estimators": [250, 150, 400, 600],
        "learning_rate": [0.08, 0.05, 0.1, 0.03],
        "max_depth": [4, 3, 5, 6],
        "min_child_weight": [5.0, 1.0, 10.0, 20.0],
        "subsample": [0.8, 0.7, 0.9, 1.0],
        "colsample_bytree": [0.8, 0.6, 0.9],
        "reg_lambda": [1.0, 3.0, 10.0],
        "weight_power": [0.5, 1.0, 0.0],
    },
    pipelines.LIGHTGBM: {
        "n_estimators": [250, 150, 400, 600],
        "learning_rate": [0.08, 0.05, 0.1, 0.03],
        "num_leaves": [15, 7, 31, 63],
        "min_child_samples": [50, 20, 100, 200],
        "subsample": [0.8, 0.7, 0.9, 1.0],
        "colsample_bytree": [0.8, 0.6, 0.9],
        "reg_lambda": [1.0, 3.0, 10.0],
        "weight_power": [0.5, 1.0, 0.0],
    },
}


@dataclass
class SearchResult:
    """The best fitted pipeline of one family and every trial's record."""

    family: str
    pipeline: Pipeline
    params: dict[str, Any]
    validation_auc: float
    seconds: float
    trials: list[dict[str, Any]] = field(default_factory=list)


class DirectionError(ValueError):
    """No trial of a family moved risk in the declared directions: the family is no candidate."""

    def __init__(self, family: str, trials: list[dict[str, Any]]) -> None:
        wrong = sorted({f for t in trials for f in t["direction_violations"].split(",") if f})
        super().__init__(
            f"{family}: none of {len(trials)} trials kept the declared direction of risk "
            f"(against it: {', '.join(wrong)})"
        )
        self.family = family
        self.trials = trials


def candidates(family: str, seed: int) -> list[dict[str, Any]]:
    """The default setting first, then random draws from the family's space (no repeats)."""
    space = SPACES[family]
    rng = np.random.default_rng(seed)
    first = {name: values[0] for name, values in space.items()}
    seen = {tuple(first.items())}
    out = [first]
    for _ in range(200):
        draw = {name: values[rng.integers(len(values))] for name, values in space.items()}
        if tuple(draw.items()) not in seen:
            seen.add(tuple(draw.items()))
            out.append(draw)
    return out


def run(
    family: str,
    train: pd.DataFrame,
    y_train: np.ndarray,
    validation: pd.DataFrame,
    y_validation: np.ndarray,
    numeric: Sequence[str],
    categories: Sequence[str],
    budget_seconds: float,
    max_trials: int = 50,
    seed: int = 0,
    threads: int = 1,
    monotone: bool = True,
) -> SearchResult:
    """Fit candidates on train, score ROC-AUC on validation, keep the best within the budget.

    With `monotone`, only models whose risk moves in the declared directions are kept; raises
    DirectionError when no trial does.
    """
    started = time.perf_counter()
    # weight_power 1 is "balanced" (positives weigh as much as negatives in total), 0 no weight.
    imbalance = float((y_train == 0).sum()) / max(float((y_train == 1).sum()), 1.0)
    best: SearchResult | None = None
    trials: list[dict[str, Any]] = []
    for params in candidates(family, seed)[:max_trials]:
        trial_started = time.perf_counter()
        weight = imbalance ** params["weight_power"]
        pipe = pipelines.build(family, params, numeric, categories, weight, seed, threads)
        pipelines.fit(pipe, family, train, y_train, monotone)
        auc = float(roc_auc_score(y_validation, pipe.predict_proba(validation)[:, 1]))
        # the trees obey their constraints by construction; a linear fit is checked afterwards
        wrong = pipelines.sign_violations(pipe) if monotone and family == pipelines.LOGISTIC else []
        seconds = time.perf_counter() - trial_started
        trials.append({
            **params, "validation_auc": auc, "seconds": seconds,
            "direction_violations": ",".join(wrong),
        })  # fmt: skip
        if not wrong and (best is None or auc > best.validation_auc):
            best = SearchResult(family, pipe, dict(params), auc, 0.0)
        elapsed = time.perf_counter() - started
        # Stop when another trial like the last would overrun the budget.
        if elapsed + trials[-1]["seconds"] > budget_seconds:
            break
    if best is None:
        raise DirectionError(family, trials)
    best.seconds = time.perf_counter() - started
    best.trials = trials
    return best
