"""The published layout: columns, ids, spellings and value ranges."""

from __future__ import annotations

import numpy as np
import pandas as pd

from loanops.features import columns, frame
from loanops.generator import FIRST_ID, generate_book
from loanops.schema import BY_NAME, COLUMNS, PUBLISHED_COLUMNS, Kind

JUNK = {"$", "#", "@", "&", "x", "#NA"}
NUMBERS = [c.name for c in COLUMNS if c.kind == Kind.NUMBER]
FLAGS = [c.name for c in COLUMNS if c.kind == Kind.FLAG]


def _parsed(values: pd.Series) -> np.ndarray:
    return np.array([columns.parse_number(v) for v in values], dtype="float64")


def test_columns_are_the_published_ones_in_order(book):
    assert list(book.applications.columns) == list(PUBLISHED_COLUMNS)
    assert "Cleint_City_Rating" in book.applications.columns
    assert list(book.true_pd.columns) == ["ID", "true_pd"]


def test_ids_are_contiguous_from_the_first_id(book):
    ids = book.applications["ID"].astype("int64").to_numpy()
    assert ids[0] == FIRST_ID == 12_100_001
    assert np.array_equal(ids, np.arange(FIRST_ID, FIRST_ID + len(ids)))
    other = generate_book(50, seed=1, first_id=555)
    assert other.applications["ID"].tolist() == [str(i) for i in range(555, 605)]
    assert other.true_pd["ID"].tolist() == list(range(555, 605))


def test_same_seed_gives_the_same_book_and_another_seed_does_not():
    first = generate_book(2_000, seed=11)
    again = generate_book(2_000, seed=11)
    other = generate_book(2_000, seed=12)
    pd.testing.assert_frame_equal(first.applications, again.applications)
    assert not first.applications.drop(columns="ID").equals(other.applications.drop(columns="ID"))


def test_every_value_that_is_not_junk_is_within_the_schema_range(book, silver):
    for name in NUMBERS:
        values = _parsed(book.applications[name])
        present = values[~np.isnan(values)]
        column = BY_NAME[name]
        assert present.size > 0, name
        assert present.min() >= column.low and present.max() <= column.high, name
    assert all(reason is None for reason in frame.rejection_reasons(book.applications))
    for name in ("score_source_1", "score_source_2", "score_source_3"):
        assert silver[name].between(0, 1).sum() == silver[name].notna().sum()
    days = ["age_days", "employed_days", "registration_days", "id_change_days", "phone_change_days"]
    assert (silver[days].fillna(0) >= 0).all().all()


def test_numeric_columns_carry_a_few_junk_tokens(book):
    total_junk = total_present = 0
    for name in NUMBERS:
        text = book.applications[name]
        present = text.notna()
        junk = present & np.isnan(_parsed(text))
        assert set(text[junk]) <= JUNK, name
        assert junk.sum() > 0, name
        total_junk += junk.sum()
        total_present += present.sum()
    assert 0.005 <= total_junk / total_present <= 0.01


def test_numbers_are_sometimes_written_with_a_trailing_point_zero(book):
    income = book.applications["Client_Income"].dropna()
    income = income[~income.isin(JUNK)]
    with_point = income.str.endswith(".0").mean()
    assert 0.2 < with_point < 0.5
    assert book.applications["Score_Source_2"].dropna().str.match(r"^0\.\d{6}$|^[&#]$").all()


def test_flags_are_zero_one_and_the_two_tags_yes_no(book):
    for name in FLAGS:
        values = set(book.applications[name].dropna())
        if name in ("Client_Permanent_Match_Tag", "Client_Contact_Work_Tag"):
            assert values == {"Yes", "No"}, name
            assert book.applications[name].notna().all()
        else:
            assert values <= {"0", "1", "0.0", "1.0"} and {"0", "1"} <= values, name


def test_not_employed_have_the_employed_days_sentinel_and_no_organisation(book, silver):
    apps = book.applications
    employed_days = _parsed(apps["Employed_Days"])
    retired = (apps["Client_Income_Type"] == "Retired").to_numpy() & ~np.isnan(employed_days)
    assert retired.sum() > 3_000
    assert (employed_days[retired] == 365_243).all()
    working = apps["Client_Income_Type"].isin(["Service", "Commercial", "Govt Job"]).to_numpy()
    assert np.nanmax(employed_days[working]) < 365_243
    assert 0.15 < silver["is_not_employed"].mean() < 0.20
    known = retired & apps["Type_Organization"].notna().to_numpy()
    assert (apps["Type_Organization"][known] == "XNA").all()
    assert apps["Client_Occupation"][retired].isna().all()
