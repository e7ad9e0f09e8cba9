"""A fitted fast path for one Scorer: the same numbers as the scikit-learn pipeline, less overhead.

The pipeline's `ColumnTransformer` costs milliseconds per call however few rows it gets, and the
estimators' scikit-learn wrappers add validation and threads. Serving calls the scorer for every
micro-batch, often of one row, so this module compiles the fitted pipeline once into numpy
arrays and dicts and calls the boosters directly with one thread (gunicorn's workers already
use every core):

- numbers: passed through (trees), or median-imputed with missing indicators, signed-log and
  standard-scaled (logistic) with the fitted statistics, in the same floating point operations;
- categories: a dict from each seen category to its one-hot column (unseen: all zeros);
- raw score: XGBoost `inplace_predict`, LightGBM `Booster.predict`, logistic `predict_proba`
  on the transformed matrix (what the pipeline itself calls after transforming);
- reason contributions for trees: Saabas path attribution (XGBoost's `approx_contribs`),
  precomputed per leaf and summed from the leaf each row reaches (`pred_leaf`).

`FastPath.build` checks itself against the pipeline on probe rows (junk, missing values,
unseen categories) and returns None when anything differs by a single bit, so the scorer then
falls back to the pipeline. Nothing here is pickled: it is rebuilt from the scorer when needed.
"""

from __future__ import annotations

import copy
import json
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse
from sklearn.pipeline import Pipeline

from ml import pipelines

log = logging.getLogger("ml.fastpath")

SAABAS = "saabas"
TREESHAP = "treeshap"
COEFFICIENT = "coefficient_x_value"


@dataclass
class _Numeric:
    """The fitted numeric branch (None fields for the trees' passthrough)."""

    statistics: np.ndarray | None = None  # imputation medians of the kept columns
    kept: np.ndarray | None = None  # columns the imputer keeps (non-empty in training)
    indicator: np.ndarray | None = None  # columns with a missing indicator
    mean: np.ndarray | None = None
    scale: np.ndarray | None = None

    def apply(self, values: np.ndarray) -> np.ndarray:
        """The transformed numeric block (rows x output columns)."""
        if self.statistics is None:
            return values
        assert self.kept is not None and self.indicator is not None
        assert self.mean is not None and self.scale is not None
        kept = values[:, self.kept]
        missing = np.isnan(kept)
        imputed = np.where(missing, self.statistics, kept)
        flags = np.isnan(values[:, self.indicator]).astype("float64")
        block = np.hstack([imputed, flags])
        block = pipelines._signed_log(block)
        block = block - self.mean
        block /= self.scale
        return block


def _compile_numeric(transformer: Any) -> _Numeric | None:
    """The numeric branch as arrays, or None when it is not one of the known shapes."""
    if transformer == "passthrough" or type(transformer).__name__ == "FunctionTransformer":
        if getattr(transformer, "func", None) is not None:
            return None
        return _Numeric()
    if not isinstance(transformer, Pipeline):
        return None
    steps = dict(transformer.steps)
    if list(steps) != ["impute", "log", "scale"]:
        return None
    imputer, log_step, scaler = steps["impute"], steps["log"], steps["scale"]
    if imputer.strategy != "median" or log_step.func is not pipelines._signed_log:
        return None
    if not (scaler.with_mean and scaler.with_std) or log_step.kw_args:
        return None
    if imputer.indicator_ is None or imputer.indicator_.features != "missing-only":
        return None
    statistics = np.asarray(imputer.statistics_, dtype="float64")
    kept = np.flatnonzero(~np.isnan(statistics))
    if getattr(imputer, "keep_empty_features", False):
        kept = np.arange(len(statistics))
    return _Numeric(
        statistics=statistics[kept],
        kept=kept,
        indicator=np.asarray(imputer.indicator_.features_, dtype="intp"),
        mean=np.asarray(scaler.mean_, dtype="float64"),
        scale=np.asarray(scaler.scale_, dtype="float64"),
    )


class _Trees:
    """Per-leaf Saabas contributions of a boosted ensemble, summed back to source features."""

    def __init__(self, offsets: np.ndarray, table: sparse.csr_matrix) -> None:
        self.offsets = offsets  # first global leaf row of each tree
        self.table = table  # (global leaf id) x source features

    def contributions(self, leaves: np.ndarray) -> np.ndarray:
        """Rows x source features from the leaf id each row reaches in each tree."""
        rows, trees = leaves.shape
        ids = (leaves.astype("int64") + self.offsets[None, :]).ravel()
        hits = sparse.csr_matrix(
            (np.ones(ids.size), ids, np.arange(0, ids.size + 1, trees)),
            shape=(rows, self.table.shape[0]),
        )
        return np.asarray((hits @ self.table).todense())


