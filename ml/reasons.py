"""Reason codes: the factors that raised an applicant's risk most, in business words.

Contributions are in the model's log-odds before calibration; calibration is monotone, so a
positive contribution raised the PD. `ml.compiled` computes them (Saabas for trees,
coefficient x (value - training mean) for the logistic model); `treeshap` gives the exact
TreeSHAP for analysis. One-hot and missing-indicator columns are summed back to their source.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline

from loanops.features import spec
from ml import pipelines

PHRASES: dict[str, str] = {
    "client_income": "Income",
    "credit_amount": "Credit amount",
    "loan_annuity": "Loan annuity",
    "child_count": "Number of children",
    "family_members": "Family size",
    "region_population_relative": "Population of the home region",
    "age_years": "Age",
    "employed_years": "Years in employment",
    "registration_years": "Years since the registration changed",
    "id_change_years": "Years since the identity document changed",
    "phone_change_years": "Years since the phone number changed",
    "house_age_years": "Age of the house",
    "city_rating": "City rating",
    "application_weekday": "Day of the application",
    "application_hour": "Hour of the application",
    "score_source_1": "External credit score 1",
    "score_source_2": "External credit score 2",
    "score_source_3": "External credit score 3",
    "social_circle_default_ratio": "Defaults in the social circle",
    "credit_bureau_enquiries": "Credit bureau enquiries",
    "credit_to_income_ratio": "Credit amount relative to income",
    "annuity_to_income_ratio": "Repayment relative to income",
    "annuity_to_credit_ratio": "Repayment relative to the credit amount",
    "income_per_family_member": "Income per family member",
    "has_car": "Owns a car",
    "has_bike": "Owns a bike",
    "has_active_loan": "Has another active loan",
    "has_house": "Owns a house",
    "has_mobile": "Gave a mobile number",
    "has_homephone": "Gave a home phone number",
    "is_workphone_reachable": "Work phone reachable",
    "is_permanent_address_mismatch": "Contact address differs from the permanent address",
    "is_work_address_mismatch": "Work address differs from the contact address",
    "is_not_employed": "Not employed",
    "accompany_client": "Accompanied by",
    "income_type": "Income type",
    "education": "Education",
    "contract_type": "Loan type",
    "housing_type": "Housing",
    "occupation": "Occupation",
    "organization_type": "Employer type",
    "marital_status": "Marital status",
    "gender": "Gender",
}
assert set(PHRASES) >= {*spec.MODEL_FEATURES, *spec.PROTECTED}, "every feature needs a phrase"


def source_of(output_name: str, features: Sequence[str]) -> str:
    """The source feature of a transformed column ('cat__occupation_Drivers' -> 'occupation')."""
    name = output_name.split("__", 1)[-1].removeprefix("missingindicator_")
    matches = [f for f in features if name == f or name.startswith(f + "_")]
    if not matches:
        raise KeyError(f"no source feature for {output_name!r}")
    return max(matches, key=len)  # 'score_source_1' must not be claimed by a shorter name


def aggregation(output_names: Sequence[str], features: Sequence[str]) -> np.ndarray:
    """A 0/1 matrix (transformed columns x source features) that sums parts back to sources."""
    matrix = np.zeros((len(output_names), len(features)))
    position = {f: i for i, f in enumerate(features)}
    for row, name in enumerate(output_names):
        matrix[row, position[source_of(name, features)]] = 1.0
    return matrix


def treeshap(family: str, pipeline: Pipeline, transformed: np.ndarray) -> np.ndarray:
    """Exact TreeSHAP per transformed column from the tree library (bias column dropped)."""
    model = pipeline.named_steps["model"]
    if family == pipelines.LIGHTGBM:
        return np.asarray(model.predict(transformed, pred_contrib=True))[:, :-1]
    if family == pipelines.XGBOOST:
        import xgboost

        booster = model.get_booster()
        return booster.predict(xgboost.DMatrix(transformed), pred_contribs=True)[:, :-1]
    raise ValueError(f"no TreeSHAP for family {family!r}")


def phrase(feature: str, value: object, median: float | None) -> str:
    """The business words for one factor and the applicant's value."""
    label = PHRASES.get(feature, feature)
    if feature in spec.CATEGORY_FEATURES or feature in spec.PROTECTED:
        return f"{label}: {value}"
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return f"{label} not given"
    if feature in spec.FLAG_FEATURES:
        return f"{label}: {'yes' if float(value) >= 0.5 else 'no'}"  # type: ignore[arg-type]
    declared = spec.RISK_DIRECTIONS.get(feature)
    if declared is not None:  # risk moves one way only: it rose because the value is on that side
        direction = "high" if declared > 0 else "low"
    else:
        direction = "high" if median is None or float(value) > median else "low"  # type: ignore[arg-type]
    return f"{label} {direction} ({float(value):.4g})"  # type: ignore[arg-type]


def top_reasons(
    contributions: pd.DataFrame, gold: pd.DataFrame, medians: dict[str, float], top: int = 3
) -> list[list[str]]:
    """For each row, the phrases of the `top` factors with the largest positive contribution."""
    return top_reasons_matrix(
        contributions.to_numpy("float64"), list(contributions.columns), gold, medians, top
    )


def top_reasons_matrix(
    values: np.ndarray,
    names: Sequence[str],
    gold: Mapping[str, Any],
    medians: dict[str, float],
    top: int = 3,
) -> list[list[str]]:
    """`top_reasons` on a rows x features matrix: one sort for all rows, no per-row pandas.

    Ties keep the column order (a stable sort of the negated values), as the per-row version did.
    """
    rows = len(values)
    if rows == 0:
        return []
    order = np.argsort(-values, axis=1, kind="stable")[:, :top]
    chosen = np.take_along_axis(values, order, axis=1)
    positive = chosen > 0
    columns: dict[int, list[Any]] = {}
    for j in np.unique(order[positive]).tolist():
        column = gold[names[j]]  # Python scalars: phrase() is ~3x cheaper on them
        columns[j] = column if isinstance(column, list) else column.tolist()
    out: list[list[str]] = []
    for i in range(rows):
        picks = []
        for k in range(order.shape[1]):
            if positive[i, k]:
                j = int(order[i, k])
                name = names[j]
                picks.append(phrase(name, columns[j][i], medians.get(name)))
        out.append(picks)
    return out
