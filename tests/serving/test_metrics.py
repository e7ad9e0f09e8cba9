"""Bulk histogram observations export exactly what one observe() per value exports."""

from __future__ import annotations

import numpy as np
from prometheus_client import CollectorRegistry, Histogram

from serving import metrics


def _samples(histogram: Histogram) -> dict[tuple[str, str], float]:
    return {
        (sample.name, sample.labels.get("le", "")): sample.value
        for family in histogram.collect()
        for sample in family.samples
        if not sample.name.endswith("_created")
    }


def test_observe_many_equals_one_observe_per_value() -> None:
    bounds = tuple(round(0.05 * i, 2) for i in range(1, 21))
    one, many = (
        Histogram(name, "test", buckets=bounds, registry=CollectorRegistry())
        for name in ("one_by_one", "in_bulk")
    )
    rng = np.random.default_rng(3)
    values = np.concatenate([rng.random(500), np.array(bounds), [0.0, 1.0, 1e-12, 0.0500001]])
    for value in values.tolist():
        one.observe(value)
    metrics.observe_many(many, values)
    expected = {(n.replace("one_by_one", "in_bulk"), le): v for (n, le), v in _samples(one).items()}
    got = _samples(many)
    assert got.keys() == expected.keys()
    for key, value in expected.items():
        assert np.isclose(got[key], value, rtol=1e-12, atol=0), key  # the sum's rounding order
    assert got[("in_bulk_bucket", "0.05")] == expected[("in_bulk_bucket", "0.05")] > 0


def test_observe_many_falls_back_without_the_internals() -> None:
    class Plain:
        def __init__(self) -> None:
            self.seen: list[float] = []

        def observe(self, value: float) -> None:
            self.seen.append(value)

    plain = Plain()
    metrics.observe_many(plain, np.array([0.2, 0.7]))  # type: ignore[arg-type]
    assert plain.seen == [0.2, 0.7]
