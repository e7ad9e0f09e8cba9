"""The latent default model: a logistic score over what the published file shows.

`score` reads silver columns (the cleaned view of the file, names from
loanops.features.spec), so the true probability is a function of the published row alone:
a value that is missing or junk contributes its "missing" term (zero, the population
average), never its hidden true value. Thresholds and interactions (scores x age, active
loan x enquiries, steps in affordability) give trees an edge over a linear model.
docs/generator.md explains each term.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from loanops.features import spec

_YEAR = spec.DAYS_PER_YEAR

# External scores: (silver name, weight per unit of score logit, centre of that logit).
SCORES = (("score_source_1", 1.6, 0.0), ("score_source_2", 2.4, 0.05), ("score_source_3", 2.6, 0.0))

EDUCATION = {
    "Graduation": -0.30,
    "Secondary": 0.05,
    "Graduation dropout": 0.15,
    "Junior secondary": 0.30,
}
INCOME_TYPE = {
    "Service": 0.05,
    "Commercial": 0.08,
    "Retired": -0.15,
    "Govt Job": -0.25,
    "other": 0.40,
}
CONTRACT = {"CL": 0.03, "RL": -0.30}
ORGANIZATION = {
    "Self-employed": 0.20, "Business Entity Type 3": 0.08, "Construction": 0.30,
    "Restaurant": 0.30, "Transport: type 3": 0.45, "Cleaning": 0.25, "Agriculture": 0.15,
    "Realtor": 0.25, "Industry: type 1": 0.20, "Industry: type 3": 0.15, "Trade: type 3": 0.15,
    "Security": 0.12, "Bank": -0.35, "Military": -0.35, "Security Ministries": -0.40,
    "Police": -0.30, "University": -0.35, "School": -0.20, "Government": -0.10,
    "Medicine": -0.05, "Kindergarten": -0.05, "Electricity": -0.15, "Trade: type 6": -0.25,
    "Industry: type 12": -0.35, "Insurance": -0.15, "Culture": -0.15,
}  # fmt: skip
OCCUPATION = {
    "Low-skill Laborers": 0.55, "Drivers": 0.28, "Waiters/barmen": 0.25, "Laborers": 0.15,
    "Security": 0.15, "Cooking": 0.15, "Cleaning": 0.10, "Sales": 0.05, "Realty agents": 0.05,
    "Accountants": -0.35, "Managers": -0.20, "High skill tech": -0.20, "Core": -0.10,
    "Medicine": -0.10, "HR": -0.15, "IT": -0.15, "Secretaries": -0.05,
}  # fmt: skip
CATEGORY_EFFECTS = {
    "education": EDUCATION,
    "income_type": INCOME_TYPE,
    "contract_type": CONTRACT,
    "organization_type": ORGANIZATION,
    "occupation": OCCUPATION,
}
# Centred flag effects: coefficient x (flag - typical share); a missing flag adds nothing.
FLAG_EFFECTS = {
    "has_car": (-0.25, 0.34), "has_house": (-0.12, 0.70), "has_active_loan": (0.12, 0.48),
    "is_permanent_address_mismatch": (0.20, 0.08), "is_work_address_mismatch": (0.15, 0.18),
}  # fmt: skip


def _present(*values: np.ndarray) -> np.ndarray:
    """True where none of the values is missing."""
    ok = np.ones(values[0].shape, dtype=bool)
    for value in values:
        ok &= ~np.isnan(value)
    return ok


def _term(ok: np.ndarray, contribution: np.ndarray) -> np.ndarray:
    """The contribution where its inputs are present, zero (the average) where not."""
    return np.where(ok, np.nan_to_num(contribution), 0.0)


def _array(silver: Mapping[str, object], name: str) -> np.ndarray:
    """One silver column as float64."""
    return np.asarray(silver[name], dtype="float64")


def _scores(silver: Mapping[str, object], age_years: np.ndarray) -> np.ndarray:
    """External scores, stronger for young applicants, with a cliff for very low scores."""
    total = np.zeros(age_years.shape)
    lowest = np.full(age_years.shape, np.inf)
    for name, weight, centre in SCORES:
        s = _array(silver, name)
        ok = _present(s)
        # Convex: risk climbs steeply as a score falls towards zero. 0.10 is the term's mean
        # over the book, so a missing score counts as an average one.
        total += _term(ok, weight * (np.exp(-6.0 * (s - centre)) - 0.10))
        lowest = np.where(ok, np.minimum(lowest, s), lowest)
    # Young applicants have thin files: the scores say more about them. Without an age the
    # factor is roughly the book's average.
    young = np.where(_present(age_years), np.clip((45.0 - age_years) / 25.0, 0.0, 1.0), 0.3)
    return total * (1.0 + young) + 0.5 * (lowest < 0.2)


def _affordability(silver: Mapping[str, object]) -> np.ndarray:
    """Credit and annuity against income, and the repayment rate (annuity / credit)."""
    income = _array(silver, "client_income")
    credit = _array(silver, "credit_amount")
    annuity = _array(silver, "loan_annuity")
    with np.errstate(divide="ignore", invalid="ignore"):
        credit_ratio = credit / income
        annuity_ratio = annuity / income
        rate = annuity / credit
        out = _term(
            _present(credit_ratio) & (income > 0),
            0.25 - 0.35 * np.minimum(np.log(credit_ratio / 3.5) ** 2, 3.0),
        )
        out += _term(
            _present(annuity_ratio) & (income > 0),
            0.9 * np.clip(annuity_ratio - 0.17, -0.15, 0.3) + 0.6 * (annuity_ratio > 0.3),
        )
        # Mid-length loans (about 20 payments) are the riskiest.
        out += _term(
            _present(rate) & (credit > 0),
            0.35 * np.exp(-((np.log(rate / 0.05) / 0.25) ** 2)) - 0.15,
        )
    return out


def _person(silver: Mapping[str, object], age_years: np.ndarray) -> np.ndarray:
    """Age, employment, region, bureau, social circle, family and recent changes."""
    out = _term(_present(age_years), 0.45 * np.clip((40.0 - age_years) / 15.0, -1.0, 1.3))
    out += _term(_present(age_years), 0.25 * (age_years < 25.0) + 0.45 * (age_years > 60.0))
    hour = _array(silver, "application_hour")
    out += _term(_present(hour), 0.6 * ((hour < 7.0) | (hour > 20.0)) - 0.02)
    not_employed = _array(silver, "is_not_employed") == 1.0
    years = _array(silver, "employed_days") / _YEAR
    out += np.where(not_employed, -0.30, _term(_present(years), 0.35 - 0.22 * np.log1p(years)))
    rating = _array(silver, "city_rating")
    out += _term(_present(rating), -0.22 * (rating - 2.0))
    region = _array(silver, "region_population_relative")
    out += _term(_present(region), -4.0 * (region - 0.02))
    enquiries = _array(silver, "credit_bureau_enquiries")
    active = _array(silver, "has_active_loan")
    out += _term(_present(enquiries), 0.07 * (np.minimum(enquiries, 8.0) - 2.0))
    out += _term(_present(enquiries, active), 0.40 * ((active == 1.0) & (enquiries >= 5.0)))
    circle = _array(silver, "social_circle_default_ratio")
    out += _term(_present(circle), 1.6 * (circle - 0.08) + 0.35 * (circle > 0.3))
    car_age = _array(silver, "house_age_years")
    out += _term(_present(car_age), 0.012 * (np.minimum(car_age, 30.0) - 10.0))
    children = _array(silver, "child_count")
    out += _term(_present(children), 0.08 * (np.minimum(children, 4.0) - 0.4))
    phone = _array(silver, "phone_change_days")
    out += _term(_present(phone), 0.25 * (0.8 - np.minimum(phone, 2500.0) / 1250.0))
    id_change = _array(silver, "id_change_days")
    out += _term(_present(id_change), 0.15 * (0.85 - np.minimum(id_change, 6000.0) / 3000.0))
    return out


def score(silver: Mapping[str, object]) -> np.ndarray:
    """The default log-odds of each application, without the intercept."""
    age_years = _array(silver, "age_days") / _YEAR
    out = _scores(silver, age_years) + _affordability(silver) + _person(silver, age_years)
    for name, (coefficient, share) in FLAG_EFFECTS.items():
        flag = _array(silver, name)
        out += _term(_present(flag), coefficient * (flag - share))
    for name, effects in CATEGORY_EFFECTS.items():
        # Unknown and unlisted categories add nothing: a gap is the average applicant.
        out += (
            pd.Series(np.asarray(silver[name], dtype=object))
            .map(effects)
            .fillna(0.0)
            .to_numpy("float64")
        )
    return out


def probability(log_odds: np.ndarray, intercept: float) -> np.ndarray:
    """Default probability from the score and the intercept."""
    return 1.0 / (1.0 + np.exp(-(log_odds + intercept)))


def calibrate(log_odds: np.ndarray, target: float) -> float:
    """The intercept that makes the mean probability equal `target` (bisection)."""
    low, high = -20.0, 20.0
    for _ in range(60):
        middle = (low + high) / 2.0
        if probability(log_odds, middle).mean() < target:
            low = middle
        else:
            high = middle
    return (low + high) / 2.0
