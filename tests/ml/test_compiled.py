"""The compiled scoring path gives exactly what the scikit-learn pipeline gives; Saabas reasons.

No timings here: the benchmarks measure speed, these tests prove the numbers did not move.
"""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest

from loanops.features import frame, spec
from ml import calibration, compiled, pipelines, reasons
from ml.dataset import from_frame
from ml.scorer import Scorer, fit_reference
from ml.split import TRAIN
from tests.ml.conftest import book, gold_frame
from tests.serving.samples import applications


@pytest.fixture(scope="module")
def data():
    generated = book(3000, seed=21)
    dataset = from_frame(gold_frame(generated.applications), "memory", "none")
    train = dataset.part(TRAIN)
    return train, train[spec.LABEL_NAME].to_numpy("int64")


@pytest.fixture(scope="module")
def junk_gold() -> pd.DataFrame:
    """Gold rows built from generated raw applications with 15 % junk values."""
    raw = pd.DataFrame.from_records(applications(600, seed=9, junk_share=0.15))
    return frame.build(raw)


def _scorer(family: str, train: pd.DataFrame, y: np.ndarray) -> Scorer:
    numeric, categories = pipelines.feature_columns()
    pipe = pipelines.build(family, {"n_estimators": 40}, numeric, categories, 3.0)
    pipe.fit(train, y)
    features = [*numeric, *categories]
    reference = fit_reference(pipe, features, train) if family == pipelines.LOGISTIC else None
    medians = {c: float(np.nanmedian(train[c])) for c in numeric if train[c].notna().any()}
    platt = calibration.Calibrator(calibration.PLATT, slope=0.9, intercept=-0.3)
    return Scorer(family, pipe, platt, 0.1, numeric, categories, medians, reference)


@pytest.fixture(scope="module")
def scorers(data):
    train, y = data
    return {family: _scorer(family, train, y) for family in pipelines.FAMILIES}


@pytest.mark.parametrize("family", pipelines.FAMILIES)
def test_compiled_path_is_bit_identical_to_the_pipeline(scorers, junk_gold, family):
    scorer = scorers[family]
    features = scorer.features
    expected = np.asarray(scorer.pipeline.named_steps["prep"].transform(junk_gold[features]))
    got = scorer.transform(junk_gold)
    assert got.dtype == np.float64
    assert np.array_equal(got, expected.astype("float64"), equal_nan=True)
    raw = scorer.pipeline.predict_proba(junk_gold[features])[:, 1]
    assert np.array_equal(scorer.compile().raw_scores(got), raw)
    pd_ = scorer.calibrator(raw)
    assert np.array_equal(scorer.predict_pd(junk_gold), pd_)
    out = scorer.predict(junk_gold)
    assert np.array_equal(out["pd"].to_numpy(), pd_)
    assert np.array_equal(out["class"].to_numpy(), (pd_ >= scorer.threshold).astype("int64"))


@pytest.mark.parametrize("family", pipelines.FAMILIES)
def test_columns_and_frames_score_alike(scorers, junk_gold, family):
    scorer = scorers[family]
    arrays = {name: junk_gold[name].to_numpy() for name in junk_gold.columns}
    arrays.update({name: junk_gold[name].tolist() for name in scorer.categories})
    by_columns = scorer.predict_columns(arrays)
    by_frame = scorer.predict_columns(junk_gold)
    assert np.array_equal(by_columns.probability, by_frame.probability)
    assert by_columns.reasons == by_frame.reasons
    assert by_columns.decision == by_frame.decision
    assert scorer.predict_columns(arrays, top_reasons=0).reasons == [[]] * len(junk_gold)


@pytest.mark.parametrize("family", pipelines.FAMILIES)
def test_one_row_at_a_time_gives_the_batch_numbers(scorers, junk_gold, family):
    scorer = scorers[family]
    batch = scorer.predict(junk_gold.head(25))
    for i in range(25):
        row = junk_gold.iloc[[i]].reset_index(drop=True)
        one = scorer.predict(row)
        # the pipeline's own one-row answer, bit for bit; BLAS may round a logistic dot
        # product differently for 1 and 25 rows (pipeline and fast path alike), hence 1e-12
        assert (
            one.loc[0, "pd"]
            == scorer.calibrator(scorer.pipeline.predict_proba(row[scorer.features])[:, 1])[0]
        )
        assert abs(one.loc[0, "pd"] - batch.loc[i, "pd"]) <= 1e-12
        assert one.loc[0, "reasons"] == batch.loc[i, "reasons"]


def test_unseen_categories_and_missing_values_are_handled_like_the_pipeline(scorers, junk_gold):
    odd = junk_gold.head(5).copy()
    odd["occupation"] = ["never seen", "unknown", "other", "", "Drivers"]
    for column in ("client_income", "score_source_2", "age_years"):
        odd[column] = [np.nan, 0.0, -1.0, 1e12, np.nan]
    for scorer in scorers.values():
        expected = scorer.pipeline.named_steps["prep"].transform(odd[scorer.features])
        assert np.array_equal(
            scorer.transform(odd), np.asarray(expected, "float64"), equal_nan=True
        )
        raw = scorer.pipeline.predict_proba(odd[scorer.features])[:, 1]
        assert np.array_equal(scorer.predict_pd(odd), scorer.calibrator(raw))


