"""One training, from gold rows to a registered `challenger` of `loan-default`.

Search each family, calibrate it, pick the winner on validation, evaluate it on test, and log
everything to MLflow: a parent run, a child run per family.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import mlflow
import numpy as np
import pandas as pd
from mlflow import MlflowClient

from loanops.features import spec
from loanops.settings import Settings
from ml import (
    calibration,
    fairness,
    metrics,
    model_card,
    packaging,
    pipelines,
    plots,
    policy,
    reference,
    registry,
    search,
    threshold,
    tracking,
)
from ml.dataset import Dataset, load
from ml.scorer import Scorer, fit_reference
from ml.split import TEST, TRAIN, VALIDATION

IMPORTANCE_ROWS = 5000  # contributions on a sample are enough to rank features


@dataclass
class TrainConfig:
    """What one training does; every field can be set from the CLI or a Dagster config."""

    families: tuple[str, ...] = pipelines.FAMILIES
    budget_seconds: float = 150.0  # total search time, shared equally by the families
    max_trials: int = 30
    include_protected: bool = False  # gender and marital status stay out of the features
    calibration: str = calibration.PLATT
    threshold: threshold.ThresholdRule = field(default_factory=threshold.ThresholdRule)
    # approve / refer / decline: required fields, grey zone, share of top features (ml/policy.py)
    policy: policy.PolicySettings = field(default_factory=policy.PolicySettings)
    seed: int = 0
    # One thread per fit by default: on a shared 2-core machine two threads per fit measured
    # 2x slower (XGBoost 100 trees on 79k rows: 9.7 s with 1 thread, 23.5 s with 2).
    threads: int = 1
    # risk moves only in spec.RISK_DIRECTIONS' directions; off only to measure what that costs
    monotone: bool = True
    shuffle_labels: bool = False  # a deliberately useless model, to prove the gate holds
    register: bool = True

    def validate(self) -> None:
        """Raise ValueError with what to change when a setting is out of range."""
        unknown = [f for f in self.families if f not in pipelines.FAMILIES]
        if unknown or not self.families:
            known = ", ".join(pipelines.FAMILIES)
            raise ValueError(f"unknown or no families {unknown}: choose from {known}")
        if self.calibration not in calibration.METHODS:
            raise ValueError(f"calibration must be one of {', '.join(calibration.METHODS)}")
        if self.budget_seconds <= 0 or self.max_trials < 1 or self.threads < 1:
            raise ValueError("the search budget, max trials and threads must be positive")
        if self.register and not self.monotone:
            raise ValueError(
                "a model trained without the declared directions of risk is for measuring what "
                "they cost, never for lending: train it with register=False"
            )
        threshold.choose(self.threshold, np.array([0.0, 1.0]))  # raises on bad LGD/margin/rate
        self.policy.validate()

    def as_params(self) -> dict[str, Any]:
        """Settings as MLflow parameters."""
        params = {k: v for k, v in asdict(self).items() if k not in ("threshold", "policy")}
        params["families"] = ",".join(self.families)
        return params | self.threshold.as_params() | self.policy.as_params()


@dataclass
class FamilyResult:
    """One family's best model and its figures."""

    family: str
    params: dict[str, Any]
    validation_auc: float
    test: dict[str, float]
    seconds: float
    trials: int
    run_id: str
    result: search.SearchResult
    calibrator: calibration.Calibrator


@dataclass
class TrainResult:
    """What a training produced."""

    run_id: str
    winner: str
    families: list[FamilyResult]
    test: dict[str, float]
    fairness: pd.DataFrame
    version: str | None
    seconds: float
    scorer: Scorer
    bands: list[dict[str, Any]] = field(default_factory=list)  # metrics.pd_bands of the test split

    def table(self) -> pd.DataFrame:
        """One row per family: validation and test figures (for the console and the card)."""
        return pd.DataFrame(
            [
                {
                    "family": f.family,
                    "winner": "*" if f.family == self.winner else "",
                    "trials": f.trials,
                    "seconds": round(f.seconds, 1),
                    "val_auc": round(f.validation_auc, 4),
                    "test_auc": round(f.test["roc_auc"], 4),
                    "test_ks": round(f.test["ks"], 4),
                    "test_ece": round(f.test["ece"], 4),
                }
                for f in self.families
            ]
        )


