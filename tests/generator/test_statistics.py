"""The book's statistics against the public data set's profile (docs/generator.md)."""

from __future__ import annotations

import numpy as np
import pytest

from loanops.features import columns
from loanops.generator import catalogue

# Missing shares from the NBFI profile (percent of rows).
PROFILE_MISSING = {
    "Own_House_Age": 65.7, "Score_Source_1": 56.5, "Social_Circle_Default": 50.8,
    "Client_Occupation": 34.0, "Score_Source_3": 22.1, "Credit_Bureau": 15.2, "ID_Days": 4.9,
    "Score_Source_2": 4.7, "Population_Region_Relative": 4.0, "Loan_Annuity": 4.0,
    "Client_Income_Type": 3.0, "Employed_Days": 3.0, "Client_Income": 3.0, "Age_Days": 3.0,
    "Car_Owned": 3.0, "Type_Organization": 3.0, "Application_Process_Day": 2.0,
    "Client_Gender": 2.0, "Cleint_City_Rating": 2.0, "Accompany_Client": 1.4,
    "Mobile_Tag": 0.0, "Homephone_Tag": 0.0, "Workphone_Working": 0.0,
    "Client_Permanent_Match_Tag": 0.0, "Client_Contact_Work_Tag": 0.0,
}  # fmt: skip


def _numbers(book, name):
    return np.array([columns.parse_number(v) for v in book.applications[name]], "float64")


def test_default_rate_is_the_published_one(book):
    assert book.true_pd["true_pd"].mean() == pytest.approx(0.0808, abs=1e-6)
    assert abs(book.default_rate - 0.0808) < 0.006
    assert set(book.applications["Default"]) == {"0", "1"}


@pytest.mark.parametrize(("column", "percent"), sorted(PROFILE_MISSING.items()))
def test_missing_rates_follow_the_profile(book, column, percent):
    assert abs(book.applications[column].isna().mean() * 100 - percent) <= 1.5


def test_numbers_are_close_to_the_profile(book):
    assert np.nanmedian(_numbers(book, "Client_Income")) == pytest.approx(15_750, rel=0.08)
    assert np.nanmean(_numbers(book, "Client_Income")) == pytest.approx(16_865, rel=0.08)
    assert np.nanmedian(_numbers(book, "Credit_Amount")) == pytest.approx(52_360, rel=0.08)
    assert np.nanmean(_numbers(book, "Loan_Annuity")) == pytest.approx(2_721, rel=0.08)
    assert np.nanmean(_numbers(book, "Age_Days")) == pytest.approx(16_019, rel=0.03)
    assert np.nanstd(_numbers(book, "Age_Days")) == pytest.approx(4_302, rel=0.08)
    assert np.nanmean(_numbers(book, "Child_Count")) == pytest.approx(0.41, abs=0.05)
    for flag, share in {"Car_Owned": 0.33, "Bike_Owned": 0.32, "Active_Loan": 0.48}.items():
        assert np.nanmean(_numbers(book, flag)) == pytest.approx(share, abs=0.02), flag
    assert np.nanmean(_numbers(book, "House_Own")) == pytest.approx(0.70, abs=0.02)
    assert set(book.applications["Cleint_City_Rating"].dropna().str[0]) >= {"1", "2", "3"}


def test_category_mixes_follow_the_profile(book):
    apps = book.applications

    def share(column, value):
        return (apps[column] == value).sum() / apps[column].notna().sum()

    assert share("Accompany_Client", "Alone") == pytest.approx(0.813, abs=0.02)
    assert share("Accompany_Client", "Relative") == pytest.approx(0.129, abs=0.015)
    assert {"Kids", "Other", "Group", "##"} <= set(apps["Accompany_Client"])
    assert share("Client_Income_Type", "Service") == pytest.approx(0.531, abs=0.03)
    assert share("Client_Income_Type", "Retired") == pytest.approx(0.173, abs=0.02)
    rare = apps["Client_Income_Type"].isin(
        ["Student", "Unemployed", "Maternity leave", "Businessman"]
    )
    assert 0 < rare.sum() < 30
    assert share("Client_Education", "Secondary") == pytest.approx(0.719, abs=0.02)
    assert (apps["Client_Education"] == "Post Grad").sum() > 10
    assert share("Client_Gender", "Female") == pytest.approx(0.336, abs=0.02)
    assert (apps["Client_Gender"] == "XNA").sum() > 0
    assert set(apps["Client_Marital_Status"].dropna()) == {"M", "S", "D", "W"}
    assert apps["Client_Marital_Status"].mode()[0] == "M"
    assert set(apps["Loan_Contract_Type"].dropna()) == {"CL", "RL"}
    assert apps["Client_Housing_Type"].mode()[0] == "Home"
    assert apps["Client_Housing_Type"].nunique() == 6
    assert apps["Type_Organization"].nunique() == 58
    assert apps["Type_Organization"].mode()[0] == "Business Entity Type 3"
    assert apps["Client_Occupation"].nunique() == len(catalogue.OCCUPATION)
