"""The decision policy on its own: each rule, its words, its settings and its stored form."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loanops.features import columns, frame
from loanops.schema import APPLICATION_COLUMNS
from loanops.scoring_contract import Scores
from ml import policy
from ml.packaging import EXAMPLE_RECORDS
from serving.model_loader import feature_rows

FULL = dict(EXAMPLE_RECORDS[0])  # every required field given
TOP = ("score_source_2", "age_years", "occupation", "score_source_3")


def _gold(records: list[dict]) -> pd.DataFrame:
    return frame.build(pd.DataFrame.from_records(records))


def _decide(rules: policy.Policy, records: list[dict], pds: list[float]) -> policy.Decisions:
    gold = _gold(records)
    return rules.decide(np.array(pds), policy.gold_columns(gold, rules.columns_needed()))


def test_outside_the_grey_zone_the_threshold_decides():
    rules = policy.Policy(threshold=0.10, grey_zone=0.01)
    out = _decide(rules, [FULL] * 4, [0.0, 0.0899, 0.11, 0.99])
    assert out.decision == ["approve", "approve", "decline", "decline"]
    assert out.referral_reasons == [[], [], [], []]


def test_pd_in_the_grey_zone_is_referred_and_says_so():
    rules = policy.Policy(threshold=0.10, grey_zone=0.01)
    out = _decide(rules, [FULL] * 3, [0.09, 0.10, 0.1099])
    assert out.decision == ["refer"] * 3
    for reasons in out.referral_reasons:
        assert [r["rule"] for r in reasons] == [policy.GREY_ZONE]
        assert "PD within the grey zone [0.0900, 0.1100)" in reasons[0]["message"]


def test_no_grey_zone_refers_nothing_on_pd():
    rules = policy.Policy(threshold=0.10, grey_zone=0.0)
    assert _decide(rules, [FULL] * 2, [0.0999, 0.10]).decision == ["approve", "decline"]


@pytest.mark.parametrize(
    ("change", "missing"),
    [
        ({"Client_Income": None}, ["Client_Income"]),
        ({"Client_Income": "$"}, ["Client_Income"]),  # junk cleans to missing
        ({"Loan_Annuity": "#NA", "Age_Days": ""}, ["Loan_Annuity", "Age_Days"]),
        ({"Employed_Days": None}, ["Employed_Days"]),
    ],
)
def test_a_missing_required_field_refers_whatever_the_pd(change, missing):
    record = FULL | change
    rules = policy.Policy(threshold=0.10, grey_zone=0.0)
    out = _decide(rules, [record, record], [0.001, 0.999])
    assert out.decision == ["refer", "refer"]
    reason = out.referral_reasons[0][0]
    assert reason["rule"] == policy.MISSING_REQUIRED and reason["fields"] == missing
    assert reason["message"] == "required fields missing: " + ", ".join(missing)


def test_the_not_employed_sentinel_is_information():
    record = FULL | {"Employed_Days": "365243"}  # the published 'not employed' value
    rules = policy.Policy(threshold=0.10, grey_zone=0.0)
    assert _decide(rules, [record], [0.01]).decision == ["approve"]


def test_a_category_that_cleans_to_unknown_is_missing():
    rules = policy.Policy(threshold=0.10, grey_zone=0.0, required_fields=("Client_Occupation",))
    out = _decide(rules, [FULL, FULL | {"Client_Occupation": "XNA"}], [0.01, 0.01])
    assert out.decision == ["approve", "refer"]
    assert out.referral_reasons[1][0]["fields"] == ["Client_Occupation"]


def test_too_few_important_features_refers():
    rules = policy.Policy(
        threshold=0.10, grey_zone=0.0, required_fields=(),
        important_features=TOP, minimum_important_share=0.5,
    )  # fmt: skip
    # FULL lacks score 3 (3 of 4 present); then 2 of 4, then 1 of 4
    half = FULL | {"Score_Source_2": None}
    few = FULL | {"Score_Source_2": None, "Age_Days": None}
    out = _decide(rules, [FULL, half, few], [0.01, 0.01, 0.01])
    assert out.decision == ["approve", "approve", "refer"]
    assert out.referral_reasons[2] == [{
        "rule": policy.FEW_IMPORTANT,
        "message": "only 25% of the model's 4 most important features present "
        "(at least 50% required)",
    }]  # fmt: skip


def test_every_reason_is_given_together():
    rules = policy.Policy(
        threshold=0.10, grey_zone=0.02, important_features=TOP, minimum_important_share=1.0
    )
    out = _decide(rules, [{"Client_Income": "6750"}], [0.1])
    assert [r["rule"] for r in out.referral_reasons[0]] == [
        policy.MISSING_REQUIRED, policy.FEW_IMPORTANT, policy.GREY_ZONE,
    ]  # fmt: skip
    assert out.referral_reasons[0][0]["fields"] == [
        "Credit_Amount", "Loan_Annuity", "Age_Days", "Employed_Days",
    ]  # fmt: skip


def test_serving_columns_and_frame_columns_decide_alike():
    """The API's records, its gold columns and a pandas gold frame give the same decisions."""
    records = [dict(r) for r in EXAMPLE_RECORDS] + [{"Client_Income": "1"}, FULL | {"ID": "9"}]
    rules = policy.Policy(threshold=0.1, important_features=TOP, minimum_important_share=0.75)
    pds = np.array([0.05, 0.5, 0.095, 0.2])
    raw = columns.from_records(records, APPLICATION_COLUMNS)
    gold = columns.gold_from_raw(raw, len(records))
    need = rules.columns_needed()
    by_frame = rules.decide(pds, policy.gold_columns(_gold(records), need))
    by_columns = rules.decide(pds, policy.gold_columns(gold, need))
    by_records = rules.decide(pds, policy.record_columns(feature_rows(gold, need), need))
    assert by_frame == by_columns == by_records


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.sampled_from(policy.REQUIRED_FIELDS), min_size=1, unique=True),
    st.sampled_from([None, "", "$", "#", "XNA", "n/a", "NaN"]),
    st.floats(0.0, 1.0),
    st.floats(0.0, 0.2),
)
def test_nothing_lacking_a_required_field_is_approved_or_declined(drop, junk, pd_, grey):
    record = FULL | {name: junk for name in drop}
    rules = policy.Policy(threshold=0.1, grey_zone=grey)
    out = _decide(rules, [record], [pd_])
    assert out.decision == ["refer"]
    assert set(out.referral_reasons[0][0]["fields"]) == set(drop)


