"""The registry: `loan-default` versions, aliases `challenger`/`champion`, the promotion gate.

Gate (`ml/gate.py`, documented in docs/model.md): the challenger is scored on the frozen
evaluation rows and must pass every blocking rule: rows still in gold, the ROC-AUC floor, the
best champion's ROC-AUC on the same rows less a tolerance, the calibration limit, and (by
setting) the four-fifths rule on approval rates. Every rule's value, limit and verdict is
recorded on the version (`gate_rules`). A model that fails stays registered (audit trail) but
never becomes champion.

A manual promotion (`promote_version`, a rollback) moves `champion` to any registered version
that can be served, bypassing the gate, and records who, when and why on that version.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import mlflow
import numpy as np
import pandas as pd
import sqlalchemy as sa
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException
from sklearn.metrics import roc_auc_score

from loanops.features import spec
from loanops.points import Scale
from loanops.scoring_contract import ContractMismatchError
from loanops.settings import Settings
from ml import gate, metrics, packaging
from ml.dataset import Dataset
from ml.split import TEST

MODEL_NAME = "loan-default"
CHALLENGER = "challenger"
CHAMPION = "champion"
EVALUATION_RUN_TAG = "gate_evaluation_run"  # registered-model tag: the run with the frozen rows
EVALUATION_ARTIFACT = "evaluation_rows.txt"  # their application ids, one a line
AUC_TAG_PREFIX = "gate_auc_"  # + rows digest: a version's ROC-AUC on those rows
SHADOW_RELATION = "monitoring.monitoring_shadow_comparison"  # live challenger vs champion


@dataclass(frozen=True)
class Decision:
    """What the gate decided and why."""

    promoted: bool
    challenger_version: str
    champion_version: str | None  # the champion before the decision
    challenger_auc: float
    champion_auc: float | None  # the champion's on the same rows
    reason: str
    rules: tuple[gate.Rule, ...]  # every rule's value, limit and verdict


def version_of(client: MlflowClient, alias: str, name: str = MODEL_NAME) -> str | None:
    """The version an alias points to, or None."""
    try:
        return str(client.get_model_version_by_alias(name, alias).version)
    except MlflowException:
        return None


def policy_tags(policy: dict[str, Any]) -> dict[str, str]:
    """Version tags that carry the decision policy packaged with the model."""
    return {
        "decision_policy_version": str(policy["version"]),
        "decision_policy": json.dumps(policy, sort_keys=True),
    }


def mark_challenger(client: MlflowClient, version: str, tags: dict[str, str]) -> None:
    """Point `challenger` at a freshly registered version and tag it."""
    client.set_registered_model_alias(MODEL_NAME, CHALLENGER, version)
    for key, value in tags.items():
        client.set_model_version_tag(MODEL_NAME, version, key, value)


def _scores(version: str, rows: pd.DataFrame, name: str = MODEL_NAME) -> np.ndarray:
    """PDs of a registered version for gold rows, through the scoring contract."""
    scorer = packaging.load(f"models:/{name}/{version}")
    return scorer.predict_columns(rows, top_reasons=0).probability


def evaluation_rows(client: MlflowClient, dataset: Dataset) -> tuple[pd.DataFrame, str, gate.Rule]:
    """The frozen evaluation rows present in gold, their fingerprint, and the rule on them.

    The first gate run freezes the test split's ids (an artifact of a run in the model's
    experiment, named by registered-model tags); every later run evaluates on those ids, so
    figures recorded months apart are on the same applications.
    """
    test = dataset.part(TEST)
    tags = client.get_registered_model(MODEL_NAME).tags
    run_id = tags.get(EVALUATION_RUN_TAG)
    if run_id is None:
        ids = test[spec.ID_NAME].to_numpy("int64")
        _freeze(client, ids)
    else:
        text = mlflow.artifacts.load_text(f"runs:/{run_id}/{EVALUATION_ARTIFACT}")
        ids = np.array(text.split(), dtype="int64")
    rows = test[test[spec.ID_NAME].isin(ids)]
    return rows, gate.digest(ids), gate.rows_rule(len(ids), len(rows))


def _freeze(client: MlflowClient, ids: np.ndarray) -> None:
    """Record the evaluation rows' ids and point the registered model at them."""
    from ml import tracking

    experiment = client.get_experiment_by_name(tracking.EXPERIMENT)
    if experiment is None:
        raise LookupError(f"no MLflow experiment {tracking.EXPERIMENT!r}: run `loanops train`")
    run = client.create_run(experiment.experiment_id, run_name="gate-evaluation-rows")
    client.log_text(run.info.run_id, "\n".join(map(str, ids.tolist())), EVALUATION_ARTIFACT)
    client.set_terminated(run.info.run_id)
    client.set_registered_model_tag(MODEL_NAME, EVALUATION_RUN_TAG, run.info.run_id)
    client.set_registered_model_tag(MODEL_NAME, "gate_evaluation_rows", str(len(ids)))
    client.set_registered_model_tag(MODEL_NAME, "gate_evaluation_digest", gate.digest(ids))


