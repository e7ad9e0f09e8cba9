"""Draw the applicants' true attributes (before anything is hidden or spoiled).

A hidden standard-normal "standing" links the external scores, income and social circle,
as in real books. Values come out in natural units; `publish` rounds them to the file's
precision, hides some and spoils some. The shifted population (drift rehearsal) has
higher incomes, younger applicants and comes mostly from small regions.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from loanops.generator import catalogue as cat
from loanops.schema import EMPLOYED_DAYS_SENTINEL

SHIFTS = ("drift",)
_YEAR = 365.25
_ADULT_DAYS = 18 * 365  # employment and registration start at 18
_AGE_LOW, _AGE_HIGH = 7_489.0, 25_229.0  # 20.5 to 69 years, as in the public data set


@dataclass
class Population:
    """True attributes of `rows` applicants; categories as codes into their label arrays."""

    rows: int
    numbers: dict[str, np.ndarray] = field(default_factory=dict)
    flags: dict[str, np.ndarray] = field(default_factory=dict)
    categories: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)


def _pick(rng: np.random.Generator, table: tuple, rows: int) -> tuple[np.ndarray, np.ndarray]:
    """Codes drawn from a (label, weight) table, with the label array."""
    return rng.choice(len(table), size=rows, p=cat.weights(table)).astype("int16"), cat.labels(
        table
    )


def _sigmoid(x: np.ndarray) -> np.ndarray:
    """The logistic function."""
    return 1.0 / (1.0 + np.exp(-x))


def draw(rng: np.random.Generator, rows: int, shift: str | None = None) -> Population:
    """Draw `rows` applicants; `shift="drift"` draws the shifted population."""
    shifted = shift == "drift"
    pop = Population(rows)
    num, flag, cats = pop.numbers, pop.flags, pop.categories
    standing = rng.standard_normal(rows)

    age_share = rng.beta(1.2, 2.8, rows) if shifted else rng.beta(1.56, 1.68, rows)
    age_days = np.round(_AGE_LOW + (_AGE_HIGH - _AGE_LOW) * age_share)
    age_years = age_days / _YEAR
    num["Age_Days"] = age_days

    # Retirement comes with age; everyone else gets a working income type.
    retired = rng.random(rows) < 0.015 + 0.92 * _sigmoid((age_years - 56.5) / 1.8)
    codes, labels = _pick(rng, cat.WORKING_INCOME_TYPES, rows)
    labels = np.append(labels, "Retired")
    codes[retired] = len(labels) - 1
    cats["Client_Income_Type"] = (codes, labels)
    not_employed = np.isin(labels[codes], list(cat.NOT_EMPLOYED_INCOME_TYPES))

    education = _pick(rng, cat.EDUCATION, rows)
    cats["Client_Education"] = education
    edu_label = education[1][education[0]]
    graduate = np.isin(edu_label, ["Graduation", "Post Grad"])
    cats["Client_Gender"] = _pick(rng, cat.GENDER, rows)
    male = cats["Client_Gender"][1][cats["Client_Gender"][0]] == "Male"
    marital = _pick(rng, cat.MARITAL, rows)
    cats["Client_Marital_Status"] = marital
    cats["Loan_Contract_Type"] = _pick(rng, cat.CONTRACT, rows)
    cats["Client_Housing_Type"] = _pick(rng, cat.HOUSING, rows)
    cats["Accompany_Client"] = _pick(rng, cat.ACCOMPANY, rows)

    org_codes, org_labels = _pick(rng, cat.ORGANIZATION, rows)
    org_labels = np.append(org_labels, cat.NOT_EMPLOYED_ORGANIZATION)
    org_codes[not_employed] = len(org_labels) - 1
    cats["Type_Organization"] = (org_codes, org_labels)
    occ_codes, occ_labels = _pick(rng, cat.OCCUPATION, rows)
    occ_codes[not_employed] = -1  # the not employed have no occupation: a structural gap
    cats["Client_Occupation"] = (occ_codes, occ_labels)

    # Employment length grows with age and never starts before 18.
    employed = np.exp(np.log(1650.0 * (age_years / 40.0) ** 1.2) + 0.95 * rng.standard_normal(rows))
    employed = np.minimum(np.round(employed), age_days - _ADULT_DAYS)
    num["Employed_Days"] = np.where(not_employed, EMPLOYED_DAYS_SENTINEL, employed)
    num["Registration_Days"] = np.round(rng.beta(1.2, 1.5, rows) * (age_days - _ADULT_DAYS))
    num["ID_Days"] = np.round(np.minimum(rng.beta(1.4, 1.9, rows) * 7_197, age_days - 14 * 365))
    phone = np.where(rng.random(rows) < 0.12, 0.0, rng.gamma(1.3, 800.0, rows))
    num["Phone_Change"] = np.round(np.minimum(phone, 4_292.0))

    log_income = (
        np.log(14_700.0)
        + 0.36 * rng.standard_normal(rows)
        + 0.08 * standing
        + 0.15 * graduate
        + 0.10 * male
        - 0.25 * retired
        + (np.log(1.35) if shifted else 0.0)
    )
    income = np.exp(log_income)
    outlier = rng.random(rows) < 0.0003  # a few implausibly large declared incomes
    income = np.where(outlier, income * rng.uniform(5, 100, rows), income)
    num["Client_Income"] = np.clip(np.round(income / 225.0) * 225.0, 2_565.0, 1_800_009.0)
    log_credit = (
        np.log(52_360.0)
        + 0.45 * (np.log(num["Client_Income"]) - np.log(15_750.0))
        + 0.50 * rng.standard_normal(rows)
    )
    credit = np.clip(np.exp(log_credit), 4_500.0, 405_000.0)
    num["Credit_Amount"] = credit
    # Bigger loans run longer, so their annuity is a smaller share of the credit.
    rate = np.exp(
        np.log(0.047)
        - 0.25 * (np.log(credit) - np.log(52_360.0))
        + 0.22 * rng.standard_normal(rows)
    )
    num["Loan_Annuity"] = np.maximum(credit * rate, 100.0)

    children = _pick(rng, cat.CHILDREN, rows)
    child_count = children[1][children[0]].astype("float64")
    many = rng.random(rows) < 0.00005  # the public file has a handful of very large families
    child_count = np.where(many, rng.integers(7, 20, rows), child_count)
    num["Child_Count"] = child_count
    married = marital[1][marital[0]] == "M"
    num["Client_Family_Members"] = child_count + np.where(married, 2.0, 1.0)

    population, rating, share = cat.regions(shifted)
    region = rng.choice(len(population), size=rows, p=share)
    num["Population_Region_Relative"] = population[region]
    num["Cleint_City_Rating"] = rating[region]

    car = rng.random(rows) < _sigmoid(-0.68 + 0.6 * (np.log(num["Client_Income"]) - 9.66))
    flag["Car_Owned"] = car.astype("int8")
    car_age = np.minimum(np.round(rng.gamma(1.6, 7.0, rows)), 63.0)
    car_age = np.where(rng.random(rows) < 0.01, rng.integers(64, 66, rows), car_age)
    num["Own_House_Age"] = np.where(car, car_age, np.nan)  # published only for car owners
    flag["Bike_Owned"] = (rng.random(rows) < 0.32).astype("int8")
    active = rng.random(rows) < 0.48
    flag["Active_Loan"] = active.astype("int8")
    flag["House_Own"] = (rng.random(rows) < 0.55 + 0.30 * (age_years - 20) / 49).astype("int8")
    flag["Mobile_Tag"] = (rng.random(rows) < 0.9995).astype("int8")
    flag["Homephone_Tag"] = (rng.random(rows) < np.where(not_employed, 0.02, 0.24)).astype("int8")
    flag["Workphone_Working"] = (rng.random(rows) < 0.28).astype("int8")
    flag["Client_Permanent_Match_Tag"] = rng.random(rows) < cat.PERMANENT_MISMATCH_SHARE
    work_share = np.where(not_employed, 0.0, cat.WORK_MISMATCH_SHARE / 0.83)
    flag["Client_Contact_Work_Tag"] = rng.random(rows) < work_share

    weekday = rng.choice(7, size=rows, p=[0.05, 0.16, 0.18, 0.17, 0.17, 0.17, 0.10])
    num["Application_Process_Day"] = weekday.astype("float64")
    num["Application_Process_Hour"] = np.clip(np.round(rng.normal(12.0, 3.3, rows)), 0, 23)

    # External scores: logit-normal, each mixing the hidden standing with its own noise;
    # the first one also tracks age, as bureau histories lengthen.
    age_std = (age_years - 44.0) / 11.8
    mixes = ((0.55, 0.35, 0.0), (0.60, 0.0, 0.35), (0.60, 0.15, 0.05))
    for i, (w_standing, w_age, offset) in enumerate(mixes, start=1):
        noise = np.sqrt(1.0 - w_standing**2 - w_age**2)
        latent = w_standing * standing + w_age * age_std + noise * rng.standard_normal(rows)
        num[f"Score_Source_{i}"] = _sigmoid(offset + 1.05 * latent)
    circle = rng.beta(1.4, 7.0, rows) * np.exp(-0.35 * standing)
    num["Social_Circle_Default"] = np.where(
        rng.random(rows) < _sigmoid(0.2 + 0.5 * standing), 0.0, np.minimum(circle, 1.0)
    )
    enquiries = rng.negative_binomial(2, 0.52, rows) + (active & (rng.random(rows) < 0.3))
    num["Credit_Bureau"] = np.minimum(enquiries, 25).astype("float64")
    return pop