def test_xgboost_saabas_equals_the_native_approx_contribs(scorers, junk_gold):
    import xgboost

    scorer = scorers[pipelines.XGBOOST]
    assert scorer.reason_method == compiled.SAABAS
    transformed = scorer.transform(junk_gold)
    booster = scorer.pipeline.named_steps["model"].get_booster()
    native = (
        booster.predict(xgboost.DMatrix(transformed), pred_contribs=True, approx_contribs=True)[
            :, :-1
        ]
        @ scorer.aggregation()
    )
    ours = scorer.contributions(junk_gold).to_numpy()
    np.testing.assert_allclose(ours, native, atol=1e-12)


@pytest.mark.parametrize("family", pipelines.TREES)
def test_saabas_parts_add_up_to_the_tree_margin(scorers, junk_gold, family):
    scorer = scorers[family]
    raw = scorer.compile().raw_scores(scorer.transform(junk_gold))
    margin = np.log(raw / (1 - raw))
    bias = margin - scorer.contributions(junk_gold).sum(axis=1).to_numpy()
    assert np.ptp(bias) < 1e-4  # one expected value for every row: the parts are complete


def test_exact_treeshap_is_still_available(scorers, junk_gold):
    scorer = scorers[pipelines.LIGHTGBM]
    rows = junk_gold.head(20)
    exact = scorer.contributions(rows, method=compiled.TREESHAP)
    transformed = scorer.transform(rows)
    model = scorer.pipeline.named_steps["model"]
    native = np.asarray(model.predict(transformed, pred_contrib=True))[:, :-1]
    np.testing.assert_allclose(exact.to_numpy(), native @ scorer.aggregation(), atol=1e-12)


def test_logistic_reasons_are_coefficient_times_value(scorers, junk_gold):
    scorer = scorers[pipelines.LOGISTIC]
    assert scorer.reason_method == compiled.COEFFICIENT
    transformed = np.asarray(
        scorer.pipeline.named_steps["prep"].transform(junk_gold[scorer.features]), "float64"
    )
    coef = scorer.pipeline.named_steps["model"].coef_[0]
    expected = ((transformed - scorer.reference) * coef) @ scorer.aggregation()
    np.testing.assert_allclose(scorer.contributions(junk_gold).to_numpy(), expected, atol=1e-12)


def _top_reasons_per_row(contributions, gold, medians, top=3):
    """The per-row implementation the vectorised one replaced (the reference)."""
    values = contributions.to_numpy()
    names = list(contributions.columns)
    out = []
    for i in range(len(values)):
        order = np.argsort(-values[i], kind="stable")[:top]
        out.append(
            [
                reasons.phrase(names[j], gold[names[j]].iloc[i], medians.get(names[j]))
                for j in order
                if values[i, j] > 0
            ]
        )
    return out


@pytest.mark.parametrize("family", pipelines.FAMILIES)
def test_vectorised_top_reasons_match_the_per_row_version(scorers, junk_gold, family):
    scorer = scorers[family]
    contributions = scorer.contributions(junk_gold)
    expected = _top_reasons_per_row(contributions, junk_gold, scorer.medians)
    assert reasons.top_reasons(contributions, junk_gold, scorer.medians) == expected
    assert scorer.predict(junk_gold)["reasons"].tolist() == expected
    ties = pd.DataFrame([[1.0, 1.0, 0.0, 2.0], [0.0, -1.0, 0.0, 0.0]], columns=scorer.numeric[:4])
    gold = junk_gold.head(2).reset_index(drop=True)
    assert reasons.top_reasons(ties, gold, scorer.medians) == _top_reasons_per_row(
        ties, gold, scorer.medians
    )


def test_the_compiled_path_travels_with_the_pickled_scorer(scorers, junk_gold):
    scorer = scorers[pipelines.LIGHTGBM]
    scorer.compile()
    copy = pickle.loads(pickle.dumps(scorer))
    assert copy.compiled is not None and copy.compiled.leaf_table is not None
    assert np.array_equal(copy.predict_pd(junk_gold), scorer.predict_pd(junk_gold))
    assert (
        copy.predict(junk_gold)["reasons"].tolist() == scorer.predict(junk_gold)["reasons"].tolist()
    )


def test_an_unknown_pipeline_shape_is_refused_loudly(data, junk_gold):
    train, y = data
    scorer = _scorer(pipelines.LIGHTGBM, train, y)
    scorer.pipeline.named_steps["prep"].transformers_.append(("extra", "drop", []))
    with pytest.raises(compiled.CompileError, match="unknown pipeline shape"):
        scorer.predict_pd(junk_gold)
    with pytest.raises(compiled.CompileError):
        scorer.predict_columns(junk_gold.head(3))


def test_a_numeric_branch_it_cannot_reproduce_is_refused(data, junk_gold):
    train, y = data
    numeric, categories = pipelines.feature_columns()
    pipe = pipelines.build(pipelines.LOGISTIC, {}, numeric, categories, 3.0)
    pipe.named_steps["prep"].transformers[0][1].steps[0][1].set_params(strategy="mean")
    pipe.fit(train, y)
    reference = fit_reference(pipe, [*numeric, *categories], train)
    platt = calibration.Calibrator(calibration.PLATT, slope=0.9, intercept=-0.3)
    scorer = Scorer(pipelines.LOGISTIC, pipe, platt, 0.1, numeric, categories, {}, reference)
    with pytest.raises(compiled.CompileError, match="unknown numeric branch"):
        scorer.compile()
