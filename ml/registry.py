"""The registry: `loan-default` versions, aliases `challenger`/`champion`, the promotion gate.

Gate (documented in docs/model.md): the challenger and the champion score the same test rows
(the hash split of the current gold data). The challenger becomes champion when its ROC-AUC is
at least the absolute floor and not worse than the champion's by more than the tolerance.
Without a champion (or with one packaged under an older scoring contract, which this code
cannot score), the floor alone decides. A model that fails stays registered (audit trail)
but never becomes champion.

A manual promotion (`promote_version`, a rollback) moves `champion` to any registered version
that can be served, bypassing the gate, and records who, when and why on that version.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from mlflow import MlflowClient
from mlflow.exceptions import MlflowException
from sklearn.metrics import roc_auc_score

from loanops.features import spec
from loanops.scoring_contract import ContractMismatchError
from ml import packaging
from ml.dataset import Dataset
from ml.split import TEST

MODEL_NAME = "loan-default"
CHALLENGER = "challenger"
CHAMPION = "champion"
TOLERANCE = 0.005  # ROC-AUC a challenger may lose: about the noise of a 24k-row test split
FLOOR = 0.60  # a champion must clearly beat a coin toss (0.5), whatever came before


@dataclass(frozen=True)
class Decision:
    """What the gate decided and why."""

    promoted: bool
    challenger_version: str
    champion_version: str | None  # the champion before the decision
    challenger_auc: float
    champion_auc: float | None
    reason: str


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


def test_auc(version: str, dataset: Dataset, name: str = MODEL_NAME) -> float:
    """ROC-AUC of a registered version on the dataset's test rows (gold features)."""
    scorer = packaging.load(f"models:/{name}/{version}")
    test = dataset.part(TEST)
    y = test[spec.LABEL_NAME].to_numpy()
    return float(roc_auc_score(y, scorer.predict_columns(test, top_reasons=0).probability))


def gate(
    challenger_auc: float,
    champion_auc: float | None,
    tolerance: float = TOLERANCE,
    floor: float = FLOOR,
) -> tuple[bool, str]:
    """The promotion rule alone: (promote?, why)."""
    if challenger_auc < floor:
        return False, f"test ROC-AUC {challenger_auc:.4f} is below the floor {floor}"
    if champion_auc is None:
        return True, f"no champion yet and test ROC-AUC {challenger_auc:.4f} >= floor {floor}"
    if challenger_auc < champion_auc - tolerance:
        return False, (
            f"test ROC-AUC {challenger_auc:.4f} is worse than the champion's "
            f"{champion_auc:.4f} by more than {tolerance}"
        )
    return True, (
        f"test ROC-AUC {challenger_auc:.4f} vs champion {champion_auc:.4f} (tolerance {tolerance})"
    )


def promote(dataset: Dataset, tolerance: float = TOLERANCE, floor: float = FLOOR) -> Decision:
    """Run the gate on the current challenger; move `champion` when it passes."""
    client = MlflowClient()
    challenger = version_of(client, CHALLENGER)
    if challenger is None:
        raise LookupError(f"{MODEL_NAME} has no '{CHALLENGER}' version: run `loanops train`")
    champion = version_of(client, CHAMPION)
    challenger_auc = test_auc(challenger, dataset)
    if champion == challenger:
        return Decision(
            False,
            challenger,
            champion,
            challenger_auc,
            challenger_auc,
            "the challenger already is the champion",
        )
    try:
        champion_auc = test_auc(champion, dataset) if champion else None
        unscorable = ""
    except ContractMismatchError:  # this code cannot score it, so it cannot be the bar
        champion_auc = None
        unscorable = f"the champion (version {champion}) uses an older scoring contract; "
    promoted, reason = gate(challenger_auc, champion_auc, tolerance, floor)
    reason = unscorable + reason
    client.set_model_version_tag(
        MODEL_NAME, challenger, "gate_decision", "promoted" if promoted else "rejected"
    )
    client.set_model_version_tag(MODEL_NAME, challenger, "gate_reason", reason)
    client.set_model_version_tag(MODEL_NAME, challenger, "gate_test_auc", f"{challenger_auc:.6f}")
    if promoted:
        client.set_registered_model_alias(MODEL_NAME, CHAMPION, challenger)
    return Decision(promoted, challenger, champion, challenger_auc, champion_auc, reason)


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
