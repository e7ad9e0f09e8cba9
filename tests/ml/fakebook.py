"""A small stand-in for `loanops.generator.generate_book` (raw published columns + true PD).

Used only while the real generator has not landed; `book()` prefers the real one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from loanops.schema import FIRST_ID


@dataclass
class FakeBook:
    applications: pd.DataFrame
    true_pd: np.ndarray


def _maybe_missing(rng, values, share):
    values = values.astype(object)
    values[rng.random(len(values)) < share] = None
    return values


def fake_book(rows: int, seed: int = 0, first_id: int = FIRST_ID) -> FakeBook:
    rng = np.random.default_rng(seed)
    n = rows
    s1, s2, s3 = rng.beta(4, 3, n), rng.beta(5, 3, n), rng.beta(4, 3, n)
    age = rng.uniform(21, 68, n) * 365.25
    employed = np.where(rng.random(n) < 0.15, 365243.0, rng.gamma(2, 900, n))
    income = np.round(np.exp(rng.normal(9.6, 0.5, n)), 0)
    credit = np.round(income * rng.uniform(1.0, 7.0, n), 2)
    annuity = np.round(credit * rng.uniform(0.03, 0.09, n), 2)
    active = (rng.random(n) < 0.48).astype(int)
    occupation = rng.choice(["Laborers", "Sales", "Core", "Managers", "Drivers"], n)
    gender = rng.choice(["Male", "Female", "XNA"], n, p=[0.66, 0.33, 0.01])
    marital = rng.choice(["M", "S", "D", "W"], n, p=[0.6, 0.2, 0.1, 0.1])
    logit = (
        -2.6
        - 6.0 * (s2 - 0.6)
        - 5.0 * (s3 - 0.55)
        - 3.0 * (s1 - 0.55)
        + 1.2 * ((age / 365.25) < 28)  # a step: trees find it, a line does not
        + 0.4 * active
        + 0.5 * (occupation == "Drivers")
        + 0.3 * (credit / income > 5)
        - 0.2 * (employed == 365243.0)
    )
    true_pd = 1 / (1 + np.exp(-logit))
    default = (rng.random(n) < true_pd).astype(int)
    score1 = _maybe_missing(rng, np.round(s1, 6), 0.5)
    income_text = _maybe_missing(rng, income.astype(str), 0.03)
    junk = rng.random(n) < 0.02
    income_text[junk] = rng.choice(["$", "#", "@", "x"], int(junk.sum()))
    raw = pd.DataFrame(
        {
            "ID": np.arange(first_id, first_id + n),
            "Client_Income": income_text,
            "Car_Owned": rng.integers(0, 2, n),
            "Bike_Owned": rng.integers(0, 2, n),
            "Active_Loan": active,
            "House_Own": rng.integers(0, 2, n),
            "Child_Count": rng.integers(0, 3, n),
            "Credit_Amount": credit,
            "Loan_Annuity": _maybe_missing(rng, annuity, 0.04),
            "Accompany_Client": rng.choice(["Alone", "Relative", "Partner", "##"], n),
            "Client_Income_Type": rng.choice(["Service", "Commercial", "Retired"], n),
            "Client_Education": rng.choice(["Secondary", "Graduation"], n),
            "Client_Marital_Status": marital,
            "Client_Gender": gender,
            "Loan_Contract_Type": rng.choice(["CL", "RL"], n, p=[0.9, 0.1]),
            "Client_Housing_Type": rng.choice(["Home", "Family", "Rental"], n),
            "Population_Region_Relative": np.round(rng.uniform(0.001, 0.07, n), 6),
            "Age_Days": np.round(age, 0),
            "Employed_Days": np.round(employed, 0),
            "Registration_Days": rng.integers(0, 15000, n),
            "ID_Days": rng.integers(0, 6000, n),
            "Own_House_Age": _maybe_missing(rng, rng.integers(0, 40, n), 0.65),
            "Mobile_Tag": 1,
            "Homephone_Tag": rng.integers(0, 2, n),
            "Workphone_Working": rng.integers(0, 2, n),
            "Client_Occupation": _maybe_missing(rng, occupation, 0.3),
            "Client_Family_Members": rng.integers(1, 5, n),
            "Cleint_City_Rating": rng.integers(1, 4, n),
            "Application_Process_Day": rng.integers(0, 7, n),
            "Application_Process_Hour": rng.integers(0, 24, n),
            "Client_Permanent_Match_Tag": rng.choice(["Yes", "No"], n),
            "Client_Contact_Work_Tag": rng.choice(["Yes", "No"], n),
            "Type_Organization": rng.choice(["Self-employed", "School", "XNA"], n),
            "Score_Source_1": score1,
            "Score_Source_2": np.round(s2, 6),
            "Score_Source_3": _maybe_missing(rng, np.round(s3, 6), 0.2),
            "Social_Circle_Default": _maybe_missing(rng, np.round(rng.uniform(0, 0.3, n), 4), 0.5),
            "Phone_Change": rng.integers(0, 3000, n),
            "Credit_Bureau": _maybe_missing(rng, rng.integers(0, 6, n), 0.15),
            "Default": default,
        }
    )
    return FakeBook(raw, true_pd)
