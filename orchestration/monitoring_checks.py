"""Monitoring checks: PSI, realised ROC-AUC, and realised against promised ROC-AUC.

The last compares the champion's realised ROC-AUC with the one its PDs promised (calibration).

Each check reads a dbt monitoring model for the run of the current champion (the MLflow run the
API's predictions name), so a retrained champion is judged on its own predictions only. The PSI
thresholds are the dbt model's (monitoring_psi.psi_status: warn from 0.10, alert from 0.25).
The failing alert checks are in checks.RETRAIN_ON_FAILURE: the retraining sensor requests the
training job when one fails with ERROR severity (`requests_retraining`).

No data is not a pass: with no champion, no predictions of the champion in the window (its
latest prediction date at most WINDOW_DAYS before today, UTC) or too few to judge, a PSI check
fails with WARN severity and says why; nothing was judged, so nothing is retrained on it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import dagster as dg
import pandas as pd

from loanops import warehouse
from loanops.settings import Settings
from orchestration import tables
from orchestration.keys import MONITORING
from orchestration.resources import LoanopsResource

PSI_MODEL = dg.AssetKey([MONITORING, "monitoring_psi"])
PERFORMANCE_MODEL = dg.AssetKey([MONITORING, "monitoring_realised_performance"])
PSI_RELATION = "monitoring.monitoring_psi"
PERFORMANCE_RELATION = "monitoring.monitoring_realised_performance"
# Fewer predictions on a day (or labelled rows) than this give PSI / AUC too noisy to act on.
MIN_PREDICTIONS = 200
MIN_LABELLED = 200
# The champion's latest prediction date must be this recent (days before today, UTC) to be
# judged: three days span a weekend without applications, a longer silence is reported.
WINDOW_DAYS = 3
# What the operator does about a check without data (docs/monitoring.md, "No data").
NO_DATA_HELP = (
    "see docs/monitoring.md 'No data': is the API scoring, and does raw/predictions name the "
    "table the API writes?"
)
# Realised AUC may sit this far below the champion's test AUC (sampling noise, ageing) before
# the check fails; it never passes below the promotion gate's floor.
AUC_TOLERANCE = 0.05
# Realised and estimated ROC-AUC may differ by this much, or by three standard errors of the
# realised one when that is larger (few defaults), before the calibration counts as broken.
ESTIMATE_TOLERANCE = 0.05
SCORE_FEATURE = "probability_of_default"

FEATURE_PSI_ALERT = dg.AssetCheckKey(PSI_MODEL, "feature_psi_below_alert")
SCORE_PSI_ALERT = dg.AssetCheckKey(PSI_MODEL, "score_psi_below_alert")
PSI_WARN = dg.AssetCheckKey(PSI_MODEL, "psi_below_warn")
REALISED_AUC = dg.AssetCheckKey(PERFORMANCE_MODEL, "realised_auc_above_floor")
ESTIMATE_AGREES = dg.AssetCheckKey(PERFORMANCE_MODEL, "estimated_auc_agrees")
# Failures that mean the champion no longer fits: checks.RETRAIN_ON_FAILURE lists these.
RETRAIN_KEYS = [FEATURE_PSI_ALERT, SCORE_PSI_ALERT, REALISED_AUC]


@dataclass(frozen=True)
class Champion:
    """The serving champion's registry version, training run and test AUC."""

    version: str
    run_id: str
    test_auc: float


def champion(settings: Settings) -> Champion | None:
    """The current champion from the MLflow registry, or None when there is none."""
    from mlflow import MlflowClient

    from ml import registry, tracking

    tracking.configure(settings)
    client = MlflowClient()
    version = registry.version_of(client, registry.CHAMPION)
    if version is None:
        return None
    found = client.get_model_version(registry.MODEL_NAME, version)
    auc = float(found.tags.get("gate_test_auc") or found.tags.get("test_roc_auc") or "nan")
    return Champion(str(version), str(found.run_id), auc)


def latest_psi(settings: Settings, run_id: str) -> pd.DataFrame:
    """monitoring_psi rows of the run's latest prediction date (empty when none)."""
    if not tables.exists(settings, PSI_RELATION):
        return pd.DataFrame()
    sql = (
        f"select * from {PSI_RELATION} where run_id = :run_id and prediction_date = "
        f"(select max(prediction_date) from {PSI_RELATION} where run_id = :run_id)"
    )
    frame = warehouse.read_frame(settings, sql, {"run_id": run_id})
    if not frame.empty:
        frame["psi"] = frame["psi"].astype(float)
    return frame.sort_values("psi", ascending=False)


def no_data(reason: str, metadata: dict[str, object] | None = None) -> dg.AssetCheckResult:
    """A failed WARN result: nothing could be judged, which is neither a pass nor drift."""
    return dg.AssetCheckResult(
        passed=False,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={**(metadata or {}), "status": "no data", "reason": reason, "help": NO_DATA_HELP},
    )


