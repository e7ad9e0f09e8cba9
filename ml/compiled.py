"""The fitted pipeline as plain NumPy and direct booster calls, checked when it is built.

A scikit-learn `ColumnTransformer` costs milliseconds per call however few rows it gets, and
the API scores micro-batches that often hold one application. So the fitted steps' public
attributes (the imputer's `statistics_` and `indicator_`, the scaler's `mean_` and `scale_`,
the encoder's `categories_`) are read once into arrays, and the model is called on the
transformed matrix with one thread (gunicorn's workers already use every core):

- raw score: XGBoost `inplace_predict`, LightGBM `Booster.predict`, logistic `predict_proba`;
- reason contributions: logistic coefficient x (value - training mean); XGBoost's own Saabas
  (`approx_contribs`); LightGBM's Saabas from its leaf ids (`ml.saabas`).

`Compiled.of` proves the transform and the raw scores bit-identical to the pipeline on probe
rows (junk, missing values, unseen categories) and raises `CompileError` otherwise, so a
pipeline this module cannot reproduce is never scored or packaged.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

from ml import pipelines
from ml.saabas import LeafTable

SAABAS = "saabas"
TREESHAP = "treeshap"
COEFFICIENT = "coefficient_x_value"


class CompileError(RuntimeError):
    """The fitted pipeline has a shape this module cannot reproduce exactly."""


@dataclass
class NumericSteps:
    """The fitted numeric branch: median imputation with indicators, signed log, scaling."""

    statistics: np.ndarray  # imputation medians of the kept columns
    kept: np.ndarray  # columns the imputer keeps (non-empty in training)
    indicator: np.ndarray  # columns with a missing indicator
    mean: np.ndarray
    scale: np.ndarray

    @classmethod
    def of(cls, transformer: Any) -> NumericSteps | None:
        """The branch's arrays; None for passthrough; CompileError for any other shape."""
        identity = isinstance(transformer, FunctionTransformer) and transformer.func is None
        if identity or (isinstance(transformer, str) and transformer == "passthrough"):
            return None  # a fitted ColumnTransformer holds passthrough as an identity function
        steps = dict(transformer.steps) if isinstance(transformer, Pipeline) else {}
        imputer, log, scaler = steps.get("impute"), steps.get("log"), steps.get("scale")
        known = (
            list(steps) == ["impute", "log", "scale"]
            and isinstance(imputer, SimpleImputer) and imputer.strategy == "median"
            and imputer.indicator_ is not None and imputer.indicator_.features == "missing-only"
            and isinstance(log, FunctionTransformer) and log.func is pipelines.signed_log
            and not log.kw_args
            and isinstance(scaler, StandardScaler) and scaler.with_mean and scaler.with_std
        )  # fmt: skip
        if not known:
            raise CompileError(f"unknown numeric branch {transformer!r}")
        statistics = np.asarray(imputer.statistics_, dtype="float64")  # type: ignore[union-attr]
        kept = np.flatnonzero(~np.isnan(statistics))
        if imputer.keep_empty_features:  # type: ignore[union-attr]
            kept = np.arange(len(statistics))
        return cls(
            statistics=statistics[kept],
            kept=kept,
            indicator=np.asarray(imputer.indicator_.features_, dtype="intp"),  # type: ignore[union-attr]
            mean=np.asarray(scaler.mean_, dtype="float64"),  # type: ignore[union-attr]
            scale=np.asarray(scaler.scale_, dtype="float64"),  # type: ignore[union-attr]
        )

    def apply(self, values: np.ndarray) -> np.ndarray:
        """The transformed numeric block, in the pipeline's floating point operations."""
        kept = values[:, self.kept]
        imputed = np.where(np.isnan(kept), self.statistics, kept)
        flags = np.isnan(values[:, self.indicator]).astype("float64")
        block = pipelines.signed_log(np.hstack([imputed, flags]))
        block = block - self.mean
        block /= self.scale
        return block


def _categories(encoder: Any) -> list[dict[Any, int]]:
    """Per category column, the one-hot position of each value seen in training."""
    plain = (
        isinstance(encoder, OneHotEncoder) and encoder.handle_unknown == "ignore"
        and encoder.drop is None and encoder.min_frequency is None
        and encoder.max_categories is None
    )  # fmt: skip
    if not plain:
        raise CompileError(f"unknown category branch {encoder!r}")
    return [{v: i for i, v in enumerate(c.tolist())} for c in encoder.categories_]


