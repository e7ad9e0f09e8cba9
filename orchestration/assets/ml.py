"""The model: trained challenger, the gate's champion, batch scores written to the warehouse."""

import json
from datetime import UTC, datetime

import dagster as dg
import pandas as pd

from loanops import warehouse
from loanops.scoring_contract import ApplicationScorer
from loanops.settings import Settings
from orchestration import tables
from orchestration.keys import (
    BATCH_SCORES,
    CHALLENGER,
    CHAMPION,
    GOLD_APPLICATION_FEATURES,
    GOLD_SCORING_FEATURES,
    MODEL,
)
from orchestration.resources import LoanopsResource

OWNERS = ["team:ml-engineering"]
SCORES_RELATION = "scores.batch_scores"
SCORES_COLUMNS = {
    "application_id": "bigint",
    "probability_of_default": "double",
    "predicted_class": "integer",  # 1 = PD at or above the model's threshold
    "decision": "string",  # approve / refer / decline under the model's decision policy
    "referral_reasons": "text",  # JSON list, empty unless referred
    "threshold": "double",
    "policy_version": "string",
    "model_name": "string",
    "model_version": "string",
    "scored_at": "timestamp",
}


class TrainingConfig(dg.Config):
    """The training budget (the defaults are `loanops train`'s)."""

    # ml.pipelines.FAMILIES, spelled out so loading the definitions does not import the model
    # libraries; TrainConfig.validate rejects any name it does not know.
    families: list[str] = ["logistic", "xgboost", "lightgbm"]  # noqa: RUF012 (pydantic copies it)
    budget_seconds: float = 150.0
    max_trials: int = 30
    seed: int = 0


def champion_version(settings: Settings) -> str:
    """The registered version `champion` points to (raises a Failure when there is none)."""
    from mlflow import MlflowClient

    from ml import registry, tracking

    tracking.configure(settings)
    version = registry.version_of(MlflowClient(), registry.CHAMPION)
    if version is None:
        raise dg.Failure(f"{registry.MODEL_NAME} has no champion: the promotion gate kept none")
    return version


@dg.asset(
    key=CHALLENGER,
    deps=[GOLD_APPLICATION_FEATURES],
    group_name=MODEL,
    owners=OWNERS,
    kinds={"mlflow", "scikitlearn"},
    description="Training candidates: every family searched, calibrated and evaluated on gold; "
    "the winner registered as loan-default@challenger.",
)
def challenger(
    context: dg.AssetExecutionContext, config: TrainingConfig, loanops: LoanopsResource
) -> dg.MaterializeResult:
    """Train on the labelled gold rows and register the winner as `challenger`."""
    from ml.train import TrainConfig, train

    train_config = TrainConfig(
        families=tuple(config.families),
        budget_seconds=config.budget_seconds,
        max_trials=config.max_trials,
        seed=config.seed,
    )
    result = train(loanops.settings(), train_config)
    context.log.info(f"winner {result.winner}, registered as version {result.version}")
    return dg.MaterializeResult(
        metadata={
            "model_version": result.version,
            "mlflow_run_id": result.run_id,
            "winner": result.winner,
            "test_roc_auc": float(result.test["roc_auc"]),
            "test_ks": float(result.test["ks"]),
            "threshold": float(result.test["threshold"]),
            "training_seconds": round(result.seconds, 1),
            "families": dg.MetadataValue.md(result.table().to_markdown(index=False)),
        }
    )


@dg.asset(
    key=CHAMPION,
    deps=[CHALLENGER],
    group_name=MODEL,
    owners=OWNERS,
    kinds={"mlflow"},
    description="loan-default@champion: the promotion gate moves the alias to the challenger "
    "only when every blocking rule passes on the frozen evaluation rows (docs/model.md).",
)
def champion(context: dg.AssetExecutionContext, loanops: LoanopsResource) -> dg.MaterializeResult:
    """Run the promotion gate between `challenger` and `champion`."""
    from ml import dataset, gate, registry, tracking

    settings = loanops.settings()
    tracking.configure(settings)
    decision = registry.promote(dataset.load(settings), warehouse_settings=settings)
    context.log.info(
        ("promoted: " if decision.promoted else "kept the champion: ") + decision.reason
    )
    current = decision.challenger_version if decision.promoted else decision.champion_version
    return dg.MaterializeResult(
        metadata={
            "champion_version": current or "none",
            "promoted": decision.promoted,
            "reason": decision.reason,
            "challenger_version": decision.challenger_version,
            "challenger_test_auc": decision.challenger_auc,
            "previous_champion_version": decision.champion_version or "none",
            "rules": dg.MetadataValue.md(gate.table(decision.rules)),
        }
    )


def score_frame(gold: pd.DataFrame, scorer: ApplicationScorer, version: str) -> pd.DataFrame:
    """One row per application: PD, class, decision and the model version that decided it."""
    from ml import registry

    scores = scorer.predict_columns(gold, top_reasons=0)  # the contract the API scores by
    return pd.DataFrame(
        {
            "application_id": gold["application_id"].to_numpy("int64"),
            "probability_of_default": scores.probability,
            "predicted_class": scores.predicted_class,
            "decision": scores.decision,
            "referral_reasons": [json.dumps(r) for r in scores.referral_reasons],
            "threshold": scorer.threshold,
            "policy_version": scorer.policy_record["version"],
            "model_name": registry.MODEL_NAME,
            "model_version": version,
            "scored_at": datetime.now(UTC).replace(tzinfo=None),  # naive UTC, as raw tables
        }
    )


@dg.asset(
    key=BATCH_SCORES,
    deps=[CHAMPION, GOLD_SCORING_FEATURES],
    group_name=MODEL,
    owners=OWNERS,
    kinds={"python", "table"},
    description=f"{SCORES_RELATION}: one row per loan application in gold_scoring_features with "
    "the champion's probability of default, class (1: PD at or above the threshold), decision "
    "(approve / refer / decline) with referral reasons, and model and policy version.",
)
def batch_scores(
    context: dg.AssetExecutionContext, loanops: LoanopsResource
) -> dg.MaterializeResult:
    """Score every gold application with the champion and replace the scores table."""
    from ml import dataset, packaging, registry

    settings = loanops.settings()
    version = champion_version(settings)
    scorer = packaging.load(f"models:/{registry.MODEL_NAME}/{version}")
    columns = ", ".join(dataset.GOLD_COLUMNS)
    sql = f"select {columns} from gold.gold_scoring_features"
    gold = dataset.normalise(warehouse.read_frame(settings, sql))
    scores = score_frame(gold, scorer, version)
    rows = tables.write(settings, SCORES_RELATION, scores, SCORES_COLUMNS, replace=True)
    context.log.info(f"scored {rows} applications with version {version}")
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": rows,
            "dagster/relation_identifier": SCORES_RELATION,
            "model_version": version,
            "mean_probability_of_default": float(scores["probability_of_default"].mean())
            if rows
            else 0.0,
            **{
                f"{kind}_rate": float((scores["decision"] == kind).mean()) if rows else 0.0
                for kind in ("approve", "refer", "decline")
            },
        }
    )