def requests_retraining(evaluation: dg.AssetCheckEvaluation | None) -> bool:
    """True for a failed evaluation with ERROR severity: a judged drift or performance loss.

    A WARN failure is a warning or a check that had no data to judge: retraining cannot help.
    """
    return (
        evaluation is not None
        and not evaluation.passed
        and evaluation.severity == dg.AssetCheckSeverity.ERROR
    )


def psi_result(
    frame: pd.DataFrame,
    kinds: tuple[str, ...],
    statuses: tuple[str, ...],
    champion_version: str,
    severity: dg.AssetCheckSeverity,
    today: date,
) -> dg.AssetCheckResult:
    """Fail when a feature of the given kinds has one of the given statuses on the latest day.

    Without data in the window (or with too few predictions) the result is a failed WARN
    that says so, whatever the check's severity.
    """
    if frame.empty:
        return no_data(
            f"no predictions of champion version {champion_version} in the monitoring models",
            {"champion_version": champion_version},
        )
    rows = frame[frame["feature_kind"].isin(kinds)]
    predictions = int(frame["predictions"].max())
    latest = pd.Timestamp(frame["prediction_date"].iloc[0]).date()
    metadata: dict[str, object] = {
        "champion_version": champion_version,
        "prediction_date": latest.isoformat(),
        "predictions": predictions,
        "max_psi": round(float(rows["psi"].max()), 4) if len(rows) else 0.0,
    }
    if latest < today - timedelta(days=WINDOW_DAYS):
        reason = (
            f"no predictions of champion version {champion_version} in the last {WINDOW_DAYS} "
            f"days before {today.isoformat()} (latest on {latest.isoformat()})"
        )
        return no_data(reason, metadata)
    if predictions < MIN_PREDICTIONS:
        reason = f"{predictions} predictions on {latest}: fewer than {MIN_PREDICTIONS} to judge"
        return no_data(reason, metadata)
    flagged = rows[rows["psi_status"].isin(statuses)]
    metadata["flagged_features"] = ", ".join(
        f"{n} {p:.3f}" for n, p in zip(flagged["feature_name"], flagged["psi"], strict=True)
    )
    table = "\n".join(
        f"| {n} | {p:.4f} | {s} |"
        for n, p, s in zip(rows["feature_name"], rows["psi"], rows["psi_status"], strict=True)
    )
    metadata["psi"] = dg.MetadataValue.md(
        "| feature | PSI | status |\n| --- | --- | --- |\n" + table
    )
    return dg.AssetCheckResult(passed=flagged.empty, severity=severity, metadata=metadata)


def _psi_check(
    key: dg.AssetCheckKey,
    kinds: tuple[str, ...],
    statuses: tuple[str, ...],
    severity: dg.AssetCheckSeverity,
    description: str,
) -> dg.AssetChecksDefinition:
    """A PSI check on the champion's latest prediction date."""

    @dg.asset_check(asset=key.asset_key, name=key.name, description=description)
    def check(loanops: LoanopsResource) -> dg.AssetCheckResult:
        settings = loanops.settings()
        current = champion(settings)
        if current is None:
            return no_data("no champion in the MLflow registry: no model is monitored")
        today = datetime.now(UTC).date()
        frame = latest_psi(settings, current.run_id)
        return psi_result(frame, kinds, statuses, current.version, severity, today)

    return check


feature_psi_below_alert = _psi_check(
    FEATURE_PSI_ALERT, ("numeric", "category"), ("alert",), dg.AssetCheckSeverity.ERROR,
    "No model feature's PSI against the champion's training split reaches 0.25 (alert) on the "
    "latest day of predictions; a failure requests retraining.",
)  # fmt: skip
score_psi_below_alert = _psi_check(
    SCORE_PSI_ALERT, ("score",), ("alert",), dg.AssetCheckSeverity.ERROR,
    "The PSI of the predicted PD against the champion's training scores stays below 0.25 "
    "(alert) on the latest day of predictions; a failure requests retraining.",
)  # fmt: skip
psi_below_warn = _psi_check(
    PSI_WARN, ("numeric", "category", "score"), ("warn", "alert"), dg.AssetCheckSeverity.WARN,
    "Every PSI (features and score) stays below 0.10 (warn) on the latest day of predictions; "
    "a warning only, no retraining.",
)  # fmt: skip


def auc_result(row: pd.Series | None, current: Champion) -> dg.AssetCheckResult:
    """Fail when the realised AUC falls below max(floor, test AUC - tolerance)."""
    from ml import gate

    bar = max(gate.FLOOR, current.test_auc - AUC_TOLERANCE)
    metadata: dict[str, object] = {
        "champion_version": current.version,
        "test_roc_auc": current.test_auc,
        "required_roc_auc": round(bar, 4),
    }
    if row is None or pd.isna(row["roc_auc"]) or int(row["scored_rows"]) < MIN_LABELLED:
        labelled = 0 if row is None else int(row["scored_rows"])
        reason = f"{labelled} scored applications with outcomes: fewer than {MIN_LABELLED} or "
        return dg.AssetCheckResult(
            passed=True, metadata={**metadata, "reason": reason + "one class only, not judged"}
        )
    auc = float(row["roc_auc"])
    metadata |= {
        "realised_roc_auc": round(auc, 6),
        "scored_rows": int(row["scored_rows"]),
        "default_rate": round(float(row["default_rate"]), 4),
        "calibration_gap": round(float(row["calibration_gap"]), 4),
    }
    return dg.AssetCheckResult(passed=auc >= bar, metadata=metadata)


