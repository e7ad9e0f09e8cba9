"""Fairness report over the protected attributes (kept out of the model by default)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from loanops.features import spec

FOUR_FIFTHS = 0.8


def report(groups: pd.DataFrame, y: np.ndarray, pd_: np.ndarray, threshold: float) -> pd.DataFrame:
    """Per attribute and group: rows, default rate, approval rate, its ratio to the best group, AUC.

    The approval-rate ratio is the group's approval rate over the highest group's (same
    attribute); the four-fifths rule flags ratios below 0.8. AUC is NaN when a group has one
    class only.
    """
    y = np.asarray(y)
    approved = np.asarray(pd_) < threshold
    rows = []
    for attribute in spec.PROTECTED:
        values = groups[attribute].to_numpy()
        for group in sorted(set(values.tolist())):
            mask = values == group
            labels = y[mask]
            auc = (
                float(roc_auc_score(labels, np.asarray(pd_)[mask]))
                if len(set(labels.tolist())) == 2
                else float("nan")
            )
            rows.append(
                {
                    "attribute": attribute,
                    "group": group,
                    "rows": int(mask.sum()),
                    "default_rate": float(labels.mean()),
                    "approval_rate": float(approved[mask].mean()),
                    "auc": auc,
                }
            )
    table = pd.DataFrame(rows)
    best = table.groupby("attribute")["approval_rate"].transform("max")
    table["approval_ratio"] = table["approval_rate"] / best.where(best > 0)
    table["passes_four_fifths"] = table["approval_ratio"] >= FOUR_FIFTHS
    return table


def summary(table: pd.DataFrame, min_rows: int = 100) -> dict[str, float]:
    """Lowest approval-rate ratio and AUC gap per attribute, over groups with enough rows."""
    out: dict[str, float] = {}
    big = table[table["rows"] >= min_rows]
    for attribute, part in big.groupby("attribute"):
        out[f"fairness_{attribute}_min_approval_ratio"] = float(part["approval_ratio"].min())
        aucs = part["auc"].dropna()
        if len(aucs) > 1:
            out[f"fairness_{attribute}_auc_gap"] = float(aucs.max() - aucs.min())
    return out
