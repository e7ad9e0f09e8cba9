"""The Python side of the one feature definition: cleaning rules, rejections and features."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loanops.features import columns, frame, spec, sql
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
    result = columns.parse_number(value)
    assert (math.isnan(result) and math.isnan(expected)) or result == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [("1", 1.0), ("0", 0.0), ("Yes", 1.0), ("no", 0.0), (" YES ", 1.0), ("1.0", 1.0),
     (True, 1.0), (0, 0.0), ("2", math.nan), ("$", math.nan), (None, math.nan)],
)  # fmt: skip
def test_parse_flag(value: object, expected: float) -> None:
    result = columns.parse_flag(value)
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
    assert columns.parse_category(value, values) == expected


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
    assert frame.rejection_reasons(_raw(ID="abc")) == [columns.ID_REJECTION]
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


# The column parsers take shortcuts by type; they must give bit for bit what the per-value
# rules give, including the signs of zero and the edges of the plain-decimal float band.
_EDGE_FLOATS = [0.0, -0.0, 1e-4, -1e-4, 9.999999999999999e-05, 1e15, -1e15, 999999999999999.9,
                1e16, 5e-324, float("inf"), float("-inf"), float("nan"), 0.1, 123.456]  # fmt: skip
_EDGE_INTS = [0, 1, -1, 10**15, 10**15 - 1, -(10**15) + 1, -(10**15), 2**63, -(2**70)]
_EDGE_TEXT = ["", " ", "1", " 1 ", "1.0", "Yes", "no", "+.5", "1e5", "$", "１２", "\x00", "-0"]
_ANY_VALUE = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=20),
    st.sampled_from([*_EDGE_FLOATS, *_EDGE_INTS, *_EDGE_TEXT, np.float64(2.5), np.int64(7)]),
    st.from_regex(spec.NUMBER_PATTERN, fullmatch=True).map(lambda t: f" {t}"),
)  # fmt: skip


def _same(a: float, b: float) -> bool:
    """Bitwise equality for floats (NaN equals NaN, -0.0 differs from 0.0)."""
    return np.float64(a).tobytes() == np.float64(b).tobytes() or (math.isnan(a) and math.isnan(b))


@settings(max_examples=400, deadline=None)
@given(st.lists(_ANY_VALUE, max_size=30))
def test_column_parsers_equal_the_per_value_rules(values: list[object]) -> None:
    numbers, flags = columns.parse_numbers(values), columns.parse_flags(values)
    assert numbers.dtype == flags.dtype == np.float64
    assert all(_same(n, columns.parse_number(v)) for n, v in zip(numbers, values, strict=True))
    assert all(_same(f, columns.parse_flag(v)) for f, v in zip(flags, values, strict=True))
    assert columns.parse_categories(values, EDUCATION) == [
        columns.parse_category(v, EDUCATION) for v in values
    ]


def test_column_parsers_cover_the_edges() -> None:
    values = [*_EDGE_FLOATS, *_EDGE_INTS, *_EDGE_TEXT, True, False, None, np.float64(0.5)]
    expected = [columns.parse_number(v) for v in values]
    assert all(_same(a, b) for a, b in zip(columns.parse_numbers(values), expected, strict=True))
    # the band is what decides: inside it floats pass through, outside they are junk
    assert columns.parse_numbers([1e-4, 9.9e-5, 999999999999999.9, 1e15]).tolist()[::2] == [
        1e-4, 999999999999999.9,
    ]  # fmt: skip
    assert np.isnan(columns.parse_numbers([9.9e-5, 1e15])).all()
    # 1 and True and 1.0 are distinct keys for the memo (their text differs: '1', 'true', '1.0')
    assert columns.parse_flags([1, True, 1.0, "1"]).tolist() == [
        columns.parse_flag(v) for v in (1, True, 1.0, "1")
    ]
