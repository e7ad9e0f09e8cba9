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

from loanops.points import Scale

ECE_BINS = 10
PD_BANDS = 10
BANDS_ARTIFACT = "pd_bands.json"  # the training run's band table and scale (MLflow artifact)


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
        "expected_roc_auc": expected_roc_auc(pd_),  # what the PDs promise without the labels
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


def pd_bands(y: np.ndarray, pd_: np.ndarray, scale: Scale, bands: int = PD_BANDS) -> list[dict]:
    """Rows in `bands` equal groups by PD (band 1 the safest): ranges, mean PD, default rate."""
    y = np.asarray(y, dtype="float64")
    pd_ = np.asarray(pd_, dtype="float64")
    out = []
    for band, rows in enumerate(np.array_split(np.argsort(pd_, kind="stable"), bands), start=1):
        if len(rows) == 0:
            continue
        p = pd_[rows]
        points = scale.points(p)
        out.append({
            "band": band, "rows": len(rows),
            "pd_min": float(p.min()), "pd_max": float(p.max()), "mean_pd": float(p.mean()),
            "default_rate": float(y[rows].mean()), "defaults": int(y[rows].sum()),
            "points_min": int(points.min()), "points_max": int(points.max()),
        })  # fmt: skip
    return out


def expected_roc_auc(pd_: np.ndarray) -> float:
    """The ROC-AUC the PDs promise if they are calibrated (no labels needed).

    Each row counts as PD of a default and 1 - PD of a repaid loan: the area under that
    expected ROC curve (the confidence-based estimate) is the PD-weighted share of (default,
    repaid) pairs ordered correctly, ties counting half. The dbt model
    monitoring_estimated_performance computes the same in SQL.
    """
    p = np.asarray(pd_, dtype="float64")
    values, inverse = np.unique(p, return_inverse=True)
    repaid = np.bincount(inverse, weights=1 - p, minlength=len(values))
    below_half_ties = np.cumsum(repaid) - repaid / 2
    pairs = p.sum() * (1 - p).sum()
    return float(np.dot(p, below_half_ties[inverse]) / pairs) if pairs > 0 else float("nan")
