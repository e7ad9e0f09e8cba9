"""Serving's path from records changes no value: features, stored feature rows, PD and reasons.

Correctness only (no timings): each faster path is compared with the slower one it replaced.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from loanops.features import frame
from serving import scoring
from tests.serving.samples import applications


@pytest.fixture(scope="module")
def raw() -> pd.DataFrame:
    return pd.DataFrame.from_records(applications(400, seed=13, junk_share=0.2))


def test_build_equals_clean_then_features(raw: pd.DataFrame) -> None:
    for part in (raw, raw.head(1), raw.iloc[[7]], raw.iloc[5:9]):
        pd.testing.assert_frame_equal(
            frame.build(part), frame.features(frame.clean(part)), check_exact=True
        )


def test_build_of_an_empty_and_a_sparse_frame() -> None:
    for part in (pd.DataFrame({"ID": []}), pd.DataFrame([{"Client_Income": "$"}])):
        pd.testing.assert_frame_equal(
            frame.build(part), frame.features(frame.clean(part)), check_exact=True
        )


def test_batch_scorer_rows_carry_the_scorers_numbers(champion_scorer, raw) -> None:
    """One job or many in a micro-batch: the scorer's own PD and reasons, row by row."""
    records = applications(30, seed=17, junk_share=0.2)
    jobs = [scoring.Job(records[:1], "a", 0.0), scoring.Job(records[1:], "b", 0.0)]
    batch = scoring.BatchScorer(loader=None, store=None)  # type: ignore[arg-type]  # unused here
    try:
        answers, rows = batch._score(champion_scorer, jobs)
    finally:
        batch.close()
    expected = champion_scorer.scorer.predict(frame.build(pd.DataFrame.from_records(records)))
    got = [a for job in answers for a in job]
    assert [a["probability_of_default"] for a in got] == expected["pd"].tolist()
    assert [a["reason_codes"] for a in got] == expected["reasons"].tolist()
    assert [r["prediction_probability"] for r in rows] == expected["pd"].tolist()
    assert {a["reason_method"] for a in got} == {"saabas"}  # the response says how
    alone = champion_scorer.scorer.predict(frame.build(pd.DataFrame.from_records(records[:1])))
    assert abs(alone["pd"].iloc[0] - got[0]["probability_of_default"]) <= 1e-12


@pytest.fixture(scope="module")
def champion_scorer():
    """A small LightGBM scorer wrapped as the serving Champion (no registry needed)."""
    from loanops.features import spec
    from ml import calibration, pipelines
    from ml.scorer import Scorer
    from serving.model_loader import Champion
    from tests.serving.champion import book

    raw = book(1500, seed=5)
    gold = frame.build(raw)  # what gold holds for these rows (no warehouse needed)
    gold[spec.LABEL_NAME] = pd.to_numeric(raw["Default"]).astype("int64")
    numeric, categories = pipelines.feature_columns()
    pipe = pipelines.build(pipelines.LIGHTGBM, {"n_estimators": 30}, numeric, categories, 3.0)
    pipe.fit(gold, gold["is_default"].to_numpy("int64"))
    medians = {c: float(np.nanmedian(gold[c])) for c in numeric if gold[c].notna().any()}
    scorer = Scorer(
        pipelines.LIGHTGBM, pipe, calibration.Calibrator(calibration.PLATT), 0.1,
        numeric, categories, medians,
    )  # fmt: skip
    return Champion("loan-default", "1", None, None, "memory", {}, scorer)


def test_score_records_equals_the_pandas_path(champion_scorer) -> None:
    """Records straight into the feature definition: the same features, PD and reasons as the
    pandas frame, for each application alone and for a batch."""
    records = applications(300, seed=21, junk_share=0.25)
    for part in [records[i : i + 1] for i in range(40)] + [records]:
        fast = champion_scorer.score_records(part)
        gold = frame.build(pd.DataFrame.from_records(part))
        expected = champion_scorer.scorer.predict_columns(gold)
        features = gold[champion_scorer.features]
        processed = features.astype(object).where(features.notna(), None).to_dict("records")
        assert fast.scores.probability.tolist() == expected.probability.tolist()
        assert fast.scores.predicted_class.tolist() == expected.predicted_class.tolist()
        assert fast.scores.reasons == expected.reasons
        assert fast.scores.decision == expected.decision
        assert fast.processed == processed
        pairs = zip(fast.processed, processed, strict=True)
        assert all(type(a[k]) is type(b[k]) for a, b in pairs for k in a)


def test_gold_of_records_equals_frame_build() -> None:
    """Records transposed to columns give frame.build's gold features, value for value."""
    from loanops.features import columns
    from loanops.schema import APPLICATION_COLUMNS

    records = applications(200, seed=23, junk_share=0.25)
    for part in (records, records[:1]):
        gold = columns.gold_from_raw(columns.from_records(part, APPLICATION_COLUMNS), len(part))
        pd.testing.assert_frame_equal(
            pd.DataFrame(gold),
            frame.build(pd.DataFrame.from_records(part)),
            check_exact=True,
        )


def test_an_application_scores_the_same_alone_and_batched(champion_scorer) -> None:
    """A value is read as sent, never coerced by its micro-batch neighbours."""
    one = applications(1, seed=3)[0] | {"Client_Income": 12000, "Car_Owned": 1}
    other = dict(one, Client_Income=None, Car_Owned=None)
    alone = champion_scorer.score_records([one])
    batched = champion_scorer.score_records([one, other])
    assert batched.scores.probability[0] == alone.scores.probability[0]
    assert batched.processed[0] == alone.processed[0]


def test_store_json_is_compact_valid_json_and_falls_back() -> None:
    import json

    from serving.store.engine import dumps

    value = {"a": 1.5, "b": None, "c": ["é", "\x00"], "d": 10**30, "e": 1e16}
    assert json.loads(dumps(value)) == value  # the int beyond 64 bits goes through json
    assert json.loads(dumps({"a": 0.1, "b": [1, 2]})) == {"a": 0.1, "b": [1, 2]}
    assert dumps({"a": 1}) == '{"a":1}'


def test_huge_numbers_are_read_by_the_standard_library() -> None:
    import orjson

    from serving.blueprints.common import _huge_float

    assert _huge_float(orjson.loads(b'{"Client_Income": 123456789012345678901234567890}'))
    assert _huge_float(orjson.loads(b'{"applications": [{"x": 1}, {"x": -1e300}]}'))
    fine = b'{"applications": [{"x": 1.5}], "y": 9223372036854775807}'
    assert not _huge_float(orjson.loads(fine))