class Compiled:
    """The transform, raw score and reason contributions of one fitted pipeline."""

    def __init__(
        self,
        family: str,
        pipeline: Pipeline,
        numeric: list[str],
        categories: list[str],
        aggregation: np.ndarray,
        reference: np.ndarray | None,
    ) -> None:
        prep, model = pipeline.named_steps["prep"], pipeline.named_steps["model"]
        fitted = {name: (step, list(cols)) for name, step, cols in prep.transformers_}
        if set(fitted) - {"num", "cat", "remainder"} or family not in pipelines.FAMILIES:
            raise CompileError(f"unknown pipeline shape {sorted(fitted)} ({family})")
        if fitted.get("remainder", ("drop",))[0] != "drop":
            raise CompileError("the pipeline passes columns through its remainder")
        num, num_cols = fitted.get("num", ("drop", []))
        cat, cat_cols = fitted.get("cat", ("drop", []))
        if num_cols != numeric or cat_cols != categories:
            raise CompileError("the pipeline reads other columns than the scorer says")
        self.family = family
        self.numeric = numeric
        self.categories = categories
        self.steps = NumericSteps.of(num) if numeric else None
        self.maps = _categories(cat) if categories else []
        self.width = sum(len(m) for m in self.maps)
        self.model = model
        self.aggregation = aggregation
        self.reference = reference
        self.booster: Any = None
        self.leaf_table: LeafTable | None = None
        if family == pipelines.XGBOOST:
            self.booster = copy.copy(model.get_booster())  # a copy, to set one thread on it
            self.booster.set_param({"nthread": 1})
        elif family == pipelines.LIGHTGBM:
            self.booster = model.booster_

    @property
    def reason_method(self) -> str:
        """How `contributions` computes: saabas (trees) or coefficient_x_value (logistic)."""
        return COEFFICIENT if self.family == pipelines.LOGISTIC else SAABAS

    def transform(self, gold: Mapping[str, Any]) -> np.ndarray:
        """What the pipeline's ColumnTransformer gives for these gold columns (float64)."""
        rows = len(gold[self.numeric[0] if self.numeric else self.categories[0]])
        blocks = []
        if self.numeric:
            values = np.column_stack([np.asarray(gold[n], dtype="float64") for n in self.numeric])
            blocks.append(values if self.steps is None else self.steps.apply(values))
        onehot = np.zeros((rows, self.width), dtype="float64")
        start = 0
        for name, mapping in zip(self.categories, self.maps, strict=True):
            for r, value in enumerate(gold[name]):
                column = mapping.get(value)
                if column is not None:
                    onehot[r, start + column] = 1.0
            start += len(mapping)
        blocks.append(onehot)
        return np.hstack(blocks) if len(blocks) > 1 else blocks[0]

    def raw_scores(self, transformed: np.ndarray) -> np.ndarray:
        """The classifier's uncalibrated probability of default (as predict_proba[:, 1])."""
        if self.family == pipelines.XGBOOST:
            return np.asarray(self.booster.inplace_predict(transformed), dtype="float64")
        if self.family == pipelines.LIGHTGBM:
            return np.asarray(self.booster.predict(transformed, num_threads=1), dtype="float64")
        return self.model.predict_proba(transformed)[:, 1]

    def contributions(self, transformed: np.ndarray) -> np.ndarray:
        """Log-odds contributions per source feature (rows x features), by `reason_method`."""
        if self.family == pipelines.LOGISTIC:
            assert self.reference is not None
            return ((transformed - self.reference) * self.model.coef_[0]) @ self.aggregation
        if self.family == pipelines.XGBOOST:
            import xgboost

            matrix = xgboost.DMatrix(transformed, missing=self.model.missing, nthread=1)
            parts = self.booster.predict(matrix, pred_contribs=True, approx_contribs=True)
            return np.asarray(parts[:, :-1], dtype="float64") @ self.aggregation
        assert self.leaf_table is not None
        return self.leaf_table.contributions(self.booster, transformed)

    @classmethod
    def of(
        cls,
        family: str,
        pipeline: Pipeline,
        numeric: list[str],
        categories: list[str],
        aggregation: np.ndarray,
        reference: np.ndarray | None,
        probe: pd.DataFrame,
    ) -> Compiled:
        """Compile the fitted pipeline and prove it bit-identical on `probe` rows."""
        compiled = cls(family, pipeline, numeric, categories, aggregation, reference)
        features = [*numeric, *categories]
        expected = np.asarray(
            pipeline.named_steps["prep"].transform(probe[features]), dtype="float64"
        )
        got = compiled.transform(probe)
        if not _same_bits(got, expected):
            raise CompileError("the compiled transform differs from the pipeline's")
        if not _same_bits(compiled.raw_scores(got), pipeline.predict_proba(probe[features])[:, 1]):
            raise CompileError("the booster's scores differ from the pipeline's")
        if family == pipelines.LIGHTGBM:
            compiled.leaf_table = LeafTable.of(compiled.booster, aggregation, got)
        return compiled


def _same_bits(a: np.ndarray, b: np.ndarray) -> bool:
    """Equal element by element, NaN equal to NaN (no tolerance)."""
    a, b = np.asarray(a, dtype="float64"), np.asarray(b, dtype="float64")
    return a.shape == b.shape and bool(np.array_equal(a, b, equal_nan=True))


def probe_rows(
    numeric: Sequence[str],
    categories: Sequence[str],
    medians: dict[str, float],
    known: Sequence[Sequence[Any]],
    rows: int = 64,
    seed: int = 0,
) -> pd.DataFrame:
    """Gold-shaped rows to check on: spread numbers, NaN, seen and unseen categories."""
    rng = np.random.default_rng(seed)
    out: dict[str, Any] = {}
    for name in numeric:
        centre = medians.get(name, 1.0)
        spread = abs(centre) + 1.0
        values = centre + spread * rng.standard_normal(rows) * rng.choice([0.01, 1, 100], rows)
        values[rng.random(rows) < 0.2] = np.nan
        values[rng.random(rows) < 0.05] = 0.0
        out[name] = values
    for name, seen in zip(categories, known, strict=True):
        choices = [*list(seen), "unknown", "other", "never seen in training"]
        out[name] = [choices[i] for i in rng.integers(0, len(choices), rows)]
    return pd.DataFrame(out)
