"""The column rules the dbt tests check (generated from spec.py) hold on what cleaning makes.

`loanops features render` turns the feature definition into the rule sets of the dbt
`loanops_column_rules` tests (loanops.features.sql.column_rules). These tests run the Python
side of the same definition over a raw book full of junk and check the rules against its
output: every rule holds on every kept row, and every accepted category value is one the
cleaning actually produces, so a rule that is too strict or lists a value no row can carry
fails here.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import pytest

from loanops.features import columns, frame, spec, sql
from tests.dbt.raw_book import FLAG_SPELLINGS, JUNK_FLAGS, PLACEHOLDERS, RARE, generate

RULES = sql.column_rules()


@pytest.fixture(scope="module")
def silver() -> pd.DataFrame:
    """Silver rows (the kept ones) of a junk-laden raw book, cleaned by the Python rules."""
    raw = generate(3_000, seed=11).applications
    kept = [reason is None for reason in frame.rejection_reasons(raw)]
    return frame.clean(raw)[kept]


def _is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _broken(frame_: pd.DataFrame, rules: dict[str, Any]) -> list[str]:
    """Every rule that some row breaks, named as the dbt test names it."""
    broken = []
    for column in rules.get("not_null", []):
        if any(_is_missing(v) for v in frame_[column]):
            broken.append(f"{column} not null")
    for column, values in rules.get("accepted_values", {}).items():
        present = {v for v in frame_[column] if not _is_missing(v)}
        if not present <= set(values):
            broken.append(f"{column} accepted values {sorted(map(str, present - set(values)))}")
    for column, (low, high) in rules.get("value_between", {}).items():
        numbers = np.asarray(frame_[column], dtype=float)
        if ((numbers < low) | (numbers > high)).any():
            broken.append(f"{column} between {low} and {high}")
    return broken


def test_silver_rules_hold_on_cleaned_rows(silver: pd.DataFrame) -> None:
    assert len(silver) > 2_500
    assert _broken(silver, RULES["clean_application_columns"]) == []


def test_feature_rules_hold_on_gold_features(silver: pd.DataFrame) -> None:
    assert _broken(frame.features(silver), RULES["feature_columns"]) == []


def test_label_rules_hold_on_parsed_labels() -> None:
    labels = [columns.parse_label(t) for t in (*spec.LABEL_TOKENS, " 1 ", "yes", "2", None)]
    parsed = pd.DataFrame({spec.LABEL_NAME: labels})
    assert _broken(parsed, RULES["label"]) == []


@pytest.mark.parametrize("rule", spec.CATEGORIES, ids=lambda r: r.name)
def test_every_accepted_category_is_one_cleaning_makes(rule: spec.CategoryRule) -> None:
    spellings = [*rule.values, *(v.upper() for v in rule.values), *PLACEHOLDERS, *RARE, None]
    made = set(columns.parse_categories(spellings, rule.values))
    assert set(RULES["clean_application_columns"]["accepted_values"][rule.name]) == made


def test_every_accepted_flag_value_is_one_cleaning_makes(silver: pd.DataFrame) -> None:
    accepted = RULES["feature_columns"]["accepted_values"]
    made = {v for v in columns.parse_flags([*FLAG_SPELLINGS, *JUNK_FLAGS]) if not math.isnan(v)}
    for rule in spec.FLAGS:
        assert set(accepted[rule.name]) == made, rule.name
    for rule in spec.NUMBERS:
        if rule.sentinel_flag:
            assert set(accepted[rule.sentinel_flag]) == set(silver[rule.sentinel_flag])


def test_the_rules_catch_a_value_cleaning_never_makes(silver: pd.DataFrame) -> None:
    broken = silver.copy()
    broken.loc[broken.index[0], "education"] = "Doctorate"
    broken.loc[broken.index[1], "has_car"] = 2
    broken.loc[broken.index[2], "age_days"] = -1
    broken.loc[broken.index[3], "gender"] = None
    assert _broken(broken, RULES["clean_application_columns"]) == [
        "gender not null",
        "has_car accepted values ['2.0']",
        "education accepted values ['Doctorate']",
        "age_days between 0 and 43830",
    ]
