"""Evaluation plots written as PNG files for MLflow artifacts."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display on servers and in CI

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.calibration import calibration_curve
from sklearn.metrics import precision_recall_curve, roc_curve


def _save(fig: plt.Figure, path: Path) -> Path:
    """Write and close a figure."""
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


def write_all(
    folder: Path, y: np.ndarray, pd_: np.ndarray, importance: pd.Series, title: str
) -> list[Path]:
    """ROC, precision-recall, calibration, score distribution by class, feature importance."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    fig, ax = plt.subplots(figsize=(5, 5))
    fpr, tpr, _ = roc_curve(y, pd_)
    ax.plot(fpr, tpr, label=title)
    ax.plot([0, 1], [0, 1], "k:", lw=1)
    ax.set(xlabel="false positive rate", ylabel="true positive rate", title="ROC (test)")
    paths.append(_save(fig, folder / "roc.png"))

    fig, ax = plt.subplots(figsize=(5, 5))
    precision, recall, _ = precision_recall_curve(y, pd_)
    ax.plot(recall, precision)
    ax.axhline(float(np.mean(y)), color="k", ls=":", lw=1)
    ax.set(xlabel="recall", ylabel="precision", title="Precision-recall (test)")
    paths.append(_save(fig, folder / "precision_recall.png"))

    fig, ax = plt.subplots(figsize=(5, 5))
    observed, predicted = calibration_curve(y, pd_, n_bins=10, strategy="quantile")
    ax.plot(predicted, observed, "o-")
    top = float(max(predicted.max(), observed.max()))
    ax.plot([0, top], [0, top], "k:", lw=1)
    ax.set(xlabel="mean PD", ylabel="observed default rate", title="Calibration (test, deciles)")
    paths.append(_save(fig, folder / "calibration.png"))

    fig, ax = plt.subplots(figsize=(6, 4))
    bins = np.linspace(0, float(np.quantile(pd_, 0.995)), 50)
    ax.hist(pd_[y == 0], bins=bins, alpha=0.6, density=True, label="repaid")
    ax.hist(pd_[y == 1], bins=bins, alpha=0.6, density=True, label="defaulted")
    ax.set(xlabel="PD", ylabel="density", title="Score distribution by class (test)")
    ax.legend()
    paths.append(_save(fig, folder / "score_distribution.png"))

    fig, ax = plt.subplots(figsize=(6, 7))
    top_features = importance.sort_values().tail(20)
    ax.barh(top_features.index, top_features.to_numpy())
    ax.set(xlabel="mean |log-odds contribution|", title="Feature importance (test)")
    paths.append(_save(fig, folder / "feature_importance.png"))
    return paths