def _sigmoid(raw: float) -> float:
    """LightGBM's binary output, 1 / (1 + exp(-raw)), with the same libm exp (0.0 on overflow)."""
    try:
        return 1.0 / (1.0 + math.exp(-raw))
    except OverflowError:
        return 0.0


class _LeafScores:
    """A LightGBM binary model's probability from the leaves each row reaches.

    The leaves are needed for the reason codes anyway; adding their values up in tree order
    (a cumulative sum is sequential, as LightGBM's own loop) and applying the sigmoid saves the
    booster a second walk of every tree. `FastPath.build` uses it only where it proves every
    bit equal to `Booster.predict`.
    """

    def __init__(self, values: np.ndarray, offsets: np.ndarray) -> None:
        self.values = values  # leaf output by global leaf id
        self.offsets = offsets  # first global leaf id of each tree

    @classmethod
    def of(cls, booster: Any, trees: _Trees) -> _LeafScores:
        """The exact leaf outputs (doubles, from the C API) of every tree's leaf ids."""
        starts = trees.offsets.tolist()
        ends = [*starts[1:], trees.table.shape[0]]
        values: list[float] = []
        for tree, (start, end) in enumerate(zip(starts, ends, strict=True)):
            values.extend(booster.get_leaf_output(tree, leaf) for leaf in range(end - start))
        return cls(np.asarray(values, dtype="float64"), trees.offsets)

    def __call__(self, leaves: np.ndarray) -> np.ndarray:
        """Probabilities of the rows whose leaves (rows x trees) are given."""
        picked = self.values[leaves + self.offsets[None, : leaves.shape[1]]]
        raw = np.cumsum(picked, axis=1)[:, -1] if picked.shape[1] else np.zeros(len(leaves))
        return np.array([_sigmoid(x) for x in raw.tolist()], dtype="float64")


def _saabas_rows(
    nodes: dict[int, dict[str, Any]], root: int, n_leaf_ids: int, column_of: Any
) -> list[dict[int, float]]:
    """For each leaf id of one tree: {transformed column: sum of mean changes on its path}."""
    mean: dict[int, float] = {}

    def node_mean(nid: int) -> float:
        node = nodes[nid]
        if "children" not in node:
            mean[nid] = float(node["value"])
            return mean[nid]
        (left, right) = node["children"]
        total = node_mean(left) * nodes[left]["cover"] + node_mean(right) * nodes[right]["cover"]
        mean[nid] = total / node["cover"] if node["cover"] else 0.0
        return mean[nid]

    node_mean(root)
    out: list[dict[int, float]] = [{} for _ in range(n_leaf_ids)]

    def walk(nid: int, path: dict[int, float]) -> None:
        node = nodes[nid]
        if "children" not in node:
            out[node["leaf_id"]] = dict(path)
            return
        column = column_of(node["feature"])
        for child in node["children"]:
            step = dict(path)
            step[column] = step.get(column, 0.0) + mean[child] - mean[nid]
            walk(child, step)

    walk(root, {})
    return out


def _xgboost_trees(booster: Any) -> list[tuple[dict[int, dict[str, Any]], int, int]]:
    """(nodes by id, root id, number of leaf ids) per tree of an XGBoost booster."""
    names = booster.feature_names
    position = {n: i for i, n in enumerate(names)} if names else None
    trees = []
    for text in booster.get_dump(dump_format="json", with_stats=True):
        nodes: dict[int, dict[str, Any]] = {}
        stack = [json.loads(text)]
        while stack:
            item = stack.pop()
            nid = int(item["nodeid"])
            if "leaf" in item:
                nodes[nid] = {"value": item["leaf"], "cover": item["cover"], "leaf_id": nid}
                continue
            split = item["split"]
            feature = position[split] if position else int(split.removeprefix("f"))
            nodes[nid] = {
                "feature": feature,
                "cover": item["cover"],
                "children": (int(item["yes"]), int(item["no"])),
            }
            stack.extend(item["children"])
        trees.append((nodes, 0, max(nodes) + 1))
    return trees


