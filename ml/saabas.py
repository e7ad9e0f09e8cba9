"""Saabas path attribution for LightGBM, from the booster's own tree dump and leaf ids.

XGBoost computes Saabas itself (`approx_contribs`); LightGBM offers only exact TreeSHAP
(`pred_contrib`), some 20 times slower per row, which is too slow for the API's batches. Along
the path a row takes in a tree, each split credits its feature with the change of the
cover-weighted mean leaf value; the credits of each leaf are summed once into a table (leaf x
source feature), and a row's contributions are the table rows of the leaves it reaches
(`Booster.predict(pred_leaf=True)`). The credits of a row add up to its raw score minus the
trees' root means; `LeafTable.of` checks that on probe rows and raises when it does not hold.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import sparse

TOLERANCE = 1e-9


class AttributionError(RuntimeError):
    """The table does not reproduce the booster's raw scores: do not package the model."""


def _nodes(structure: dict[str, Any]) -> dict[int, dict[str, Any]]:
    """One tree's nodes by a running id (root 0); leaves keep LightGBM's leaf index."""
    nodes: dict[int, dict[str, Any]] = {}

    def add(item: dict[str, Any]) -> int:
        nid = len(nodes)
        if "split_index" not in item:
            count = float(item.get("leaf_count", 0.0))
            leaf = int(item.get("leaf_index", 0))
            nodes[nid] = {"value": float(item["leaf_value"]), "cover": count, "leaf_id": leaf}
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


def _credits(nodes: dict[int, dict[str, Any]]) -> tuple[list[dict[int, float]], float]:
    """Per leaf id: {column: credit along its path}; and the tree's root mean."""
    mean: dict[int, float] = {}

    def node_mean(nid: int) -> float:
        node = nodes[nid]
        if "children" in node:
            left, right = node["children"]
            total = (
                node_mean(left) * nodes[left]["cover"] + node_mean(right) * nodes[right]["cover"]
            )
            mean[nid] = total / node["cover"] if node["cover"] else 0.0
        else:
            mean[nid] = node["value"]
        return mean[nid]

    root_mean = node_mean(0)
    leaves = [n["leaf_id"] for n in nodes.values() if "children" not in n]
    out: list[dict[int, float]] = [{} for _ in range(max(leaves) + 1)]
    stack: list[tuple[int, dict[int, float]]] = [(0, {})]
    while stack:
        nid, path = stack.pop()
        node = nodes[nid]
        if "children" not in node:
            out[node["leaf_id"]] = path
            continue
        for child in node["children"]:
            step = dict(path)
            step[node["feature"]] = step.get(node["feature"], 0.0) + mean[child] - mean[nid]
            stack.append((child, step))
    return out, root_mean


class LeafTable:
    """Saabas credits per global leaf id, already summed to source features."""

    def __init__(self, offsets: np.ndarray, table: sparse.csr_matrix, bias: float) -> None:
        self.offsets = offsets  # first global leaf id of each tree
        self.table = table  # (global leaf id) x source features
        self.bias = bias  # sum of the trees' root means

    @classmethod
    def of(cls, booster: Any, aggregation: np.ndarray, probe: np.ndarray) -> LeafTable:
        """The table of a fitted booster, checked on probe rows (transformed matrix)."""
        offsets, rows, cols, vals, start, bias = [], [], [], [], 0, 0.0
        for info in booster.dump_model()["tree_info"]:
            credits, root_mean = _credits(_nodes(info["tree_structure"]))
            offsets.append(start)
            bias += root_mean
            for leaf_id, parts in enumerate(credits):
                for column, value in parts.items():
                    rows.append(start + leaf_id)
                    cols.append(column)
                    vals.append(value)
            start += len(credits)
        per_column = sparse.csr_matrix(
            (vals, (rows, cols)), shape=(start, aggregation.shape[0]), dtype="float64"
        )
        table = cls(
            np.asarray(offsets, dtype="int64"), sparse.csr_matrix(per_column @ aggregation), bias
        )
        margin = np.asarray(booster.predict(probe, raw_score=True, num_threads=1), dtype="float64")
        total = table.contributions(booster, probe).sum(axis=1) + bias
        if not np.allclose(
            total, margin, rtol=0.0, atol=TOLERANCE * max(1.0, np.abs(margin).max())
        ):
            raise AttributionError(
                "Saabas credits do not add up to LightGBM's raw scores "
                f"(largest gap {np.abs(total - margin).max():.3g}): the tree dump was misread"
            )
        return table

    def contributions(self, booster: Any, transformed: np.ndarray) -> np.ndarray:
        """Rows x source features for the rows of a transformed matrix."""
        leaves = np.asarray(
            booster.predict(transformed, pred_leaf=True, num_threads=1), dtype="int64"
        ).reshape(len(transformed), -1)
        rows, trees = leaves.shape
        ids = (leaves + self.offsets[None, :trees]).ravel()
        hits = sparse.csr_matrix(
            (np.ones(ids.size), ids, np.arange(0, ids.size + 1, trees)),
            shape=(rows, self.table.shape[0]),
        )
        return np.asarray((hits @ self.table).todense())
