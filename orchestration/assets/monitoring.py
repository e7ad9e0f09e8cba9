"""Monitoring assets: the champion's reference profile in the warehouse, and a drift report.

`raw/reference_bins` copies the champion's reference profile (ml/reference.py, an MLflow
artifact of its training run) into raw.reference_bins, keeping the profiles of earlier
champions so their predictions stay comparable. The dbt monitoring models read it as
source('raw', 'reference_bins'). `monitoring/drift_report` plots the champion's latest PSI per
feature, its score distribution against training and the performance its PDs promise per day
(beside the realised ROC-AUC once outcomes land), as a PNG shown in the asset's metadata.
"""

import base64
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import pandas as pd

from loanops import warehouse
from loanops.settings import Settings
from orchestration import tables
from orchestration.keys import CHAMPION, MONITORING, RAW
from orchestration.monitoring_checks import (
    PERFORMANCE_MODEL,
    PSI_MODEL,
    champion,
    latest_psi,
    performance_row,
)
from orchestration.resources import LoanopsResource

OWNERS = ["team:ml-engineering"]
REFERENCE = dg.AssetKey([RAW, "reference_bins"])
DRIFT_REPORT = dg.AssetKey([MONITORING, "drift_report"])
BIN_SHARES = dg.AssetKey([MONITORING, "monitoring_bin_shares"])
REFERENCE_RELATION = "raw.reference_bins"
BIN_SHARES_RELATION = "monitoring.monitoring_bin_shares"
ESTIMATED = dg.AssetKey([MONITORING, "monitoring_estimated_performance"])
ESTIMATED_RELATION = "monitoring.monitoring_estimated_performance"
ESTIMATED_COLUMNS = ("prediction_date", "expected_roc_auc", "expected_default_rate")
REFERENCE_COLUMNS = {
    "run_id": "string",
    "model_version": "string",
    "feature_name": "string",
    "feature_kind": "string",
    "bin_index": "integer",
    "bin_label": "string",
    "lower_edge": "double",
    "upper_edge": "double",
    "category_value": "string",
    "is_missing_bin": "integer",
    "training_rows": "bigint",
    "training_share": "double",
    "copied_at": "timestamp",
}
WARN, ALERT = 0.10, 0.25  # drawn on the plot; the dbt model monitoring_psi decides the status


@dg.asset(
    key=REFERENCE,
    deps=[CHAMPION],
    group_name=MONITORING,
    owners=OWNERS,
    kinds={"python", "table"},
    description="The champion's reference profile (raw.reference_bins, one row per run, feature "
    "and bin): decile bins or categories of its training split with training shares, copied "
    "from the training run's MLflow artifact; earlier champions' profiles are kept.",
)
def reference_bins(
    context: dg.AssetExecutionContext, loanops: LoanopsResource
) -> dg.MaterializeResult:
    """Copy the current champion's profile from MLflow into raw.reference_bins."""
    from ml import reference

    settings = loanops.settings()
    current = champion(settings)
    if current is None:
        context.log.info("no champion yet: nothing to copy")
        return dg.MaterializeResult(metadata={"copied_rows": 0, "reason": "no champion"})
    try:
        profile = reference.load(current.run_id)
    except OSError as exc:  # MLflow raises OSError subclasses for a missing artifact
        raise dg.Failure(
            f"champion version {current.version} (run {current.run_id}) has no reference "
            "profile (its training run logged none); retrain it"
        ) from exc
    profile["run_id"] = current.run_id
    profile["model_version"] = current.version
    profile["copied_at"] = datetime.now(UTC).replace(tzinfo=None)
    for name in ("bin_label", "category_value"):  # NaN from the CSV is a NULL, not a float
        profile[name] = profile[name].astype(object).where(profile[name].notna(), None)
    kept = _other_runs(settings, current.run_id)
    rows = pd.concat([kept, profile[list(REFERENCE_COLUMNS)]], ignore_index=True)
    tables.write(settings, REFERENCE_RELATION, rows, REFERENCE_COLUMNS, replace=True)
    return dg.MaterializeResult(
        metadata={
            "champion_version": current.version,
            "run_id": current.run_id,
            "bins": len(profile),
            "features": int(profile["feature_name"].nunique()),
            "runs_kept": int(rows["run_id"].nunique()),
            "dagster/relation_identifier": REFERENCE_RELATION,
        }
    )


def _other_runs(settings: Settings, run_id: str) -> pd.DataFrame:
    """Rows of raw.reference_bins that belong to other runs (empty before the first copy)."""
    if not tables.exists(settings, REFERENCE_RELATION):
        return pd.DataFrame(columns=list(REFERENCE_COLUMNS))
    sql = f"select * from {REFERENCE_RELATION} where run_id <> :run_id"
    return warehouse.read_frame(settings, sql, {"run_id": run_id})[list(REFERENCE_COLUMNS)]


def score_shares(settings: Settings, run_id: str, day: object) -> pd.DataFrame:
    """The score bins of one run and day: label, actual and expected share."""
    sql = (
        "select bin_index, bin_label, actual_share, expected_share"
        f" from {BIN_SHARES_RELATION} where run_id = :run_id and prediction_date = :day"
        " and feature_kind = 'score' and bin_index > 0 order by bin_index"
    )
    return warehouse.read_frame(settings, sql, {"run_id": run_id, "day": day})


