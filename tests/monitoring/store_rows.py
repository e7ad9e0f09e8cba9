"""Decisions written through the real prediction store, as the API records them."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from ml import registry
from serving.store import PredictionStore, migrate

# 02:30 UTC is the evening before in New York: a dbt session in that time zone that took the
# date of the store's timestamps without turning them into UTC would put it a day early.
OLD = datetime(2026, 1, 5, 2, 30, tzinfo=UTC)


def decisions(run_id: str, stamps: list[datetime], first_id: int) -> list[dict]:
    """Store rows of one model run, as the API records them (one per timestamp)."""
    return [
        {
            "prediction_id": uuid.uuid4(),
            "request_id": f"req-{first_id + i}",
            "run_id": run_id,
            "client_id": str(first_id + i),
            "input_raw_data": {"ID": first_id + i, "Client_Income": "6750"},
            "processed_data": {"client_income": 6750.0, "city_rating": 2},
            "prediction_probability": 0.05 + 0.1 * i,
            "predicted_class": int(0.05 + 0.1 * i >= 0.3),
            "threshold": 0.3,
            "reason_codes": ["score_source_2 low"],
            "model_name": registry.MODEL_NAME,
            "model_version": "1",
            "latency_ms": 3.5,
            "prediction_timestamp": stamp,
        }
        for i, stamp in enumerate(stamps)
    ]


def record(url: str, rows: list[dict]) -> None:
    """Migrate the store and insert the rows through it."""
    migrate.upgrade(url)
    store = PredictionStore(url)
    try:
        store.insert_many(rows)
    finally:
        store.dispose()
