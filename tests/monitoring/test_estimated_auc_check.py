"""The check that realised and promised ROC-AUC agree: beyond chance, a broken calibration."""

from __future__ import annotations

import dagster as dg
import pandas as pd

from orchestration.monitoring_checks import Champion, estimate_result, hanley_mcneil_se

CURRENT = Champion(version="3", run_id="run-3", test_auc=0.81)


def _row(realised: float, estimated: float, rows: int, defaulted: int) -> pd.Series:
    """A monitoring_realised_performance row."""
    return pd.Series({
        "roc_auc": realised, "estimated_roc_auc": estimated, "scored_rows": rows,
        "defaulted": defaulted, "default_rate": defaulted / rows,
        "mean_probability_of_default": 0.08,
    })  # fmt: skip


def test_agreement_within_chance_passes():
    result = estimate_result(_row(0.80, 0.79, 5000, 400), CURRENT)
    assert result.passed
    assert result.metadata["gap"].value == 0.01  # type: ignore[union-attr]


def test_a_realised_auc_far_from_the_promise_fails_and_says_calibration():
    result = estimate_result(_row(0.72, 0.81, 5000, 400), CURRENT)
    assert not result.passed and result.severity == dg.AssetCheckSeverity.WARN
    assert "calibration has broken" in str(result.metadata["reason"].value)  # type: ignore[union-attr]


def test_few_defaults_widen_the_allowed_gap():
    # 0.08 apart: beyond the fixed tolerance, within three standard errors on 20 defaults
    assert 3 * hanley_mcneil_se(0.72, 20, 230) > 0.08
    assert estimate_result(_row(0.72, 0.80, 250, 20), CURRENT).passed
    assert not estimate_result(_row(0.72, 0.80, 25_000, 2_000), CURRENT).passed


def test_too_few_outcomes_are_not_judged():
    result = estimate_result(_row(0.5, 0.9, 150, 12), CURRENT)
    assert result.passed and "not judged" in str(result.metadata["reason"].value)  # type: ignore[union-attr]
    assert estimate_result(None, CURRENT).passed
