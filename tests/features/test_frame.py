"""The Python side of the one feature definition: cleaning rules, rejections and features."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from loanops.features import frame, spec, sql
from loanops.settings import REPO_ROOT


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("12500.0", 12500.0),
        (" 7 ", 7.0),
        ("+3", 3.0),
        (".5", 0.5),
        ("5.", 5.0),
        (12500, 12500.0),
        (0.1, 0.1),
        ("$", math.nan),
        ("#", math.nan),
        ("@", math.nan),
        ("&", math.nan),
        ("x", math.nan),
        ("#NA", math.nan),
        ("", math.nan),
        (None, math.nan),
        (float("nan"), math.nan),
        ("1e5", math.nan),  # exponents are not part of the grammar
        ("1,000", math.nan),
        ("1234567890123456", math.nan),  # more than 15 integer digits
    ],
)
def test_parse_number(value: object, expected: float) -> None:
    result = frame.parse_number(value)
    assert (math.isnan(result) and math.isnan(expected)) or result == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [("1", 1.0), ("0", 0.0), ("Yes", 1.0), ("no", 0.0), (" YES ", 1.0), ("1.0", 1.0),
     (True, 1.0), (0, 0.0), ("2", math.nan), ("$", math.nan), (None, math.nan)],
)  # fmt: skip
def test_parse_flag(value: object, expected: float) -> None:
    result = frame.parse_flag(value)
    assert (math.isnan(result) and math.isnan(expected)) or result == expected


EDUCATION = next(r for r in spec.CATEGORIES if r.name == "education").values
GENDER = next(r for r in spec.CATEGORIES if r.name == "gender").values


@pytest.mark.parametrize(
    ("value", "values", "expected"),
    [
        ("Post Grad", EDUCATION, "Graduation"),
        (" secondary ", EDUCATION, "Secondary"),
        ("Doctorate", EDUCATION, "other"),
        ("XNA", GENDER, "unknown"),
        ("##", GENDER, "unknown"),
        (None, GENDER, "unknown"),
        ("Female", GENDER, "Female"),
    ],
)
def test_parse_category(value: object, values: dict[str, str], expected: str) -> None:
    assert frame.parse_category(value, values) == expected


def _raw(**overrides: object) -> pd.DataFrame:
    row: dict[str, object] = {"ID": "12100001", "Client_Income": "10000", "Credit_Amount": "50000"}
    row.update(overrides)
    return pd.DataFrame([row])


def test_sentinel_becomes_missing_with_a_flag() -> None:
    silver = frame.clean(_raw(Employed_Days="365243"))
    assert math.isnan(silver.loc[0, "employed_days"])
    assert silver.loc[0, "is_not_employed"] == 1.0
    silver = frame.clean(_raw(Employed_Days="1200"))
    assert silver.loc[0, "employed_days"] == 1200.0
    assert silver.loc[0, "is_not_employed"] == 0.0


def test_rejection_names_the_rule() -> None:
    assert frame.rejection_reasons(_raw()) == [None]
    assert frame.rejection_reasons(_raw(ID="abc")) == [frame.ID_REJECTION]
    assert frame.rejection_reasons(_raw(Client_Income="-5")) == [
        "client_income is outside [0, 100000000]"
    ]
    assert frame.rejection_reasons(_raw(Score_Source_1="1.5")) == [
        "score_source_1 is outside [0, 1]"
    ]
    # junk is missing, not a rejection; the API need not send an id
    assert frame.rejection_reasons(_raw(Client_Income="$")) == [None]
    assert frame.rejection_reasons(_raw(ID=None), require_id=False) == [None]


def test_features_ratios_years_and_missing_denominators() -> None:
    raw = pd.DataFrame(
        [
            {"Client_Income": "10000", "Credit_Amount": "50000", "Loan_Annuity": "2500",
             "Age_Days": "14610", "Client_Family_Members": "2"},
            {"Client_Income": "0", "Credit_Amount": "50000", "Loan_Annuity": "$",
             "Age_Days": None, "Client_Family_Members": "0"},
        ]
    )  # fmt: skip
    gold = frame.build(raw)
    assert list(gold.columns) == [*spec.MODEL_FEATURES, *spec.PROTECTED]
    assert gold.loc[0, "credit_to_income_ratio"] == 5.0
    assert gold.loc[0, "annuity_to_credit_ratio"] == 0.05
    assert gold.loc[0, "age_years"] == 14610 / 365.25
    assert gold.loc[0, "income_per_family_member"] == 5000.0
    assert np.isnan(gold.loc[1, ["credit_to_income_ratio", "annuity_to_income_ratio",
                                  "annuity_to_credit_ratio", "income_per_family_member",
                                  "age_years"]].astype(float)).all()  # fmt: skip


def test_protected_attributes_are_not_model_features() -> None:
    assert set(spec.PROTECTED) == {"gender", "marital_status"}
    assert not set(spec.PROTECTED) & set(spec.MODEL_FEATURES)


def test_generated_macros_are_current() -> None:
    assert sql.is_current(REPO_ROOT), "run `loanops features render`"
    rendered = sql.render()
    for rule in spec.CATEGORIES:
        assert f"end as {rule.name}" in rendered
    for feature in spec.NUMERIC_FEATURES:
        assert f"as {feature.name}" in rendered