def _lightgbm_nodes(structure: dict[str, Any]) -> dict[int, dict[str, Any]]:
    """One LightGBM tree's nodes by a running id (root 0), leaves keeping their leaf index."""
    nodes: dict[int, dict[str, Any]] = {}

    def add(item: dict[str, Any]) -> int:
        nid = len(nodes)
        if "split_index" not in item:
            leaf = int(item.get("leaf_index", 0))
            count = float(item.get("leaf_count", 0.0))
            nodes[nid] = {"value": item["leaf_value"], "cover": count, "leaf_id": leaf}
            return nid
        node: dict[str, Any] = {
            "feature": int(item["split_feature"]),
            "cover": float(item["internal_count"]),
        }
        nodes[nid] = node
        node["children"] = (add(item["left_child"]), add(item["right_child"]))
        return nid

    add(structure)
    return nodes


def _lightgbm_trees(booster: Any) -> list[tuple[dict[int, dict[str, Any]], int, int]]:
    """(nodes by id, root id, number of leaf ids) per tree of a LightGBM booster."""
    trees = []
    for info in booster.dump_model()["tree_info"]:
        nodes = _lightgbm_nodes(info["tree_structure"])
        leaves = [n["leaf_id"] for n in nodes.values() if "children" not in n]
        trees.append((nodes, 0, max(leaves) + 1))
    return trees


def _compile_trees(family: str, model: Any, aggregation: np.ndarray) -> _Trees:
    """The leaf table of a fitted tree model, already summed to source features."""
    if family == pipelines.XGBOOST:
        trees = _xgboost_trees(model.get_booster())
    else:
        trees = _lightgbm_trees(model.booster_)
    offsets, rows, cols, vals, start = [], [], [], [], 0
    for nodes, root, n_leaf_ids in trees:
        offsets.append(start)
        for leaf_id, parts in enumerate(_saabas_rows(nodes, root, n_leaf_ids, int)):
            for column, value in parts.items():
                rows.append(start + leaf_id)
                cols.append(column)
                vals.append(value)
        start += n_leaf_ids
    per_column = sparse.csr_matrix(
        (vals, (rows, cols)), shape=(start, aggregation.shape[0]), dtype="float64"
    )
    table = sparse.csr_matrix(per_column @ aggregation)
    return _Trees(np.asarray(offsets, dtype="int64"), table)


