"""Discrimination and calibration metrics of PDs on labelled rows."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import (
    average_precision_score,
    brier_score_loss,
    precision_score,
    recall_score,
    roc_auc_score,
    roc_curve,
)

ECE_BINS = 10


def ks_statistic(y: np.ndarray, pd_: np.ndarray) -> float:
    """Kolmogorov-Smirnov: the largest gap between the defaulters' and payers' score CDFs."""
    fpr, tpr, _ = roc_curve(y, pd_)
    return float(np.max(tpr - fpr))


def expected_calibration_error(y: np.ndarray, pd_: np.ndarray, bins: int = ECE_BINS) -> float:
    """Σ (bin share) x |mean PD - default rate| over equal-width PD bins in [0, 1]."""
    y = np.asarray(y, dtype="float64")
    pd_ = np.asarray(pd_, dtype="float64")
    index = np.minimum((pd_ * bins).astype(int), bins - 1)
    total = 0.0
    for b in range(bins):
        mask = index == b
        if mask.any():
            total += mask.mean() * abs(pd_[mask].mean() - y[mask].mean())
    return float(total)


def evaluate(y: np.ndarray, pd_: np.ndarray, threshold: float | None = None) -> dict[str, float]:
    """ROC-AUC, Gini, KS, PR-AUC, Brier, ECE (and decision figures when a threshold is given)."""
    auc = float(roc_auc_score(y, pd_))
    out = {
        "roc_auc": auc,
        "gini": 2 * auc - 1,
        "ks": ks_statistic(y, pd_),
        "pr_auc": float(average_precision_score(y, pd_)),
        "brier": float(brier_score_loss(y, pd_)),
        "ece": expected_calibration_error(y, pd_),
        "mean_pd": float(np.mean(pd_)),
        "default_rate": float(np.mean(y)),
    }
    if threshold is not None:
        declined = pd_ >= threshold
        out |= {
            "threshold": float(threshold),
            "approval_rate": float(1 - declined.mean()),
            "recall": float(recall_score(y, declined, zero_division=0)),
            "precision": float(precision_score(y, declined, zero_division=0)),
            "accuracy": float(np.mean(declined == (y == 1))),
        }
    return out