def _was_champion(tags: dict[str, str]) -> bool:
    """True for a version the gate promoted or an operator made champion."""
    return tags.get("gate_decision") == "promoted" or tags.get("promotion") == "manual"


def best_champion(
    client: MlflowClient, rows: pd.DataFrame, rows_digest: str, current: str | None
) -> tuple[float | None, str | None, float | None]:
    """(best ROC-AUC any champion had on the rows, its version, the current champion's).

    A champion's ROC-AUC on a set of rows is recorded on it (`gate_auc_<digest>`) the first time
    it is measured; champions this code cannot score (an older scoring contract) are left out.
    """
    key = AUC_TAG_PREFIX + rows_digest
    y = rows[spec.LABEL_NAME].to_numpy()
    best: tuple[float, str] | None = None
    current_auc = None
    for mv in client.search_model_versions(f"name = '{MODEL_NAME}'"):
        version = str(mv.version)
        if not (_was_champion(mv.tags) or version == current):
            continue
        if key in mv.tags:
            auc = float(mv.tags[key])
        else:
            try:
                auc = float(roc_auc_score(y, _scores(version, rows)))
            except ContractMismatchError:  # this code cannot score it, so it cannot be the bar
                continue
            client.set_model_version_tag(MODEL_NAME, version, key, f"{auc:.6f}")
        if version == current:
            current_auc = auc
        if best is None or auc > best[0]:
            best = (auc, version)
    return (best[0], best[1], current_auc) if best else (None, None, current_auc)


def live_comparison(settings: Settings, version: str) -> dict[str, float] | None:
    """The challenger's shadow record on live traffic (monitoring_shadow_comparison), if any."""
    from loanops import warehouse

    schema, name = SHADOW_RELATION.split(".")
    with warehouse.begin(settings) as conn:
        if not sa.inspect(conn).has_table(name, schema=schema):
            return None
        sql = sa.text(
            "select sum(shadowed) as shadowed,"
            " sum(decision_agreement * shadowed) as agreeing,"
            " sum(champion_approval_rate * shadowed) as champion_approved,"
            " sum(shadow_approval_rate * shadowed) as shadow_approved,"
            " sum(mean_absolute_pd_difference * shadowed) as pd_difference"
            f" from {SHADOW_RELATION} where shadow_model_version = :version"
        )
        row = conn.execute(sql, {"version": version}).mappings().first()
    if row is None or not row["shadowed"]:
        return None
    n = float(row["shadowed"])
    return {
        "shadowed": n, "decision_agreement": float(row["agreeing"]) / n,
        "champion_approval_rate": float(row["champion_approved"]) / n,
        "shadow_approval_rate": float(row["shadow_approved"]) / n,
        "mean_absolute_pd_difference": float(row["pd_difference"]) / n,
    }  # fmt: skip


def promote(
    dataset: Dataset,
    settings: gate.GateSettings | None = None,
    warehouse_settings: Settings | None = None,
) -> Decision:
    """Run the gate's rules on the current challenger; move `champion` when every one passes.

    With `warehouse_settings`, the challenger's live shadow record is read and recorded too.
    """
    settings = settings or gate.GateSettings()
    client = MlflowClient()
    challenger = version_of(client, CHALLENGER)
    if challenger is None:
        raise LookupError(f"{MODEL_NAME} has no '{CHALLENGER}' version: run `loanops train`")
    champion = version_of(client, CHAMPION)
    rows, rows_digest, rows_rule = evaluation_rows(client, dataset)
    if rows.empty:
        raise ValueError("none of the frozen evaluation rows is in gold: build gold first")
    y = rows[spec.LABEL_NAME].to_numpy()
    scorer = packaging.load(f"models:/{MODEL_NAME}/{challenger}")
    pd_ = scorer.predict_columns(rows, top_reasons=0).probability
    auc = float(roc_auc_score(y, pd_))
    if champion == challenger:
        return Decision(
            False, challenger, champion, auc, auc, "the challenger already is the champion", ()
        )
    best, best_version, champion_auc = best_champion(client, rows, rows_digest, champion)
    rules = [
        rows_rule,
        *gate.auc_rules(auc, best, best_version, settings),
        gate.calibration_rule(y, pd_, settings),
        *gate.fairness_rules(rows[list(spec.PROTECTED)], y, pd_, scorer.threshold, settings),
    ]
    if warehouse_settings is not None:
        rules.append(gate.live_rule(live_comparison(warehouse_settings, challenger)))
    promoted = gate.passed(rules)
    reason = gate.reason(rules)
    figures = metrics.evaluate(y, pd_)
    scale = warehouse_settings.points if warehouse_settings is not None else Scale()
    bands = metrics.pd_bands(y, pd_, scale)
    tags = {
        "gate_decision": "promoted" if promoted else "rejected",
        "gate_reason": reason,
        "gate_test_auc": f"{auc:.6f}",
        AUC_TAG_PREFIX + rows_digest: f"{auc:.6f}",
        "gate_evaluation_digest": rows_digest,
        "gate_rules": json.dumps([r.as_dict() for r in rules]),
        # the lending figures on the same rows, as a credit committee reads them
        "gate_test_gini": f"{figures['gini']:.6f}",
        "gate_test_ks": f"{figures['ks']:.6f}",
        "gate_pd_bands": json.dumps(bands),
    }
    for key, value in tags.items():
        client.set_model_version_tag(MODEL_NAME, challenger, key, value)
    if promoted:
        client.set_registered_model_alias(MODEL_NAME, CHAMPION, challenger)
    return Decision(promoted, challenger, champion, auc, champion_auc, reason, tuple(rules))