def performance_row(settings: Settings, run_id: str) -> pd.Series | None:
    """The run's row of monitoring_realised_performance (None before outcomes land)."""
    if not tables.exists(settings, PERFORMANCE_RELATION):
        return None
    sql = f"select * from {PERFORMANCE_RELATION} where run_id = :run_id"
    found = warehouse.read_frame(settings, sql, {"run_id": run_id})
    return found.iloc[0] if len(found) else None


def hanley_mcneil_se(auc: float, defaulted: int, repaid: int) -> float:
    """The standard error of a ROC-AUC measured on so many defaults and repaid loans."""
    q1, q2 = auc / (2 - auc), 2 * auc * auc / (1 + auc)
    variance = (
        auc * (1 - auc) + (defaulted - 1) * (q1 - auc * auc) + (repaid - 1) * (q2 - auc * auc)
    ) / (defaulted * repaid)
    return math.sqrt(max(variance, 0.0))


def estimate_result(row: pd.Series | None, current: Champion) -> dg.AssetCheckResult:
    """Fail when the realised ROC-AUC and the one the PDs promise disagree beyond chance."""
    metadata: dict[str, object] = {"champion_version": current.version}
    labelled = 0 if row is None else int(row["scored_rows"])
    if (
        row is None or pd.isna(row["roc_auc"]) or pd.isna(row["estimated_roc_auc"])
        or labelled < MIN_LABELLED
    ):  # fmt: skip
        reason = f"{labelled} scored applications with outcomes: fewer than {MIN_LABELLED} or "
        return dg.AssetCheckResult(
            passed=True, metadata={**metadata, "reason": reason + "one class only, not judged"}
        )
    realised, estimated = float(row["roc_auc"]), float(row["estimated_roc_auc"])
    defaulted = int(row["defaulted"])
    noise = 3 * hanley_mcneil_se(realised, defaulted, labelled - defaulted)
    allowed = max(ESTIMATE_TOLERANCE, noise)
    gap = realised - estimated
    metadata |= {
        "realised_roc_auc": round(realised, 6),
        "estimated_roc_auc": round(estimated, 6),
        "gap": round(gap, 6),
        "allowed_gap": round(allowed, 6),
        "scored_rows": labelled,
        "default_rate": round(float(row["default_rate"]), 4),
        "mean_probability_of_default": round(float(row["mean_probability_of_default"]), 4),
    }
    if abs(gap) > allowed:
        metadata["reason"] = (
            "the PDs no longer mean what they say: the model's calibration has broken "
            "(recalibrate or retrain)"
        )
    # A warning: a person decides (recalibrate, or look for rows the model was trained on or a
    # changed default definition); a real loss of ranking fails realised_auc_above_floor.
    return dg.AssetCheckResult(
        passed=abs(gap) <= allowed, severity=dg.AssetCheckSeverity.WARN, metadata=metadata
    )


def _performance_check(
    key: dg.AssetCheckKey,
    judge: Callable[[pd.Series | None, Champion], dg.AssetCheckResult],
    description: str,
) -> dg.AssetChecksDefinition:
    """A check of the champion's row of monitoring_realised_performance (passes without one)."""

    @dg.asset_check(asset=key.asset_key, name=key.name, description=description)
    def check(loanops: LoanopsResource) -> dg.AssetCheckResult:
        settings = loanops.settings()
        current = champion(settings)
        if current is None:
            return dg.AssetCheckResult(passed=True, metadata={"reason": "no champion"})
        return judge(performance_row(settings, current.run_id), current)

    return check


realised_auc_above_floor = _performance_check(
    REALISED_AUC, auc_result,
    "Once outcomes land for scored applications, the champion's realised ROC-AUC stays at or "
    f"above max(gate floor, test AUC - {AUC_TOLERANCE}); a failure requests retraining.",
)  # fmt: skip
estimated_auc_agrees = _performance_check(
    ESTIMATE_AGREES, estimate_result,
    "Once outcomes land, the champion's realised ROC-AUC agrees with the ROC-AUC its PDs "
    f"promised (the confidence-based estimate) within max({ESTIMATE_TOLERANCE}, three standard "
    "errors); a gap means the calibration has broken (a warning, no retraining).",
)  # fmt: skip


ALL = [
    feature_psi_below_alert, score_psi_below_alert, psi_below_warn, realised_auc_above_floor,
    estimated_auc_agrees,
]  # fmt: skip
