"""Pipelines, calibration, metrics, reasons and fairness on a small in-memory book."""

import numpy as np
import pandas as pd
import pytest

from loanops.features import spec
from ml import calibration, fairness, metrics, pipelines, search, threshold
from ml.dataset import from_frame
from ml.scorer import Scorer, fit_reference
from ml.split import TRAIN, VALIDATION
from tests.ml.conftest import book, gold_frame


@pytest.fixture(scope="module")
def data():
    generated = book(3000, seed=11)
    dataset = from_frame(gold_frame(generated.applications), "memory", "none")
    train = dataset.part(TRAIN)
    return dataset, train, train[spec.LABEL_NAME].to_numpy("int64")


def _fitted(family, train, y, params=None):
    numeric, categories = pipelines.feature_columns()
    pipe = pipelines.build(family, params or {"n_estimators": 60}, numeric, categories, 3.0)
    return pipe.fit(train, y), numeric, categories


def test_imputation_statistics_come_from_the_training_split_alone(data):
    dataset, train, y = data
    pipe, numeric, _ = _fitted(pipelines.LOGISTIC, train, y)
    imputer = pipe.named_steps["prep"].named_transformers_["num"].named_steps["impute"]
    expected = train[numeric].median().to_numpy()  # pandas skips NaN, as the imputer does
    np.testing.assert_allclose(imputer.statistics_, expected)
    whole = dataset.frame[numeric].median().to_numpy()
    assert not np.allclose(imputer.statistics_, whole)  # the old system's leak would match this


def test_protected_attributes_are_not_features_unless_asked():
    numeric, categories = pipelines.feature_columns()
    assert not set(spec.PROTECTED) & {*numeric, *categories}
    assert set(spec.PROTECTED) <= set(pipelines.feature_columns(include_protected=True)[1])


def _scorer(family, train, y):
    pipe, numeric, categories = _fitted(family, train, y)
    reference = fit_reference(pipe, [*numeric, *categories], train)
    medians = {c: float(np.nanmedian(train[c])) for c in numeric if train[c].notna().any()}
    identity = calibration.Calibrator(calibration.PLATT)
    return Scorer(family, pipe, identity, 0.1, numeric, categories, medians, reference)


@pytest.mark.parametrize("family", pipelines.FAMILIES)
def test_reason_codes_point_the_right_way(data, family):
    _, train, y = data
    scorer = _scorer(family, train, y)
    typical = train.head(1).copy()
    for column in scorer.numeric:
        typical[column] = train[column].median()
    risky, safe = typical.copy(), typical.copy()
    for column in ("score_source_1", "score_source_2", "score_source_3"):
        risky[column], safe[column] = 0.02, 0.98
    both = pd.concat([risky, safe], ignore_index=True)
    contributions = scorer.contributions(both)
    external = ["score_source_1", "score_source_2", "score_source_3"]
    assert contributions.loc[0, external].sum() > 0 > contributions.loc[1, external].sum()
    out = scorer.predict(both)
    assert out.loc[0, "pd"] > out.loc[1, "pd"]
    assert any(reason.startswith("External credit score") and "low" in reason
               for reason in out.loc[0, "reasons"])  # fmt: skip
    assert not any("External credit score" in reason for reason in out.loc[1, "reasons"])


def test_contributions_add_up_to_the_tree_score(data):
    _, train, y = data
    scorer = _scorer(pipelines.LIGHTGBM, train, y)
    rows = train.head(50)
    raw = scorer.pipeline.predict_proba(rows[scorer.features])[:, 1]
    margin = np.log(raw / (1 - raw))
    bias = margin - scorer.contributions(rows).sum(axis=1).to_numpy()
    assert np.ptp(bias) < 1e-6  # one expected value for every row: the parts are complete


def test_search_respects_max_trials_and_keeps_the_best(data):
    dataset, train, y = data
    validation = dataset.part(VALIDATION)
    result = search.run(
        pipelines.LOGISTIC, train, y, validation, validation[spec.LABEL_NAME].to_numpy(),
        *pipelines.feature_columns(), budget_seconds=60, max_trials=3,
    )  # fmt: skip
    assert len(result.trials) == 3
    assert result.validation_auc == max(t["validation_auc"] for t in result.trials)


def test_calibration_metrics_and_threshold():
    rng = np.random.default_rng(0)
    true = rng.uniform(0.01, 0.4, 20_000)
    y = (rng.random(true.size) < true).astype(int)
    skewed = 1 / (1 + np.exp(-(2 * np.log(true / (1 - true)) + 1.5)))  # a weighted model's scores
    platt = calibration.fit(skewed, y)
    assert metrics.expected_calibration_error(y, platt(skewed)) < 0.01
    assert metrics.expected_calibration_error(y, skewed) > 0.05
    figures = metrics.evaluate(y, platt(skewed), 0.1)
    assert figures["roc_auc"] == pytest.approx(metrics.evaluate(y, true)["roc_auc"])
    assert figures["gini"] == pytest.approx(2 * figures["roc_auc"] - 1)
    assert 0 < figures["ks"] < 1 and 0 < figures["approval_rate"] < 1
    assert threshold.choose(threshold.ThresholdRule(), true) == pytest.approx(0.05 / 0.5)
    rule = threshold.ThresholdRule(threshold.APPROVAL_RATE, approval_rate=0.8)
    assert (true < threshold.choose(rule, true)).mean() == pytest.approx(0.8, abs=0.001)


def test_fairness_report_is_computed():
    groups = pd.DataFrame(
        {"gender": ["Male"] * 6 + ["Female"] * 4, "marital_status": ["M", "S"] * 5}
    )
    y = np.array([0, 1, 0, 1, 0, 0, 1, 0, 0, 1])
    pd_ = np.array([0.05, 0.5, 0.05, 0.3, 0.05, 0.2, 0.6, 0.05, 0.4, 0.7])
    table = fairness.report(groups, y, pd_, threshold=0.1)
    male = table[(table["attribute"] == "gender") & (table["group"] == "Male")].iloc[0]
    female = table[(table["attribute"] == "gender") & (table["group"] == "Female")].iloc[0]
    assert male["approval_rate"] == pytest.approx(3 / 6)
    assert female["approval_rate"] == pytest.approx(1 / 4)
    assert female["approval_ratio"] == pytest.approx(0.5) and not female["passes_four_fifths"]
    assert male["auc"] == pytest.approx(1.0)
    summary = fairness.summary(table, min_rows=1)
    assert summary["fairness_gender_min_approval_ratio"] == pytest.approx(0.5)


def test_the_expected_auc_of_calibrated_pds_is_the_auc_their_outcomes_give():
    rng = np.random.default_rng(5)
    pds = np.round(1 / (1 + np.exp(-rng.normal(-2.5, 1.2, 200_000))), 3)  # ties, as stored
    y = (rng.random(pds.size) < pds).astype(int)  # outcomes that follow the PDs
    realised = metrics.evaluate(y, pds)["roc_auc"]
    assert metrics.expected_roc_auc(pds) == pytest.approx(realised, abs=0.005)
    # a model whose PDs overstate the spread promises more than it delivers
    odds = np.clip(pds, 1e-6, 1 - 1e-6)
    sharpened = 1 / (1 + np.exp(-(3 * np.log(odds / (1 - odds)) + 5)))
    assert metrics.expected_roc_auc(sharpened) > realised + 0.05