def _labels(frame: pd.DataFrame) -> np.ndarray:
    """The 0/1 label column as an int array."""
    return frame[spec.LABEL_NAME].to_numpy("int64")


def _fit_family(
    family: str,
    config: TrainConfig,
    parts: dict[str, pd.DataFrame],
    y: dict[str, np.ndarray],
    columns: tuple[list[str], list[str]],
    budget: float,
) -> FamilyResult:
    """Search one family in a child run, calibrate it on validation and evaluate it on test.

    Raises search.DirectionError when no trial kept the declared directions of risk (the run
    records why and every trial).
    """
    with mlflow.start_run(run_name=family, nested=True) as run:
        try:
            result = search.run(
                family,
                parts[TRAIN],
                y[TRAIN],
                parts[VALIDATION],
                y[VALIDATION],
                *columns,
                budget_seconds=budget,
                max_trials=config.max_trials,
                seed=config.seed,
                threads=config.threads,
                monotone=config.monotone,
            )
        except search.DirectionError as exc:
            mlflow.set_tag("excluded", str(exc))
            mlflow.log_table(pd.DataFrame(exc.trials), artifact_file="search_trials.json")
            raise
        scores = result.pipeline.predict_proba(parts[VALIDATION])[:, 1]
        calibrator = calibration.fit(scores, y[VALIDATION], config.calibration)
        test_pd = calibrator(result.pipeline.predict_proba(parts[TEST])[:, 1])
        test = metrics.evaluate(y[TEST], test_pd)
        mlflow.log_params({"family": family, **result.params})
        mlflow.log_metrics(
            {
                "validation_roc_auc": result.validation_auc,
                "search_seconds": result.seconds,
                "search_trials": len(result.trials),
                **{f"test_{k}": v for k, v in test.items()},
            }
        )
        mlflow.log_table(pd.DataFrame(result.trials), artifact_file="search_trials.json")
    return FamilyResult(
        family,
        result.params,
        result.validation_auc,
        test,
        result.seconds,
        len(result.trials),
        run.info.run_id,
        result,
        calibrator,
    )


def _scorer(best: FamilyResult, config: TrainConfig, train: pd.DataFrame, cut: float) -> Scorer:
    """Assemble the winner's scorer with training-split statistics for its reason codes."""
    numeric, categories = pipelines.feature_columns(config.include_protected)
    pipe = best.result.pipeline
    features = [*numeric, *categories]
    medians = {c: float(np.nanmedian(train[c])) for c in numeric if train[c].notna().any()}
    reference = fit_reference(pipe, features, train) if best.family == pipelines.LOGISTIC else None
    return Scorer(best.family, pipe, best.calibrator, cut, numeric, categories, medians, reference)


