"""The three candidate families, each a scikit-learn Pipeline fitted on the training split only.

Imputation, encoding and scaling live inside the pipeline, so their
statistics come from the rows the pipeline is fitted on and nothing leaks from test rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

from loanops.features import spec

LOGISTIC = "logistic"
XGBOOST = "xgboost"
LIGHTGBM = "lightgbm"
FAMILIES: tuple[str, ...] = (LOGISTIC, XGBOOST, LIGHTGBM)
TREES = (XGBOOST, LIGHTGBM)


def feature_columns(include_protected: bool = False) -> tuple[list[str], list[str]]:
    """(numeric and flag columns, category columns) the model reads."""
    numeric = [*spec.NUMERIC_FEATURE_NAMES, *spec.FLAG_FEATURES]
    categories = list(spec.CATEGORY_FEATURES)
    if include_protected:  # protected attributes: only when a setting asks for them
        categories += list(spec.PROTECTED)
    return numeric, categories


def signed_log(values: Any) -> Any:
    """log1p of the magnitude, sign kept: tames incomes in the millions for a linear model."""
    return np.sign(values) * np.log1p(np.abs(values))


def _one_hot() -> OneHotEncoder:
    """One column per category seen in training; categories never seen are all zeros."""
    return OneHotEncoder(handle_unknown="ignore", sparse_output=False, dtype="float64")


def preprocessor(
    family: str, numeric: Sequence[str], categories: Sequence[str]
) -> ColumnTransformer:
    """Imputation/encoding/scaling for one family."""
    if family == LOGISTIC:
        numbers = Pipeline(
            [
                # The indicator keeps "missing" as information instead of hiding it in the median.
                ("impute", SimpleImputer(strategy="median", add_indicator=True)),
                ("log", FunctionTransformer(signed_log, feature_names_out="one-to-one")),
                ("scale", StandardScaler()),
            ]
        )
    else:  # trees split on missing values natively, so they get the numbers as they are
        numbers = "passthrough"
    return ColumnTransformer(
        [("num", numbers, list(numeric)), ("cat", _one_hot(), list(categories))],
        verbose_feature_names_out=True,
    )


def estimator(
    family: str, params: dict[str, Any], positive_weight: float, seed: int, threads: int = 1
) -> Any:
    """The classifier of one family; imbalance is handled with weights, never by dropping rows."""
    if family == LOGISTIC:
        return LogisticRegression(
            C=params.get("C", 1.0),
            class_weight={0: 1.0, 1: positive_weight},
            max_iter=2000,
        )
    if family == XGBOOST:
        from xgboost import XGBClassifier

        return XGBClassifier(
            n_estimators=params.get("n_estimators", 250),
            learning_rate=params.get("learning_rate", 0.08),
            max_depth=params.get("max_depth", 4),
            min_child_weight=params.get("min_child_weight", 5.0),
            subsample=params.get("subsample", 0.8),
            colsample_bytree=params.get("colsample_bytree", 0.8),
            reg_lambda=params.get("reg_lambda", 1.0),
            scale_pos_weight=positive_weight,
            tree_method="hist",
            n_jobs=threads,
            random_state=seed,
            eval_metric="auc",
        )
    if family == LIGHTGBM:
        from lightgbm import LGBMClassifier

        return LGBMClassifier(
            n_estimators=params.get("n_estimators", 250),
            learning_rate=params.get("learning_rate", 0.08),
            num_leaves=params.get("num_leaves", 15),
            min_child_samples=params.get("min_child_samples", 50),
            subsample=params.get("subsample", 0.8),
            subsample_freq=1,
            colsample_bytree=params.get("colsample_bytree", 0.8),
            reg_lambda=params.get("reg_lambda", 1.0),
            scale_pos_weight=positive_weight,
            n_jobs=threads,
            random_state=seed,
            verbose=-1,
        )
    raise ValueError(f"unknown family {family!r}: choose from {', '.join(FAMILIES)}")


def _source(output_name: str) -> str:
    """The gold column of a transformed numeric column ('num__age_years' -> 'age_years')."""
    return output_name.split("__", 1)[-1]


def monotone_constraints(output_names: Sequence[str]) -> tuple[int, ...]:
    """Each transformed column's declared direction of risk (0 where none is declared)."""
    return tuple(spec.RISK_DIRECTIONS.get(_source(name), 0) for name in output_names)


def sign_violations(pipeline: Pipeline) -> list[str]:
    """Features whose logistic coefficient points against their declared direction of risk.

    The transform of a numeric column (impute, signed log, scale) is increasing, so the sign of
    its coefficient is the sign of its effect on the PD.
    """
    names = pipeline.named_steps["prep"].get_feature_names_out()
    coefficients = pipeline.named_steps["model"].coef_[0]
    return [
        _source(name)
        for name, coefficient, direction in zip(
            names, coefficients, monotone_constraints(names), strict=True
        )
        if direction * coefficient < 0
    ]


def fit(
    pipeline: Pipeline, family: str, rows: Any, y: np.ndarray, monotone: bool = True
) -> Pipeline:
    """Fit the pipeline; trees get the declared directions of risk as monotone constraints.

    The constraints name transformed columns, whose number (one-hot columns) is known only
    once the preprocessing has seen the rows.
    """
    if monotone and family in TREES:
        names = pipeline.named_steps["prep"].fit(rows).get_feature_names_out()
        pipeline.named_steps["model"].set_params(monotone_constraints=monotone_constraints(names))
    return pipeline.fit(rows, y)


def build(
    family: str,
    params: dict[str, Any],
    numeric: Sequence[str],
    categories: Sequence[str],
    positive_weight: float = 1.0,
    seed: int = 0,
    threads: int = 1,
) -> Pipeline:
    """An unfitted pipeline: preprocessing then the family's classifier."""
    return Pipeline(
        [
            ("prep", preprocessor(family, numeric, categories)),
            ("model", estimator(family, params, positive_weight, seed, threads)),
        ]
    )