def estimated_performance(settings: Settings, run_id: str) -> pd.DataFrame:
    """The run's expected ROC-AUC and default rate per day (empty before the model exists)."""
    if not tables.exists(settings, ESTIMATED_RELATION):
        return pd.DataFrame(
            columns=["prediction_date", "expected_roc_auc", "expected_default_rate"]
        )
    sql = (
        f"select {', '.join(ESTIMATED_COLUMNS)}"
        f" from {ESTIMATED_RELATION} where run_id = :run_id order by prediction_date"
    )
    return warehouse.read_frame(settings, sql, {"run_id": run_id})


def plot(
    psi: pd.DataFrame,
    scores: pd.DataFrame,
    estimated: pd.DataFrame,
    realised_auc: float | None,
    title: str,
    path: Path,
) -> Path:
    """PSI per feature, the score distribution against training, and the promised ROC-AUC."""
    import matplotlib

    matplotlib.use("Agg")  # no display on servers and in CI
    import matplotlib.pyplot as plt

    ordered = psi.sort_values("psi")
    colours = ["#c0392b" if p >= ALERT else "#e67e22" if p >= WARN else "#2e86c1"
               for p in ordered["psi"]]  # fmt: skip
    fig, (left, right, promised) = plt.subplots(1, 3, figsize=(19, max(6, 0.22 * len(ordered))))
    left.barh(ordered["feature_name"], ordered["psi"], color=colours)
    for value, style in ((WARN, "--"), (ALERT, "-")):
        left.axvline(value, color="grey", linestyle=style, linewidth=1)
    left.set_xlabel("PSI against the training split (0.10 warn, 0.25 alert)")
    left.tick_params(axis="y", labelsize=7)
    x = range(len(scores))
    right.bar([i - 0.2 for i in x], scores["expected_share"], width=0.4, label="training")
    right.bar([i + 0.2 for i in x], scores["actual_share"], width=0.4, label="scored")
    right.set_xticks(list(x), scores["bin_label"], rotation=60, ha="right", fontsize=7)
    right.set_ylabel("share of applications")
    right.set_title("score (PD) by training decile")
    right.legend()
    days = pd.to_datetime(estimated["prediction_date"]).dt.strftime("%m-%d").tolist()
    promised.plot(days, estimated["expected_roc_auc"].astype(float), marker="o",
                  label="ROC-AUC the PDs promise")  # fmt: skip
    if realised_auc is not None:
        promised.axhline(realised_auc, color="#c0392b", linestyle="--",
                         label="realised ROC-AUC (outcomes landed)")  # fmt: skip
    rate = promised.twinx()
    rate.plot(days, estimated["expected_default_rate"].astype(float), color="grey",
              linestyle=":", marker=".", label="expected default rate")  # fmt: skip
    rate.set_ylabel("expected default rate (mean PD)")
    promised.set_ylabel("ROC-AUC")
    promised.set_title("performance before outcomes arrive, per day")
    promised.tick_params(axis="x", labelrotation=60, labelsize=7)
    promised.legend(loc="lower left", fontsize=7)
    fig.suptitle(title)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return path


def _latest(frame: pd.DataFrame, column: str) -> float:
    """The last row's value, rounded (NaN when it is missing)."""
    value = frame[column].iloc[-1]
    return float("nan") if pd.isna(value) else round(float(value), 4)


@dg.asset(
    key=DRIFT_REPORT,
    deps=[PSI_MODEL, BIN_SHARES, ESTIMATED, PERFORMANCE_MODEL],
    group_name=MONITORING,
    owners=OWNERS,
    kinds={"python", "matplotlib"},
    description="A drift report per run: the champion's PSI per feature and for the score on "
    "its latest day of predictions, its score distribution against training, and the ROC-AUC "
    "and default rate its PDs promise per day beside the realised ROC-AUC once outcomes land "
    "(PNG, shown in the metadata).",
)
def drift_report(
    context: dg.AssetExecutionContext, loanops: LoanopsResource
) -> dg.MaterializeResult:
    """Plot the champion's latest PSI and score distribution; embed the PNG in the metadata."""
    settings = loanops.settings()
    current = champion(settings)
    psi = pd.DataFrame() if current is None else latest_psi(settings, current.run_id)
    if current is None or psi.empty:
        context.log.info("no predictions of a champion yet: no report")
        return dg.MaterializeResult(metadata={"reason": "no predictions of the champion yet"})
    day = psi["prediction_date"].iloc[0]
    scores = score_shares(settings, current.run_id, day)
    estimated = estimated_performance(settings, current.run_id)
    realised = performance_row(settings, current.run_id)
    realised_auc = (
        None if realised is None or pd.isna(realised["roc_auc"]) else float(realised["roc_auc"])
    )
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    path = settings.data_dir / "monitoring" / f"drift_report_v{current.version}_{stamp}.png"
    title = f"loan-default v{current.version}: {int(psi['predictions'].max())} predictions on {day}"
    plot(psi, scores, estimated, realised_auc, title, path)
    encoded = base64.b64encode(path.read_bytes()).decode("ascii")
    worst = psi.iloc[0]
    return dg.MaterializeResult(
        metadata={
            "report": dg.MetadataValue.md(f"![drift report](data:image/png;base64,{encoded})"),
            "path": dg.MetadataValue.path(str(path)),
            "champion_version": current.version,
            "prediction_date": str(day),
            "max_psi": round(float(worst["psi"]), 4),
            "max_psi_feature": str(worst["feature_name"]),
            "alerts": int((psi["psi_status"] == "alert").sum()),
            "warnings": int((psi["psi_status"] == "warn").sum()),
            "expected_roc_auc": dg.MetadataValue.float(_latest(estimated, "expected_roc_auc"))
            if len(estimated)
            else dg.MetadataValue.null(),
        }
    )