def train(settings: Settings, config: TrainConfig, dataset: Dataset | None = None) -> TrainResult:
    """Run one training end to end and return its figures (registered as challenger)."""
    started = time.perf_counter()
    config.validate()
    dataset = dataset if dataset is not None else load(settings)
    parts = {name: dataset.part(name) for name in (TRAIN, VALIDATION, TEST)}
    y = {name: _labels(part) for name, part in parts.items()}
    if min(len(set(v.tolist())) for v in y.values()) < 2:
        raise ValueError("every split needs defaults and repaid loans: the book is too small")
    if config.shuffle_labels:  # test labels stay true so the gate sees how bad the model is
        rng = np.random.default_rng(config.seed)
        y[TRAIN], y[VALIDATION] = rng.permutation(y[TRAIN]), rng.permutation(y[VALIDATION])
    columns = pipelines.feature_columns(config.include_protected)
    budget = config.budget_seconds / len(config.families)
    tracking.configure(settings)
    commit = tracking.git_commit()
    with mlflow.start_run(run_name="train") as parent, tempfile.TemporaryDirectory() as tmp:
        facts = dataset.facts()
        mlflow.set_tags({"git_commit": commit, "data_relation": dataset.relation})
        mlflow.log_params({**config.as_params(), **facts})
        families: list[FamilyResult] = []
        why: dict[str, str] = {}  # family -> why it is no candidate
        for family in config.families:
            try:
                families.append(_fit_family(family, config, parts, y, columns, budget))
            except search.DirectionError as exc:
                why[family] = str(exc)
        excluded = list(why)
        mlflow.set_tag("excluded_families", ",".join(excluded))
        if not families:
            raise ValueError(
                "no family kept the declared directions of risk: " + "; ".join(why.values())
                + " (a larger book, more trials or another family usually does)"
            )  # fmt: skip
        best = max(families, key=lambda f: f.validation_auc)  # chosen on validation, never test
        validation_pd = best.calibrator(best.result.pipeline.predict_proba(parts[VALIDATION])[:, 1])
        cut = threshold.choose(config.threshold, validation_pd)
        scorer = _scorer(best, config, parts[TRAIN], cut)
        test_pd = scorer.predict_pd(parts[TEST])
        test = metrics.evaluate(y[TEST], test_pd, cut)
        exposure = parts[TEST]["credit_amount"].to_numpy("float64")
        test["expected_loss_approved"] = threshold.expected_loss(
            test_pd, exposure, config.threshold.lgd, test_pd < cut
        )
        bands = metrics.pd_bands(y[TEST], test_pd, settings.points)
        scale = settings.points.as_dict()
        mlflow.log_dict({"scale": scale, "bands": bands}, metrics.BANDS_ARTIFACT)
        table = fairness.report(parts[TEST][list(spec.PROTECTED)], y[TEST], test_pd, cut)
        test |= fairness.summary(table)
        mlflow.log_metrics({f"test_{k}": v for k, v in test.items()})
        mlflow.log_metrics({f"{f.family}_test_roc_auc": f.test["roc_auc"] for f in families})
        mlflow.set_tag("winner", best.family)
        sample = parts[TEST].head(IMPORTANCE_ROWS)
        importance = scorer.contributions(sample).abs().mean()
        # The policy is chosen here, with the threshold and the features this model leans on.
        scorer.policy = policy.build(config.policy, cut, importance)
        mlflow.log_dict(scorer.policy.as_dict(), "decision_policy.json")
        folder = Path(tmp)
        plots.write_all(folder / "plots", y[TEST], test_pd, importance, best.family)
        result = TrainResult(
            parent.info.run_id, best.family, families, test, table, None, 0.0, scorer, bands
        )
        card = model_card.render(
            winner=best.family,
            facts=facts,
            families=result.table(),
            test_metrics=test,
            threshold_rule=config.threshold.describe() + f"; threshold = {cut:.4f}",
            fairness=table,
            features=scorer.features,
            include_protected=config.include_protected,
            git_commit=commit,
            policy=scorer.policy.as_dict(),
            bands=pd.DataFrame(bands),
            scale=settings.points,
            directions=spec.RISK_DIRECTIONS if config.monotone else {},
            excluded=excluded,
        )
        (folder / "model_card.md").write_text(card, encoding="utf-8")
        table.to_csv(folder / "fairness.csv", index=False)
        result.table().to_csv(folder / "families.csv", index=False)
        mlflow.log_artifacts(str(folder / "plots"), "plots")
        # What monitoring compares the scored population with (ml/reference.py).
        train_pd = scorer.predict_pd(parts[TRAIN])
        reference.log(reference.build(parts[TRAIN], train_pd, scorer.numeric, scorer.categories))
        for name in ("model_card.md", "fairness.csv", "families.csv"):
            mlflow.log_artifact(str(folder / name))
        name = registry.MODEL_NAME if config.register else None
        info = packaging.log(scorer, folder / "model", name)
        if config.register:
            result.version = str(info.registered_model_version)
            registry.mark_challenger(
                MlflowClient(),
                result.version,
                {
                    "family": best.family,
                    "run_id": parent.info.run_id,
                    "git_commit": commit,
                    "test_roc_auc": f"{test['roc_auc']:.6f}",
                    "threshold": f"{cut:.6f}",
                    "shuffled_labels": str(config.shuffle_labels).lower(),
                    **registry.policy_tags(scorer.policy.as_dict()),
                },
            )
        result.seconds = time.perf_counter() - started
        mlflow.log_metric("training_seconds", result.seconds)
    return result