def test_settings_are_checked_with_what_to_change():
    with pytest.raises(ValueError, match="'Client_Incme' cannot be a required field"):
        policy.PolicySettings(required_fields=("Client_Incme",)).validate()
    with pytest.raises(ValueError, match="cannot be a required field"):
        policy.PolicySettings(required_fields=("Client_Gender",)).validate()  # protected
    with pytest.raises(ValueError, match="grey_zone must be in"):
        policy.PolicySettings(grey_zone=0.7).validate()
    with pytest.raises(ValueError, match="minimum_important_share must be in"):
        policy.PolicySettings(minimum_important_share=1.5).validate()


def test_training_builds_the_policy_from_its_threshold_and_importance():
    importance = pd.Series({"a": 0.1, "b": 0.5, "c": 0.3, "d": 0.2})
    settings_ = policy.PolicySettings(important_count=2, minimum_important_share=0.5)
    built = policy.build(settings_, 0.123, importance)
    assert built.important_features == ("b", "c") and built.threshold == 0.123
    assert built.source == policy.TRAINED
    assert policy.from_dict(json.loads(json.dumps(built.as_dict()))) == built
    none = policy.build(policy.PolicySettings(important_count=0), 0.1, importance)
    assert none.important_features == () and none.minimum_important_share == 0.0


def test_the_version_follows_the_rules_not_the_provenance():
    a = policy.Policy(threshold=0.1)
    assert a.version == policy.Policy(threshold=0.1, source="elsewhere").version
    assert a.version != policy.Policy(threshold=0.1, grey_zone=0.02).version


class _FixedPd:
    """A scorer under the contract whose PDs are given: the policy decides for real."""

    threshold = 0.1
    reason_method = "none"

    def __init__(self, rules: policy.Policy, pds: list[float]) -> None:
        self.rules, self.pds = rules, np.array(pds)
        self.policy_record = rules.as_dict()
        self.features: list[str] = []

    def predict_columns(self, gold, top_reasons=3) -> Scores:
        needed = policy.gold_columns(gold, self.rules.columns_needed())
        decided = self.rules.decide(self.pds, needed)
        cls = (self.pds >= self.threshold).astype("int64")
        return Scores(self.pds, cls, decided.decision, decided.referral_reasons, [[]] * len(cls))


def test_batch_scores_carry_the_three_decisions():
    """scores.batch_scores rows: the packaged policy applied to gold rows, as the API does."""
    from orchestration.assets.ml import SCORES_COLUMNS, score_frame

    gold = _gold([FULL, FULL, {"Client_Income": "1"}, FULL]).assign(application_id=[1, 2, 3, 4])
    rules = policy.Policy(threshold=0.1, grey_zone=0.01)
    scores = score_frame(gold, _FixedPd(rules, [0.01, 0.5, 0.01, 0.1]), "7")
    assert list(scores.columns) == list(SCORES_COLUMNS)
    assert scores["decision"].tolist() == ["approve", "decline", "refer", "refer"]
    assert scores["predicted_class"].tolist() == [0, 1, 0, 1]
    assert json.loads(scores["referral_reasons"][2])[0]["fields"] == [
        "Credit_Amount", "Loan_Annuity", "Age_Days", "Employed_Days",
    ]  # fmt: skip
    assert json.loads(scores["referral_reasons"][0]) == []
    assert set(scores["policy_version"]) == {rules.version}
