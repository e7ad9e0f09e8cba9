"""The `predictions` table (the Alembic migrations create and evolve it)."""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

predictions = sa.Table(
    "predictions",
    metadata,
    sa.Column("prediction_id", sa.Uuid(), primary_key=True),
    sa.Column("request_id", sa.String(64), nullable=False),
    sa.Column("run_id", sa.String(64), nullable=True),
    sa.Column("client_id", sa.String(64), nullable=True),
    sa.Column("input_raw_data", sa.JSON(), nullable=False),
    sa.Column("processed_data", sa.JSON(), nullable=False),
    sa.Column("prediction_probability", sa.Float(), nullable=False),
    sa.Column("predicted_class", sa.Integer(), nullable=False),
    sa.Column("threshold", sa.Float(), nullable=False),
    sa.Column("reason_codes", sa.JSON(), nullable=False),
    sa.Column("model_name", sa.String(200), nullable=False),
    sa.Column("model_version", sa.String(64), nullable=False),
    sa.Column("latency_ms", sa.Float(), nullable=False),
    sa.Column("prediction_timestamp", sa.DateTime(timezone=True), nullable=False),
)