# -- inspection and manual promotion (rollback) -------------------------------------------------


@dataclass(frozen=True)
class VersionSummary:
    """One registered version as `loanops models` shows it: aliases, tags and test metrics."""

    version: str
    aliases: tuple[str, ...]
    created_at: datetime
    run_id: str | None
    tags: dict[str, str]
    metrics: dict[str, float]  # the training run's metrics (test_roc_auc, test_ece, ...)


@dataclass(frozen=True)
class ManualPromotion:
    """What a manual promotion did: the version now champion and the one it replaced."""

    version: str
    previous_champion: str | None
    moved: bool  # False when the version already was the champion (nothing changed)
    reason: str
    promoted_by: str
    promoted_at: str


def list_versions(
    client: MlflowClient | None = None, name: str = MODEL_NAME
) -> list[VersionSummary]:
    """Every registered version of the model, oldest first (empty when none is registered)."""
    client = client or MlflowClient()
    try:
        aliases_of = client.get_registered_model(name).aliases
    except MlflowException as error:
        if error.error_code == "RESOURCE_DOES_NOT_EXIST":
            return []
        raise
    summaries = []
    for mv in client.search_model_versions(f"name = '{name}'"):
        version = str(mv.version)
        metrics = dict(client.get_run(mv.run_id).data.metrics) if mv.run_id else {}
        summaries.append(
            VersionSummary(
                version=version,
                aliases=tuple(sorted(a for a, v in aliases_of.items() if str(v) == version)),
                created_at=datetime.fromtimestamp(mv.creation_timestamp / 1000, UTC),
                run_id=mv.run_id,
                tags=dict(mv.tags),
                metrics=metrics,
            )
        )
    return sorted(summaries, key=lambda s: int(s.version))


def servable_problem(version: str, name: str = MODEL_NAME) -> str | None:
    """Why the packaged model of a version cannot be served, or None when it can.

    The version must load under this code's scoring contract and score the packaged example
    applications through it, which is what the API does with a champion.
    """
    from loanops.features import columns
    from loanops.schema import APPLICATION_COLUMNS

    records = packaging.EXAMPLE_RECORDS
    try:
        scorer = packaging.load(f"models:/{name}/{version}")
        raw = columns.from_records(records, APPLICATION_COLUMNS)
        scores = scorer.predict_columns(columns.gold_from_raw(raw, len(records)))
    except Exception as error:  # any failure to load or score means the pods could not serve it
        return f"it does not load and score the example applications ({error})"
    if len(scores.probability) != len(records):
        return f"it answered {len(scores.probability)} rows for {len(records)} applications"
    return None


def promote_version(
    version: str | int, reason: str, promoted_by: str, name: str = MODEL_NAME
) -> ManualPromotion:
    """Move `champion` to a chosen version (a rollback), bypassing the gate, recorded on it.

    The version gets the tags promotion=manual, promotion_reason, promoted_by, promoted_at
    and previous_champion. Raises ValueError for an empty reason or a version that cannot be
    served, LookupError for a version that is not registered.
    """
    reason = reason.strip()
    if not reason:
        raise ValueError(
            "a manual promotion needs a reason (--reason): it is recorded on the version"
        )
    version = str(version).strip()
    client = MlflowClient()
    try:
        client.get_model_version(name, version)
    except MlflowException as error:
        known = [s.version for s in list_versions(client, name)]
        listed = ", ".join(known) if known else "none"
        raise LookupError(
            f"{name} has no version {version!r} (registered versions: {listed}); "
            "`loanops models` lists them"
        ) from error
    previous = version_of(client, CHAMPION, name)
    now = datetime.now(UTC).isoformat(timespec="seconds")
    if previous == version:
        return ManualPromotion(version, previous, False, reason, promoted_by, now)
    problem = servable_problem(version, name)
    if problem is not None:
        raise ValueError(
            f"{name} version {version} cannot be served, so the champion stays: {problem}"
        )
    tags = {
        "promotion": "manual",
        "promotion_reason": reason,
        "promoted_by": promoted_by,
        "promoted_at": now,
        "previous_champion": previous or "",
    }
    for key, value in tags.items():
        client.set_model_version_tag(name, version, key, value)
    client.set_registered_model_alias(name, CHAMPION, version)
    return ManualPromotion(version, previous, True, reason, promoted_by, now)
