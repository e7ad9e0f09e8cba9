"""Raw applications for the tests: generated rows with junk tokens, as clients send them."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from loanops.schema import APPLICATION_COLUMNS
from ml.packaging import EXAMPLE_RECORDS
from tests.serving.champion import book

JUNK = ("$", "#", "XNA", "", "NaN", "n/a", "?", "x", "#NA")


def applications(rows: int, seed: int = 1, junk_share: float = 0.05) -> list[dict[str, Any]]:
    """Generated applications (published names), some values replaced by junk tokens."""
    raw = book(rows, seed)
    rng = np.random.default_rng(seed)
    out = []
    for record in raw[list(APPLICATION_COLUMNS)].to_dict("records"):
        clean: dict[str, Any] = {}
        for key, value in record.items():
            if isinstance(value, float) and math.isnan(value):
                value = None
            elif isinstance(value, np.generic):
                value = value.item()
            if key != "ID" and rng.random() < junk_share:
                value = str(rng.choice(JUNK))
            clean[key] = value
        out.append(clean)
    return out


def example(i: int = 0) -> dict[str, Any]:
    """One of the packaged model's example applications."""
    return dict(EXAMPLE_RECORDS[i])
