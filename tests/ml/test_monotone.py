"""Risk moves only in the declared directions: trained models, real applications, a grid."""

import json

import mlflow
import numpy as np
import pandas as pd
import pytest

from loanops.features import spec
from ml import calibration, dataset, pipelines, search
from ml.reasons import PHRASES
from ml.split import TEST, TRAIN, VALIDATION
from ml.train import train
from tests.ml.conftest import fast_config

APPLICATIONS = 300
GRID = 15
TOLERANCE = 1e-12  # float rounding only: a real reversal moves the PD by far more


@pytest.fixture(scope="module")
def trained(module_env):
    """Each family trained alone with the constraints, and the book it was trained on."""
    data = dataset.load(module_env["settings"])
    scorers = {
        family: train(
            module_env["settings"], fast_config(families=(family,), register=False)
        ).scorer
        for family in pipelines.FAMILIES
    }
    return scorers, data


def _grid(book: pd.DataFrame, feature: str) -> np.ndarray:
    """Values from the book's 1st to 99th percentile of the feature."""
    low, high = np.nanpercentile(book[feature].to_numpy("float64"), [1, 99])
    return np.linspace(low, high, GRID)


def _pd_over_grid(scorer, rows: pd.DataFrame, feature: str, grid: np.ndarray) -> np.ndarray:
    """PDs (applications x grid points) with the feature set to each grid value in turn."""
    out = np.empty((len(rows), len(grid)))
    for k, value in enumerate(grid):
        moved = rows.copy()
        moved[feature] = value
        out[:, k] = scorer.predict_columns(moved, top_reasons=0).probability
    return out


@pytest.mark.parametrize("family", pipelines.FAMILIES)
def test_pd_moves_only_in_the_declared_direction(trained, family):
    scorers, data = trained
    scorer = scorers[family]
    rows = data.part(TEST).head(APPLICATIONS).reset_index(drop=True)
    moved_somewhere = False
    for feature, direction in spec.RISK_DIRECTIONS.items():
        pds = _pd_over_grid(scorer, rows, feature, _grid(data.frame, feature))
        steps = np.diff(pds, axis=1) * direction  # >= 0 when risk follows the declared direction
        worst = float(steps.min())
        assert worst >= -TOLERANCE, f"{family}: PD moved against {feature}'s direction by {worst}"
        moved_somewhere |= bool((steps > 1e-6).any())
    assert moved_somewhere  # the grid did move PDs: the check above is not vacuous


def test_trees_are_trained_with_the_constraints(trained):
    scorers, _ = trained
    xgb = scorers[pipelines.XGBOOST].pipeline.named_steps["model"].get_booster()
    names = scorers[pipelines.XGBOOST].pipeline.named_steps["prep"].get_feature_names_out()
    config = json.loads(xgb.save_config())["learner"]["gradient_booster"]["tree_train_param"]
    expected = pipelines.monotone_constraints(names)
    assert config["monotone_constraints"] == "(" + ",".join(map(str, expected)) + ")"
    assert {-1, 1} <= set(expected)
    lgbm = scorers[pipelines.LIGHTGBM].pipeline.named_steps["model"].booster_
    assert f"[monotone_constraints: {','.join(map(str, expected))}]" in lgbm.model_to_string()


@pytest.mark.parametrize("family", pipelines.FAMILIES)
def test_reasons_cite_constrained_features_only_the_way_risk_moves(trained, family):
    scorers, data = trained
    scorer = scorers[family]
    rows = data.part(TEST).head(APPLICATIONS).reset_index(drop=True)
    scores = scorer.predict_columns(rows)
    cited = 0
    for i, reasons in enumerate(scores.reasons):
        for reason in reasons:
            feature = next(
                (f for f in spec.RISK_DIRECTIONS if reason.startswith(PHRASES[f] + " ")), None
            )
            if feature is None or reason.endswith("not given"):
                continue
            cited += 1
            direction = spec.RISK_DIRECTIONS[feature]
            worded = PHRASES[feature] + (" high (" if direction > 0 else " low (")
            assert reason.startswith(worded), (family, reason)
            # the reason's side is the risky side: moving the value away from it cannot raise PD
            better = rows.iloc[[i]].copy()
            better[feature] = better[feature] - direction * _step(data.frame, feature)
            before = scores.probability[i]
            after = scorer.predict_columns(better, top_reasons=0).probability[0]
            assert after <= before + TOLERANCE, (family, reason, before, after)
    assert cited > 0  # constrained features are among the reasons of these applications


def _step(book: pd.DataFrame, feature: str) -> float:
    """A tenth of the feature's interdecile range in the book."""
    low, high = np.nanpercentile(book[feature].to_numpy("float64"), [10, 90])
    return (high - low) / 10


def test_a_logistic_model_against_a_direction_is_no_candidate(module_env, monkeypatch):
    data = dataset.load(module_env["settings"])
    parts = {name: data.part(name) for name in (TRAIN, VALIDATION)}
    y = {name: part[spec.LABEL_NAME].to_numpy("int64") for name, part in parts.items()}
    # declare the opposite of what the data says: higher external scores mean more risk
    monkeypatch.setitem(spec.RISK_DIRECTIONS, "score_source_3", 1)
    with pytest.raises(search.DirectionError, match="score_source_3"):
        search.run(
            pipelines.LOGISTIC, parts[TRAIN], y[TRAIN], parts[VALIDATION], y[VALIDATION],
            *pipelines.feature_columns(), budget_seconds=60, max_trials=2,
        )  # fmt: skip
    free = search.run(
        pipelines.LOGISTIC, parts[TRAIN], y[TRAIN], parts[VALIDATION], y[VALIDATION],
        *pipelines.feature_columns(), budget_seconds=60, max_trials=2, monotone=False,
    )  # fmt: skip
    assert free.validation_auc > 0.6


def test_platt_scaling_never_reverses_the_ranking():
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, 5000)
    anti = np.where(y == 1, 0.2, 0.8) + rng.normal(0, 0.05, y.size)  # scores that rank backwards
    calibrator = calibration.fit(np.clip(anti, 0.01, 0.99), y)
    assert calibrator.slope == 0.0  # the best increasing map: the base rate for everyone
    assert np.allclose(calibrator(np.array([0.1, 0.5, 0.9])), y.mean())


def test_a_family_against_a_direction_is_dropped_and_training_says_why(module_env, monkeypatch):
    monkeypatch.setitem(spec.RISK_DIRECTIONS, "score_source_3", 1)  # against what the data says
    settings = module_env["settings"]
    with pytest.raises(ValueError, match=r"no family kept.*logistic.*score_source_3"):
        train(settings, fast_config(families=(pipelines.LOGISTIC,), register=False))
    result = train(
        settings, fast_config(families=(pipelines.LOGISTIC, pipelines.LIGHTGBM), register=False)
    )
    assert [f.family for f in result.families] == [pipelines.LIGHTGBM]
    run = mlflow.get_run(result.run_id)
    assert run.data.tags["excluded_families"] == pipelines.LOGISTIC
