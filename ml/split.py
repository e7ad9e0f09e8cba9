"""A deterministic train/validation/test split keyed on a hash of the application id.

A row's split depends on its id alone, so it never changes as the book grows and every
process (training, the promotion gate, a benchmark) agrees on which rows are test rows.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

import numpy as np

TRAIN = "train"
VALIDATION = "validation"
TEST = "test"
VALIDATION_SHARE = 0.15
TEST_SHARE = 0.20


def bucket(application_id: object) -> float:
    """A uniform number in [0, 1) from the sha256 of the id's decimal text."""
    digest = hashlib.sha256(str(int(application_id)).encode("ascii")).digest()  # type: ignore[call-overload]
    return int.from_bytes(digest[:8], "big") / 2.0**64


def assign(
    ids: Iterable[object],
    validation_share: float = VALIDATION_SHARE,
    test_share: float = TEST_SHARE,
) -> np.ndarray:
    """The split name ('train', 'validation' or 'test') of each application id."""
    buckets = np.fromiter((bucket(i) for i in ids), dtype="float64")
    names = np.full(buckets.shape, TRAIN, dtype=object)
    names[buckets < test_share + validation_share] = VALIDATION
    names[buckets < test_share] = TEST
    return names
