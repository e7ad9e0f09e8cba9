"""Asset checks beyond the dbt tests: freshness of the raw sources and the model quality gate.

The dbt tests themselves are asset checks of the dbt assets (assets/translator.py): error
severity ones are blocking. `RETRAIN_ON_FAILURE` names the checks whose failure requests a
retraining (sensors.py); the monitoring checks add their alert checks there.
"""

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import dagster as dg
import pandas as pd

from loanops import warehouse
from orchestration import monitoring_checks, tables
from orchestration.assets.dbt_models import DBT_PROJECT
from orchestration.keys import CHAMPION, RAW_APPLICATIONS, RAW_OUTCOMES
from orchestration.resources import LoanopsResource

PERIODS = {"minute": timedelta(minutes=1), "hour": timedelta(hours=1), "day": timedelta(days=1)}

# Checks whose failure means the champion no longer fits the data: the retraining sensor
# requests the training job when the latest evaluation of any of them fails.
RETRAIN_ON_FAILURE: list[dg.AssetCheckKey] = [*monitoring_checks.RETRAIN_KEYS]


def source_freshness(table: str) -> tuple[timedelta, timedelta]:
    """(warn after, error after) of a raw source, as the dbt YAML declares them."""
    manifest = json.loads(DBT_PROJECT.manifest_path.read_text(encoding="utf-8"))
    rules = manifest["sources"][f"source.loanops.raw.{table}"]["freshness"]

    def span(rule: dict[str, Any]) -> timedelta:
        return rule["count"] * PERIODS[rule["period"]]

    return span(rules["warn_after"]), span(rules["error_after"])


def freshness_result(
    last_loaded: datetime | None, now: datetime, warn: timedelta, error: timedelta
) -> dg.AssetCheckResult:
    """Pass within `warn`; fail with WARN severity up to `error`, with ERROR beyond it."""
    if last_loaded is None:
        return dg.AssetCheckResult(passed=False, metadata={"reason": "nothing has landed yet"})
    age = now - last_loaded
    metadata = {
        "last_loaded_at": last_loaded.isoformat(),
        "age_hours": round(age.total_seconds() / 3600, 2),
        "warn_after_hours": warn.total_seconds() / 3600,
        "error_after_hours": error.total_seconds() / 3600,
    }
    severity = dg.AssetCheckSeverity.ERROR if age > error else dg.AssetCheckSeverity.WARN
    return dg.AssetCheckResult(passed=age <= warn, severity=severity, metadata=metadata)


def _last_loaded(loanops: LoanopsResource, table: str) -> datetime | None:
    """The newest _loaded_at of a raw table (naive UTC), or None when nothing has landed."""
    settings = loanops.settings()
    if settings.target == "duckdb" and not settings.duckdb_path.exists():
        return None
    if not tables.exists(settings, f"raw.{table}"):
        return None
    sql = f"select max(_loaded_at) as loaded_at from raw.{table}"
    value = pd.to_datetime(warehouse.read_frame(settings, sql)["loaded_at"].iloc[0])
    return None if pd.isna(value) else value.to_pydatetime()


def _freshness_check(key: dg.AssetKey, table: str) -> dg.AssetChecksDefinition:
    """A freshness check on one raw table, thresholds from its dbt source."""

    @dg.asset_check(
        asset=key,
        name="freshness",
        description=f"raw.{table} received a load recently (dbt source freshness thresholds).",
    )
    def check(loanops: LoanopsResource) -> dg.AssetCheckResult:
        warn, error = source_freshness(table)
        now = datetime.now(UTC).replace(tzinfo=None)
        return freshness_result(_last_loaded(loanops, table), now, warn, error)

    return check


raw_applications_freshness = _freshness_check(RAW_APPLICATIONS, "applications")
raw_outcomes_freshness = _freshness_check(RAW_OUTCOMES, "outcomes")


@dg.asset_check(
    asset=CHAMPION,
    name="quality_gate",
    blocking=True,  # a champion below the floor is not deployed nor used for batch scores
    description="The champion exists, was trained on true labels and its test ROC-AUC is at "
    "least the gate's floor.",
)
def champion_quality_gate(loanops: LoanopsResource) -> dg.AssetCheckResult:
    """Read the champion version's gate tags from the MLflow registry."""
    from mlflow import MlflowClient

    from ml import gate, registry, tracking

    tracking.configure(loanops.settings())
    client = MlflowClient()
    version = registry.version_of(client, registry.CHAMPION)
    if version is None:
        return dg.AssetCheckResult(passed=False, metadata={"reason": "no champion"})
    tags = client.get_model_version(registry.MODEL_NAME, version).tags
    auc = float(tags.get("gate_test_auc") or tags.get("test_roc_auc") or "nan")
    shuffled = tags.get("shuffled_labels") == "true"
    return dg.AssetCheckResult(
        passed=auc >= gate.FLOOR and not shuffled,
        metadata={
            "champion_version": version,
            "test_roc_auc": auc,
            "floor": gate.FLOOR,
            "shuffled_labels": shuffled,
        },
    )


ALL = [
    raw_applications_freshness,
    raw_outcomes_freshness,
    champion_quality_gate,
    *monitoring_checks.ALL,
]
