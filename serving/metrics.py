"""Prometheus metrics, safe under gunicorn's worker processes (PROMETHEUS_MULTIPROC_DIR).

The multiprocess folder must be set before prometheus_client is imported: gunicorn_conf.py
sets it under the data folder and empties it when the master starts.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

REQUESTS = Counter(
    "loanops_http_requests_total", "HTTP requests by endpoint, method and status",
    ["endpoint", "method", "status"],
)  # fmt: skip
LATENCY = Histogram(
    "loanops_http_request_duration_seconds", "Request latency by endpoint and status",
    ["endpoint", "method", "status"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)  # fmt: skip
SCORES = Histogram(
    "loanops_prediction_probability", "Probability of default of scored applications",
    buckets=tuple(round(0.05 * i, 2) for i in range(1, 21)),
)  # fmt: skip
BATCH_ROWS = Histogram(
    "loanops_scoring_batch_rows", "Applications scored and committed together (group commit)",
    buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048),
)  # fmt: skip
PREDICTIONS = Counter(
    "loanops_predictions_total", "Recorded predictions by model version and class",
    ["model_version", "predicted_class"],
)  # fmt: skip
DECISIONS = Counter(
    "loanops_decisions_total", "Recorded decisions by model version: approve, refer or decline",
    ["model_version", "decision"],
)  # fmt: skip
SHADOW_SCORED = Counter(
    "loanops_shadow_scored_total", "Decided applications the challenger also scored (shadow)"
)  # fmt: skip
SHADOW_DROPPED = Counter(
    "loanops_shadow_dropped_total",
    "Decided applications left unscored by the challenger because it fell behind",
)  # fmt: skip
MODEL_INFO = Gauge(
    "loanops_model_info", "The model version each worker serves (1 = serving)",
    ["model_name", "model_version", "run_id"], multiprocess_mode="liveall",
)  # fmt: skip


def observe_scores(version: str, probabilities: Sequence[float], classes: Sequence[int]) -> None:
    """Record the scores and classes of one batch."""
    ones = int(sum(int(c) for c in classes))
    for value in np.asarray(probabilities, dtype="float64").tolist():
        SCORES.observe(value)
    if ones:
        PREDICTIONS.labels(version, "1").inc(ones)
    if len(classes) - ones:
        PREDICTIONS.labels(version, "0").inc(len(classes) - ones)


def set_model(labels: tuple[str, str, str], previous: tuple[str, str, str] | None) -> None:
    """Mark the (name, version, run id) this process serves; the previous one goes to 0."""
    if previous is not None and previous != labels:
        MODEL_INFO.labels(*previous).set(0)
    MODEL_INFO.labels(*labels).set(1)


def exposition() -> tuple[bytes, str]:
    """The metrics text of all workers (or of this process when not under gunicorn)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