class FastPath:
    """The compiled transform, raw score and reason contributions of one fitted scorer."""

    def __init__(
        self,
        family: str,
        numeric: list[str],
        categories: list[str],
        number_block: _Numeric,
        maps: list[dict[Any, int]],
        widths: list[int],
        model: Any,
        aggregation: np.ndarray,
        reference: np.ndarray | None,
    ) -> None:
        self.family = family
        self.numeric = numeric
        self.categories = categories
        self.number_block = number_block
        self.maps = maps
        self.widths = widths
        self.model = model
        self.aggregation = aggregation
        self.reference = reference
        self.booster: Any = None
        self.trees: _Trees | None = None
        self.method = COEFFICIENT if family == pipelines.LOGISTIC else SAABAS
        if family == pipelines.XGBOOST:
            self.booster = copy.copy(model.get_booster())  # a copy: threads set for serving
            self.booster.set_param({"nthread": 1})
        elif family == pipelines.LIGHTGBM:
            self.booster = model.booster_
        self.leaf_scores: _LeafScores | None = None  # set by build() once proved identical
        if family in pipelines.TREES:
            self.trees = _compile_trees(family, model, aggregation)

    # -- the three steps -------------------------------------------------------------------
    def transform(self, gold: pd.DataFrame) -> np.ndarray:
        """What the pipeline's ColumnTransformer gives for these gold rows (float64)."""
        rows = len(gold)
        if self.numeric:
            values = gold[self.numeric].to_numpy(dtype="float64", na_value=np.nan)
            block = self.number_block.apply(np.ascontiguousarray(values))
        else:
            block = np.empty((rows, 0))
        onehot = np.zeros((rows, sum(self.widths)), dtype="float64")
        start = 0
        for name, mapping, width in zip(self.categories, self.maps, self.widths, strict=True):
            for r, value in enumerate(gold[name].tolist()):
                column = mapping.get(value)
                if column is not None:
                    onehot[r, start + column] = 1.0
            start += width
        return np.hstack([block, onehot]) if self.numeric else onehot

    def raw_scores(self, transformed: np.ndarray) -> np.ndarray:
        """The classifier's uncalibrated probability of default (as predict_proba[:, 1])."""
        if self.family == pipelines.XGBOOST:
            model = self.model
            return np.asarray(
                self.booster.inplace_predict(
                    transformed,
                    iteration_range=model._get_iteration_range(None),
                    predict_type="value",
                    missing=model.missing,
                    validate_features=False,
                )
            )
        if self.family == pipelines.LIGHTGBM:
            return np.asarray(self.booster.predict(transformed, num_threads=1))
        return self.model.predict_proba(transformed)[:, 1]

    def contributions(self, transformed: np.ndarray) -> np.ndarray:
        """Log-odds contributions per source feature (rows x features), by `self.method`."""
        if self.family == pipelines.LOGISTIC:
            assert self.reference is not None
            parts = (transformed - self.reference) * self.model.coef_[0]
            return parts @ self.aggregation
        assert self.trees is not None
        return self.trees.contributions(self.leaves(transformed))

    def scores_and_contributions(self, transformed: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """`raw_scores` and `contributions` together (one walk of the trees where proved equal)."""
        if self.leaf_scores is not None and self.trees is not None:
            leaves = self.leaves(transformed)
            return self.leaf_scores(leaves), self.trees.contributions(leaves)
        return self.raw_scores(transformed), self.contributions(transformed)

    def leaves(self, transformed: np.ndarray) -> np.ndarray:
        """The leaf id each row reaches in each tree (rows x trees)."""
        if self.family == pipelines.XGBOOST:
            import xgboost

            matrix = xgboost.DMatrix(transformed, missing=self.model.missing, nthread=1)
            leaves = self.booster.predict(
                matrix, pred_leaf=True, iteration_range=self.model._get_iteration_range(None)
            )
        else:
            leaves = self.booster.predict(transformed, pred_leaf=True, num_threads=1)
        return np.asarray(leaves, dtype="int64").reshape(len(transformed), -1)

    # -- construction ----------------------------------------------------------------------
    @classmethod
    def compile(
        cls,
        family: str,
        pipeline: Pipeline,
        numeric: list[str],
        categories: list[str],
        aggregation: np.ndarray,
        reference: np.ndarray | None,
    ) -> FastPath | None:
        """Compile the fitted pipeline, or None when its shape is not one this module knows."""
        prep, model = pipeline.named_steps["prep"], pipeline.named_steps["model"]
        fitted = {name: (t, list(cols)) for name, t, cols in prep.transformers_}
        if set(fitted) - {"num", "cat", "remainder"}:
            return None
        if "remainder" in fitted and fitted["remainder"][0] != "drop":
            return None
        num, num_cols = fitted.get("num", ("drop", []))
        cat, cat_cols = fitted.get("cat", ("drop", []))
        if num_cols != list(numeric) or cat_cols != list(categories):
            return None
        number_block = _compile_numeric(num) if numeric else _Numeric()
        if number_block is None:
            return None
        if categories:
            if cat.handle_unknown != "ignore" or cat.drop_idx_ is not None:
                return None
            if getattr(cat, "_infrequent_enabled", False):
                return None
            maps = [{v: i for i, v in enumerate(c.tolist())} for c in cat.categories_]
            widths = [len(c) for c in cat.categories_]
        else:
            maps, widths = [], []
        if family not in pipelines.FAMILIES:
            return None
        return cls(
            family,
            list(numeric),
            list(categories),
            number_block,
            maps,
            widths,
            model,
            aggregation,
            reference,
        )

    @classmethod
    def build(
        cls,
        family: str,
        pipeline: Pipeline,
        numeric: list[str],
        categories: list[str],
        aggregation: np.ndarray,
        reference: np.ndarray | None,
        probe: pd.DataFrame,
    ) -> FastPath | None:
        """Compile and prove bit-identical to the pipeline on `probe` rows; else None."""
        try:
            fast = cls.compile(family, pipeline, numeric, categories, aggregation, reference)
            if fast is None:
                return None
            features = [*numeric, *categories]
            expected = np.asarray(
                pipeline.named_steps["prep"].transform(probe[features]), dtype="float64"
            )
            got = fast.transform(probe)
            if got.shape != expected.shape or not _same_bits(got, expected):
                log.warning("fast path transform differs from the pipeline; not used")
                return None
            scores = pipeline.predict_proba(probe[features])[:, 1]
            if not _same_bits(fast.raw_scores(got), scores):
                log.warning("fast path scores differ from the pipeline; not used")
                return None
            if family == pipelines.LIGHTGBM and fast.trees is not None:
                leaf_scores = _LeafScores.of(fast.booster, fast.trees)
                if _same_bits(leaf_scores(fast.leaves(got)), scores):
                    fast.leaf_scores = leaf_scores
                else:  # e.g. another objective or sigmoid: the booster keeps scoring
                    log.info("leaf sums differ from the booster's scores; not used")
            return fast
        except Exception as exc:  # any surprise: the pipeline stays the way to score
            log.warning("fast path not built", extra={"error_type": type(exc).__name__})
            return None


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
    """Gold-shaped rows to check the fast path on: spread numbers, NaN, seen and unseen values."""
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
